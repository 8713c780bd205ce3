import { Logger } from '@nestjs/common';
import passport from 'passport';
import { screenToken, type TokenClaimsPolicy } from '../jwt/token-screen.js';
import type { AuthenticatedUserResolver } from './authenticated-user.resolver.js';
import { AuthenticationFailure } from './authentication-failure.js';
import type { HttpRequestLike } from './http-request.js';
import { requestToken } from './request-token.js';

/** What a strategy needs besides the resolver: the claims rules and who is calling. */
export interface StrategyContext {
  policy: TokenClaimsPolicy;
  /** The grouped client address of a request (`clientKey` of `request.ip`). */
  clientOf(request: HttpRequestLike): string | undefined;
}

/**
 * The Passport strategy used when the service holds no key: the auth-service
 * itself judges the bearer token (contract endpoint 3), through the cached
 * {@link AuthenticatedUserResolver}. What needs no key is checked first (the
 * token's shape, `alg`, expiry and the claims rules), so that junk never costs
 * an upstream call.
 */
export class RemoteBearerStrategy extends passport.Strategy {
  override name = 'apex-auth-remote';
  private readonly logger = new Logger('ApexAuth');

  constructor(
    private readonly resolver: AuthenticatedUserResolver,
    private readonly context: StrategyContext,
  ) {
    super();
  }

  override authenticate(request: HttpRequestLike): void {
    const token = requestToken(request);
    if (token === undefined) return this.fail(new AuthenticationFailure('missing token'), 401);
    let expiresAt: number;
    try {
      ({ expiresAt } = screenToken(token, this.context.policy, Date.now()));
    } catch (error) {
      const refusal = error as AuthenticationFailure;
      this.logger.debug(`Token refused: ${refusal.detail}`);
      return this.fail(refusal, 401);
    }
    this.resolver.resolve(token, { expiresAt, client: this.context.clientOf(request) }).then(
      (user) => this.success(user),
      (error: unknown) =>
        error instanceof AuthenticationFailure ? this.fail(error, 401) : this.error(error as Error),
    );
  }
}
