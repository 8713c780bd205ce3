import type { KeyObject } from 'node:crypto';
import passportJwt from 'passport-jwt';
import { AuthServiceError } from '../errors/index.js';
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

/**
 * Local verification of a screened token's signature, per RFC 8725: the key is
 * chosen by the module (never by the token), the algorithm allow-list comes
 * from the key, and passport-jwt's verifier checks the signature and the time
 * claims with the configured leeway.
 */
export class SignatureCheck {
  constructor(
    private readonly keys: JwtKeySource,
    private readonly clockToleranceSeconds: number,
    private readonly watch: KeyMismatchWatch,
  ) {}

  /**
   * @throws AuthenticationFailure when the signature or a claim does not hold
   * @throws AuthServiceUnavailableError when no key can be had (the JWKS is down)
   */
  async verify(token: string, header: JwtHeader): Promise<void> {
    if (!this.keys.algorithms.includes(header.alg as JwtAlgorithm)) {
      // Not the token's own `alg` text: it is the caller's, and would end up in a log line.
      throw new AuthenticationFailure('invalid token', 'algorithm not allowed');
    }
    const key = await this.keys.keyFor(header);
    const options = {
      algorithms: [...this.keys.algorithms],
      clockTolerance: this.clockToleranceSeconds,
    };
    await new Promise<void>((resolve, reject) => {
      const done = (error: unknown): void => {
        if (error === null || error === undefined) resolve();
        else reject(error instanceof AuthServiceError ? error : refusalOf(error));
      };
      try {
        verifyJwt(token, key, options, done);
      } catch (error) {
        // jsonwebtoken throws, rather than calls back, on a signed payload such as `null`.
        done(error);
      }
    }).then(
      () => this.watch.record(true),
      (error: unknown) => {
        if (error instanceof AuthenticationFailure && error.detail === 'signature') {
          this.watch.record(false);
        }
        throw error;
      },
    );
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
