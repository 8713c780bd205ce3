import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { LoggerService } from '@nestjs/common';
import { AuthenticationFailure } from './authentication-failure.js';
import { AuthServiceUnavailableError } from '../errors/index.js';
import { algorithmsForKey, allowedAlgorithms, ASYMMETRIC_ALGORITHMS } from './jwt-algorithms.js';
import type { JwtHeader } from './token-screen.js';
import type { JwtKeySource } from './jwt-key-source.js';
import type { JwtAlgorithm } from '../module/apex-auth.options.js';

/**
 * An unknown `kid` may mean the auth-service rotated its keys, so it triggers a
 * refresh; but no more than this often, so that tokens with random `kid`s
 * cannot turn the service into a JWKS-fetching amplifier.
 */
export const JWKS_MIN_REFRESH_INTERVAL_MS = 15_000;

/**
 * Until a first JWKS has loaded (the auth-service was down when this service
 * started), every token is a `503`: retry sooner, so that the service recovers
 * about when the auth-service does rather than up to 15 s later.
 */
export const JWKS_RETRY_WHILE_EMPTY_MS = 1_000;

/** Fetches the JWKS document; the module passes its auth-service HTTP client. */
export type JwksFetcher = () => Promise<unknown>;

interface KnownKey {
  key: KeyObject;
  algorithms: readonly JwtAlgorithm[];
}

/**
 * Keys from the configured JWKS URL (and only from it: a token's own `jku` is
 * refused before this is asked). Keys are imported once per fetch; a failed
 * refresh keeps the keys already known, so a JWKS outage does not stop
 * verification of tokens signed with them.
 */
export class JwksKeySource implements JwtKeySource {
  readonly algorithms: readonly JwtAlgorithm[];
  private keys = new Map<string, KnownKey>();
  private loaded = false;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private refreshing?: Promise<void>;

  constructor(
    private readonly fetchJwks: JwksFetcher,
    configuredAlgorithms: readonly string[] | undefined,
    private readonly logger: LoggerService,
    private readonly now: () => number = Date.now,
  ) {
    this.algorithms = allowedAlgorithms(ASYMMETRIC_ALGORITHMS, configuredAlgorithms);
  }

  async warmUp(): Promise<void> {
    await this.refresh();
  }

  async keyFor(header: JwtHeader): Promise<KeyObject> {
    let found = this.lookup(header);
    const interval = this.loaded ? JWKS_MIN_REFRESH_INTERVAL_MS : JWKS_RETRY_WHILE_EMPTY_MS;
    if (found === undefined && this.now() - this.lastAttempt >= interval) {
      await this.refresh().catch((error: unknown) => {
        // Without any key there is nothing to verify with: the honest answer is 503.
        if (!this.loaded) throw error;
      });
      found = this.lookup(header);
    }
    if (found === undefined) {
      if (!this.loaded) throw new AuthServiceUnavailableError('jwks', 'connection');
      throw new AuthenticationFailure('invalid token');
    }
    if (!found.algorithms.includes(header.alg as JwtAlgorithm)) {
      throw new AuthenticationFailure('invalid token');
    }
    return found.key;
  }

  private lookup(header: JwtHeader): KnownKey | undefined {
    if (header.kid !== undefined) return this.keys.get(header.kid);
    // Without a kid, only an unambiguous key set can answer.
    return this.keys.size === 1 ? this.keys.values().next().value : undefined;
  }

  private refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async load(): Promise<void> {
    this.lastAttempt = this.now();
    const document = await this.fetchJwks();
    const entries = (document as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(entries)) {
      throw new AuthServiceUnavailableError('jwks', 'status');
    }
    const keys = new Map<string, KnownKey>();
    for (const jwk of entries as JsonWebKey[]) {
      const imported = this.importKey(jwk);
      if (imported) keys.set(String(jwk.kid), imported);
    }
    this.keys = keys;
    this.loaded = true;
  }

  private importKey(jwk: JsonWebKey): KnownKey | undefined {
    if (typeof jwk !== 'object' || jwk === null || typeof jwk.kid !== 'string') return undefined;
    // A key published for something else (encryption, or operations without `verify`) never verifies.
    if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
    const ops = (jwk as { key_ops?: unknown }).key_ops;
    if (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify'))) return undefined;
    try {
      const key = createPublicKey({ key: jwk, format: 'jwk' });
      const keyAllows = algorithmsForKey(key, `jwks key ${jwk.kid}`).filter((alg) =>
        this.algorithms.includes(alg),
      );
      const algorithms =
        typeof jwk.alg === 'string' ? keyAllows.filter((alg) => alg === jwk.alg) : keyAllows;
      return algorithms.length > 0 ? { key, algorithms } : undefined;
    } catch (error) {
      this.logger.warn?.(
        `Ignoring JWKS key ${JSON.stringify(jwk.kid)}: ${error instanceof Error ? error.message : 'unusable'}`,
        'ApexAuth',
      );
      return undefined;
    }
  }
}
