import { Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { bearerTokenOf, type BearerCredential } from '../auth/bearer-token.js';
import { addressOf, type HttpRequestLike } from '../auth/http-request.js';
import { httpRefusalOf } from '../auth/http-refusals.js';
import { AuthenticationFailure } from './authentication-failure.js';
import type { TokenVerifier } from './token-verifier.js';
import type { AuthenticatedUser } from './user-lookup.js';

type Verified = (error: unknown, user?: AuthenticatedUser<object> | false, info?: unknown) => void;

/**
 * A Passport strategy that reads the request's bearer token, with the module's
 * rules, and hands it to its verify callback. No token is a `fail` (not an
 * error), so that `AuthGuard(['apex-auth', 'other'])` goes on to the next one.
 */
class BearerTokenStrategy extends passport.Strategy {
  constructor(
    override readonly name: string,
    private readonly verifyToken: (
      request: HttpRequestLike,
      credential: BearerCredential,
      done: Verified,
    ) => void,
  ) {
    super();
  }

  override authenticate(request: HttpRequestLike): void {
    const bearer = bearerTokenOf(request);
    if (!('credential' in bearer)) {
      const reason = bearer.problem === 'missing' ? 'missing token' : 'invalid token';
      return this.fail(new AuthenticationFailure(reason), 401);
    }
    this.verifyToken(request, bearer.credential, (error, user, info) => {
      if (error instanceof AuthenticationFailure) return this.fail(error, 401);
      if (error !== null && error !== undefined) return this.error(error);
      if (user === false || user === undefined)
        return this.fail(info as AuthenticationFailure, 401);
      return this.success(user);
    });
  }
}

/** The live registrations of each strategy name in this process. */
const registrations = new Map<string, Set<ApexAuthStrategy>>();

/**
 * The module's Passport strategy. It verifies through the module's
 * {@link TokenVerifier}; a refusal of the auth-service becomes the `503` or
 * `429` to answer.
 *
 * Registered twice. With a Passport instance of its own, which `ApexAuthGuard`
 * goes through: whatever else registers, no other app's strategy can ever
 * stand in for this one. And, once the app has started, with Passport itself
 * under the registration's `strategyName` (default `'apex-auth'`), so that
 * `AuthGuard('apex-auth')` of `@nestjs/passport`, alone or combined with a
 * strategy of the app's, authenticates exactly as `ApexAuthGuard` does. Two
 * registrations alive in one process under one name (two apps in a test run)
 * never share it: the name is then withdrawn from Passport, with a warning,
 * until one of them stops; `ApexAuthGuard` is not affected.
 */
export class ApexAuthStrategy
  extends PassportStrategy(BearerTokenStrategy)
  implements OnApplicationBootstrap, OnModuleDestroy
{
  private ownPassport?: passport.PassportStatic;
  private readonly logger = new Logger('ApexAuth');

  constructor(
    private readonly verifier: TokenVerifier,
    readonly strategyName: string,
  ) {
    super(strategyName);
  }

  /** This registration's own Passport instance (where the mixin registers the strategy). */
  getPassportInstance(): passport.PassportStatic {
    // Called from the mixin's constructor, before this class's fields exist: made on first use.
    this.ownPassport ??= new passport.Passport() as passport.PassportStatic;
    return this.ownPassport;
  }

  /** What Passport's verify callback does: the token's user, or the refusal to answer. */
  async validate(
    request: HttpRequestLike,
    credential: BearerCredential,
  ): Promise<AuthenticatedUser<object>> {
    try {
      return await this.verifier.verify(credential, { clientAddress: addressOf(request) });
    } catch (error) {
      throw httpRefusalOf(error);
    }
  }

  onApplicationBootstrap(): void {
    const live = registrations.get(this.strategyName) ?? new Set<ApexAuthStrategy>();
    registrations.set(this.strategyName, live);
    live.add(this);
    if (live.size === 1) {
      passport.use(this.strategyName, this);
      return;
    }
    passport.unuse(this.strategyName);
    this.logger.warn(
      `${live.size} ApexAuthModule registrations alive in this process use the strategy name "${this.strategyName}": ` +
        `AuthGuard('${this.strategyName}') is refused until only one is left (ApexAuthGuard is not affected); ` +
        'give each registration its own strategyName',
    );
  }

  /** Lets go of the name; a registration left alone with it gets it back. */
  onModuleDestroy(): void {
    const live = registrations.get(this.strategyName);
    if (live === undefined || !live.delete(this)) return;
    if (live.size === 0) {
      registrations.delete(this.strategyName);
      passport.unuse(this.strategyName);
    } else if (live.size === 1) {
      passport.use(this.strategyName, [...live][0]);
    }
  }
}
