import passportJwt, { type StrategyOptionsWithRequest } from 'passport-jwt';
import { AuthenticationFailure } from '../auth/authentication-failure.js';
import type { AuthenticatedUserResolver } from '../auth/authenticated-user.resolver.js';
import type { HttpRequestLike } from '../auth/http-request.js';
import { requestToken } from '../auth/request-token.js';
import { readJwtHeader } from './jwt-header.js';
import type { JwtKeySource } from './jwt-key-source.js';
import type { JwtAlgorithm } from './jwt-verification.options.js';

/** The claims checks of local verification, already checked at startup. */
export interface LocalJwtClaims {
  issuer?: string | string[];
  audience?: string | string[];
  clockToleranceSeconds: number;
}

/**
 * `passport-jwt`'s strategy, set up per RFC 8725: the header is screened and
 * the key chosen by the module (never by the token), the algorithm allow-list
 * comes from the key, and `exp` is required. The verified token then goes to
 * the auth-service once (user and metadata), through the cache.
 */
export function createLocalJwtStrategy(
  keys: JwtKeySource,
  claims: LocalJwtClaims,
  resolver: AuthenticatedUserResolver,
): passportJwt.Strategy {
  const options: StrategyOptionsWithRequest = {
    jwtFromRequest: (request: HttpRequestLike) => requestToken(request) ?? null,
    secretOrKeyProvider: (_request, rawToken: string, done) => {
      try {
        const header = readJwtHeader(rawToken);
        if (!keys.algorithms.includes(header.alg as JwtAlgorithm)) {
          throw new AuthenticationFailure('invalid token');
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
    // passport-jwt overwrites these three inside jsonWebTokenOptions with its
    // own top-level options, so they must be given here to take effect.
    algorithms: [...keys.algorithms],
    issuer: claims.issuer,
    audience: claims.audience,
    jsonWebTokenOptions: { clockTolerance: claims.clockToleranceSeconds },
    passReqToCallback: true,
  };
  return new passportJwt.Strategy(options, (request, payload: unknown, done) => {
    const exp = (payload as { exp?: unknown } | null)?.exp;
    // jsonwebtoken accepts a token without `exp`; a token that never expires is refused here.
    if (typeof exp !== 'number')
      return done(null, false, new AuthenticationFailure('invalid token'));
    resolver.resolve(requestToken(request as HttpRequestLike)!, exp * 1000).then(
      (user) => done(null, user),
      (error: unknown) =>
        error instanceof AuthenticationFailure ? done(null, false, error) : done(error, false),
    );
  });
}
