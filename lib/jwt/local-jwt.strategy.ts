import { Logger } from '@nestjs/common';
import passportJwt, { type StrategyOptionsWithRequest } from 'passport-jwt';
import { AuthenticationFailure } from '../auth/authentication-failure.js';
import type { AuthenticatedUserResolver } from '../auth/authenticated-user.resolver.js';
import type { HttpRequestLike } from '../auth/http-request.js';
import type { StrategyContext } from '../auth/remote-bearer.strategy.js';
import { requestToken } from '../auth/request-token.js';
import { AuthServiceError } from '../errors/index.js';
import type { JwtKeySource } from './jwt-key-source.js';
import type { JwtAlgorithm } from './jwt-verification.options.js';
import type { KeyMismatchWatch } from './key-mismatch.watch.js';
import { screenToken } from './token-screen.js';
import { refusalOf } from './verification-failure.js';

/** How local verification is set up, checked at startup. */
export interface LocalJwtSettings {
  keys: JwtKeySource;
  clockToleranceSeconds: number;
  watch: KeyMismatchWatch;
}

/**
 * `passport-jwt`'s strategy, set up per RFC 8725: the token is screened first
 * (shape, `alg`, the header parameters that would pick a key, the claims
 * rules), the key is chosen by the module (never by the token), and the
 * algorithm allow-list comes from the key. The verified token then goes to the
 * auth-service once (user and metadata), through the cache. Every refusal is
 * logged at `debug` with the check that failed.
 */
export class LocalJwtStrategy extends passportJwt.Strategy {
  private readonly logger = new Logger('ApexAuth');

  constructor(
    private readonly settings: LocalJwtSettings,
    context: StrategyContext,
    resolver: AuthenticatedUserResolver,
  ) {
    const { keys, watch } = settings;
    const options: StrategyOptionsWithRequest = {
      jwtFromRequest: (request: HttpRequestLike) => requestToken(request) ?? null,
      secretOrKeyProvider: (_request, rawToken: string, done) => {
        try {
          const { header } = screenToken(rawToken, context.policy, Date.now());
          if (!keys.algorithms.includes(header.alg as JwtAlgorithm)) {
            throw new AuthenticationFailure('invalid token', `algorithm ${header.alg} not allowed`);
          }
          // jsonwebtoken takes a KeyObject; passport-jwt's types only know strings
          // and Buffers, which jsonwebtoken would re-import on every verify.
          const key = keys.keyFor(header) as unknown as Buffer | Promise<Buffer>;
          if (key instanceof Promise) key.then((found) => verifyWith(found), done);
          else verifyWith(key);
        } catch (error) {
          done(error);
        }
        // `done` runs jsonwebtoken's verify, which throws (rather than calling back)
        // on a signed payload such as `null`: a refusal, in the sync and async path alike.
        function verifyWith(key: Buffer): void {
          try {
            done(null, key);
          } catch (error) {
            done(error);
          }
        }
      },
      algorithms: [...keys.algorithms],
      jsonWebTokenOptions: { clockTolerance: settings.clockToleranceSeconds },
      passReqToCallback: true,
    };
    super(options, (request, payload: unknown, done) => {
      // Here the signature held: the key fits.
      watch.record(true);
      const exp = (payload as { exp?: unknown } | null)?.exp;
      // Screened before; a signed payload is checked once more for what the screen read.
      if (typeof exp !== 'number') {
        return done(null, false, new AuthenticationFailure('invalid token', 'no exp'));
      }
      const httpRequest = request as HttpRequestLike;
      resolver
        .resolve(requestToken(httpRequest)!, {
          expiresAt: exp * 1000,
          client: context.clientOf(httpRequest),
        })
        .then(
          (user) => done(null, user),
          (error: unknown) =>
            error instanceof AuthenticationFailure ? done(null, false, error) : done(error, false),
        );
    });
  }

  /** passport-jwt's, with every refusal explained (in words of ours) before it is reported. */
  override authenticate(request: HttpRequestLike, options?: object): void {
    // `this` is the per-request object Passport made from the strategy, with its own `fail`.
    const fail = this.fail.bind(this) as (challenge: unknown, status?: number) => void;
    this.fail = ((cause: unknown) => {
      // The keys could not be had (JWKS down): no verdict on the token, a 503.
      if (cause instanceof AuthServiceError) return fail(cause, 503);
      const refusal = refusalOf(cause);
      if (refusal.detail === 'signature') this.settings.watch.record(false);
      this.logger.debug(`Token refused: ${refusal.detail}`);
      return fail(refusal, 401);
    }) as typeof this.fail;
    super.authenticate(request as Parameters<passportJwt.Strategy['authenticate']>[0], options);
  }
}
