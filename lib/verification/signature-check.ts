import type { KeyObject } from 'node:crypto';
import passportJwt from 'passport-jwt';
import type { JwtAlgorithm } from '../module/apex-auth.options.js';
import { AuthenticationFailure, refusalOf } from './authentication-failure.js';
import type { JwtKeySource } from './jwt-keys.js';
import type { JwtHeader } from './token-screen.js';
import { Logger, type LoggerService } from '@nestjs/common';

/** passport-jwt's own verification step (jsonwebtoken's `verify`), which its Strategy runs. */
type JwtVerifier = (
  token: string,
  key: KeyObject,
  options: { algorithms: JwtAlgorithm[]; clockTolerance: number },
  done: (error: unknown, payload?: unknown) => void,
) => void;
const verifyJwt = (passportJwt.Strategy as unknown as { JwtVerifier: JwtVerifier }).JwtVerifier;

/** What the verifier's callback is given before it answers. */
const UNANSWERED = Symbol('unanswered');

/**
 * Local verification of a screened token's signature, per RFC 8725: the key is
 * chosen by the module (never by the token), the algorithm allow-list comes
 * from the key, and passport-jwt's verifier checks the signature and the time
 * claims with the configured leeway. Synchronous with a configured key: a new
 * token of a known user is judged without an await.
 */
export class SignatureCheck {
  private readonly options: Parameters<JwtVerifier>[2];

  constructor(
    private readonly keys: JwtKeySource,
    clockToleranceSeconds: number,
    private readonly watch: KeyMismatchWatch,
  ) {
    // jsonwebtoken copies its options before it writes to them: one object serves every token.
    this.options = { algorithms: [...keys.algorithms], clockTolerance: clockToleranceSeconds };
  }

  /**
   * @throws AuthenticationFailure when the signature or a claim does not hold
   * @throws AuthServiceUnavailableError when no key can be had (the JWKS is down);
   *   a promise when the key is the JWKS's
   */
  verify(token: string, header: JwtHeader): void | Promise<void> {
    if (!this.keys.algorithms.includes(header.alg as JwtAlgorithm)) {
      // Not the token's own `alg` text: it is the caller's, and would end up in a log line.
      throw new AuthenticationFailure('invalid token', 'algorithm not allowed');
    }
    const key = this.keys.keyFor(header);
    return key instanceof Promise
      ? key.then((found) => this.check(token, found))
      : this.check(token, key);
  }

  private check(token: string, key: KeyObject): void {
    let outcome: unknown = UNANSWERED;
    const done = (error: unknown): void => {
      if (outcome === UNANSWERED) outcome = error ?? null;
    };
    try {
      verifyJwt(token, key, this.options, done);
    } catch (error) {
      // jsonwebtoken throws, rather than calls back, on a signed payload such as `null`.
      done(error);
    }
    if (outcome === null) return this.watch.record(true);
    // Handed a key (not a function), jsonwebtoken answers before it returns: no answer is no verification.
    const refusal = refusalOf(outcome === UNANSWERED ? undefined : outcome);
    if (refusal.detail === 'signature') this.watch.record(false);
    throw refusal;
  }
}

/** Tokens whose signature was checked that it takes to tell a wrong key from bad luck. */
export const KEY_MISMATCH_SAMPLE = 20;

/**
 * Tells operators when the configured key is probably not the auth-service's:
 * if every one of the first {@link KEY_MISMATCH_SAMPLE} tokens whose signature
 * was checked since startup failed that check, every request of the service
 * is answering `401`, and one `warn` line says why.
 */
export class KeyMismatchWatch {
  private checked = 0;
  private failed = 0;

  constructor(
    private readonly option: string,
    private readonly logger: Pick<LoggerService, 'warn'> = new Logger('ApexAuth'),
  ) {}

  /** Records the signature check of one token. */
  record(signatureValid: boolean): void {
    if (this.checked >= KEY_MISMATCH_SAMPLE) return;
    this.checked++;
    if (!signatureValid) this.failed++;
    if (this.checked === KEY_MISMATCH_SAMPLE && this.failed === KEY_MISMATCH_SAMPLE) {
      this.logger.warn(
        `The signatures of all of the first ${KEY_MISMATCH_SAMPLE} tokens verified since startup were wrong: ` +
          `${this.option} probably does not match the auth-service's signing key`,
      );
    }
  }
}
