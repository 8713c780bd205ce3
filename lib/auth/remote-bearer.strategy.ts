import passport from 'passport';
import type { AuthenticatedUserResolver } from './authenticated-user.resolver.js';
import { AuthenticationFailure } from './authentication-failure.js';
import type { HttpRequestLike } from './http-request.js';
import { requestToken } from './request-token.js';
import { unverifiedJwtExpiry } from '../client/jwt-expiry.js';

/**
 * The Passport strategy used when the service holds no key: the auth-service
 * itself judges the bearer token (contract endpoint 3), through the cached
 * {@link AuthenticatedUserResolver}.
 */
export class RemoteBearerStrategy extends passport.Strategy {
  override name = 'apex-auth-remote';

  constructor(private readonly resolver: AuthenticatedUserResolver) {
    super();
  }

  override authenticate(request: HttpRequestLike): void {
    const token = requestToken(request);
    if (token === undefined) return this.fail(new AuthenticationFailure('missing token'), 401);
    const expiresAt = unverifiedJwtExpiry(token);
    // The claim is unverified, but a token that says it has expired is refused
    // either way (expired, or forged): no need to ask the auth-service.
    if (expiresAt !== undefined && expiresAt <= Date.now()) {
      return this.fail(new AuthenticationFailure('token expired'), 401);
    }
    this.resolver.resolve(token, expiresAt).then(
      (user) => this.success(user),
      (error: unknown) =>
        error instanceof AuthenticationFailure ? this.fail(error, 401) : this.error(error as Error),
    );
  }
}
