import { createPublicKey, KeyObject, type JsonWebKey, type webcrypto } from 'node:crypto';
import type { LoggerService } from '@nestjs/common';
import { createRemoteJWKSet, customFetch, errors } from 'jose';
import { AuthServiceError, AuthServiceUnavailableError } from '../errors/index.js';
import type { JwtAlgorithm } from '../module/apex-auth.options.js';
import { AuthenticationFailure } from './authentication-failure.js';
import {
  algorithmsForKey,
  allowedAlgorithms,
  ASYMMETRIC_ALGORITHMS,
  type JwtKeySource,
} from './jwt-keys.js';
import type { JwtHeader } from './token-screen.js';

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

/** Fetches the JWKS document at a URL: the module passes its auth-service HTTP client. */
export type JwksFetcher = (url: URL) => Promise<unknown>;

/**
 * Keys from the configured JWKS URL, and only from it (a token's own `jku` is
 * refused before this is asked). `jose`'s remote key set fetches, caches and
 * selects them: by `kid`, a key whose `alg`, `use` (`sig`) and `key_ops`
 * (`verify`) fit, never an ambiguous one; it refetches on an unknown `kid` at
 * most every 15 s, and keeps the keys it has through a failed refresh, so a
 * JWKS outage does not stop verification of tokens signed with them. Our rules
 * on top: every fetch goes through the module's HTTP client (no redirects, the
 * time budget, the circuit breaker); an RSA key shorter than 2048 bits, or one
 * whose kind does not fit the token's algorithm, is never used; and until a
 * first set has loaded, a fetch is tried at most every second.
 */
export class JwksKeySource implements JwtKeySource {
  readonly algorithms: readonly JwtAlgorithm[];
  private readonly keySet: ReturnType<typeof createRemoteJWKSet>;
  private readonly keyObjects = new WeakMap<object, KeyObject>();
  private readonly refusedKeys = new Set<string>();
  private lastEmptyAttempt = Number.NEGATIVE_INFINITY;

  constructor(
    jwksUri: URL,
    fetchJwks: JwksFetcher,
    configuredAlgorithms: readonly string[] | undefined,
    private readonly logger: LoggerService,
  ) {
    this.algorithms = allowedAlgorithms(ASYMMETRIC_ALGORITHMS, configuredAlgorithms);
    this.keySet = createRemoteJWKSet(jwksUri, {
      cooldownDuration: JWKS_MIN_REFRESH_INTERVAL_MS,
      // Never stale by age: a set is replaced only by one that loaded.
      cacheMaxAge: Number.POSITIVE_INFINITY,
      [customFetch]: async (url: string) => {
        const document = await fetchJwks(new URL(url));
        this.reportUnusableKeys(document);
        return new Response(JSON.stringify(document), {
          status: 200,
          headers: { 'content-type': 'application/json' },
        });
      },
    });
  }

  /** Loads the set ahead of the first token. */
  async warmUp(): Promise<void> {
    this.lastEmptyAttempt = Date.now();
    await this.keySet.reload().catch((error: unknown) => {
      throw unavailable(error);
    });
  }

  async keyFor(header: JwtHeader): Promise<KeyObject> {
    const loaded = this.keySet.fresh;
    if (!loaded) {
      if (Date.now() - this.lastEmptyAttempt < JWKS_RETRY_WHILE_EMPTY_MS) {
        throw new AuthServiceUnavailableError('jwks', 'connection');
      }
      this.lastEmptyAttempt = Date.now();
    }
    let found: unknown;
    try {
      found = await this.keySet({
        alg: header.alg,
        ...(header.kid === undefined ? {} : { kid: header.kid }),
      });
    } catch (error) {
      // Without any key there is nothing to verify with: the honest answer is 503.
      if (!this.keySet.fresh) throw unavailable(error);
      // With keys loaded, a token none of them fits is refused (a failed refresh changes nothing).
      throw new AuthenticationFailure('invalid token', 'no key of the JWKS fits');
    }
    return this.usable(found as webcrypto.CryptoKey, header);
  }

  /** The key as jsonwebtoken takes it, once it is known to be strong enough and of the right kind. */
  private usable(found: webcrypto.CryptoKey, header: JwtHeader): KeyObject {
    let key = this.keyObjects.get(found);
    if (key === undefined) {
      key = KeyObject.from(found);
      this.keyObjects.set(found, key);
    }
    let fits: readonly JwtAlgorithm[];
    try {
      fits = algorithmsForKey(key, `jwks key ${header.kid ?? '(no kid)'}`);
    } catch (error) {
      this.warnOnce(header.kid, error);
      throw new AuthenticationFailure('invalid token', 'unusable key');
    }
    if (!fits.includes(header.alg as JwtAlgorithm)) {
      throw new AuthenticationFailure('invalid token', 'algorithm not allowed');
    }
    return key;
  }

  /** Says, as a set arrives, which of its keys will never be used and why (a short RSA key, say). */
  private reportUnusableKeys(document: unknown): void {
    const keys = (document as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys)) return;
    for (const jwk of keys as JsonWebKey[]) {
      if (typeof jwk !== 'object' || jwk === null || jwk.kty === 'oct') continue;
      try {
        algorithmsForKey(
          createPublicKey({ key: jwk, format: 'jwk' }),
          `jwks key ${String(jwk.kid)}`,
        );
      } catch (error) {
        this.warnOnce(typeof jwk.kid === 'string' ? jwk.kid : undefined, error);
      }
    }
  }

  private warnOnce(kid: string | undefined, error: unknown): void {
    const name = kid ?? '';
    if (this.refusedKeys.has(name)) return;
    this.refusedKeys.add(name);
    this.logger.warn?.(
      `Ignoring JWKS key ${JSON.stringify(kid ?? null)}: ${error instanceof Error ? error.message : 'unusable'}`,
      'ApexAuth',
    );
  }
}

/** A failed fetch, as the module reports it: our own error when it was one, else unavailable. */
function unavailable(error: unknown): AuthServiceError {
  if (error instanceof AuthServiceError) return error;
  // A set that loaded but says nothing usable (no `keys`, not JSON) is a broken answer.
  const status = error instanceof errors.JOSEError ? 'status' : 'connection';
  return new AuthServiceUnavailableError('jwks', status);
}
