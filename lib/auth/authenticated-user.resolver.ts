import type { AuthApi } from '../client/index.js';
import { tokenKey } from '../cache/token-key.js';
import { TtlCache } from '../cache/ttl-cache.js';
import type { ServiceUserInfo, User } from '../entities/index.js';
import {
  AuthServiceForbiddenError,
  AuthServiceNotFoundError,
  AuthServiceUnauthorizedError,
} from '../errors/index.js';
import type { PermissionSchema } from '../permissions/index.js';
import type { AuthenticatedUser } from './authenticated-user.js';
import { AuthenticationFailure } from './authentication-failure.js';

/** How validated users are cached; `false` in the options turns caching off. */
export interface UserCacheSettings {
  /** How long a validated user is reused (never past the token's `exp`). */
  ttlMs: number;
  maxEntries: number;
  /** How long a token the auth-service refused is refused without asking again. */
  negativeTtlMs: number;
  negativeMaxEntries: number;
}

/**
 * Turns a token into the {@link AuthenticatedUser} it belongs to, asking the
 * auth-service at most once per token and cache lifetime: results are cached by
 * a hash of the token, and concurrent requests with the same token share one
 * upstream lookup. Failures of the auth-service are never cached.
 */
export class AuthenticatedUserResolver<T extends object = object> {
  private readonly users?: TtlCache<AuthenticatedUser<T>>;
  private readonly refused?: TtlCache<true>;
  private readonly inFlight = new Map<string, Promise<AuthenticatedUser<T>>>();

  constructor(
    private readonly authApi: AuthApi<T>,
    private readonly schema: PermissionSchema<T> | undefined,
    private readonly cache: UserCacheSettings | false,
    private readonly now: () => number = Date.now,
  ) {
    if (cache) {
      this.users = new TtlCache(cache.maxEntries, now);
      this.refused = new TtlCache(cache.negativeMaxEntries, now);
    }
  }

  /**
   * The user a token belongs to.
   *
   * @param expiresAt - when the token expires (epoch ms), bounding the cache lifetime
   * @throws AuthenticationFailure when the auth-service refuses the token
   * @throws AuthServiceError (unavailable, invalid payload) when it cannot say
   */
  resolve(token: string, expiresAt?: number): Promise<AuthenticatedUser<T>> {
    const key = tokenKey(token);
    const cached = this.users?.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    if (this.refused?.get(key)) return Promise.reject(new AuthenticationFailure('invalid token'));
    let lookup = this.inFlight.get(key);
    if (lookup === undefined) {
      lookup = this.lookUp(token, key, expiresAt).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, lookup);
    }
    return lookup;
  }

  /**
   * The user of a token validated before and still cached: the warm path of
   * every request, a hash and a map lookup. A cached token was verified (and
   * vouched for by the auth-service) byte for byte, so it need not be again.
   */
  cached(token: string): AuthenticatedUser<T> | undefined {
    return this.users?.get(tokenKey(token));
  }

  /** Forgets a token, so that its next use asks the auth-service again. */
  evict(token: string): void {
    const key = tokenKey(token);
    this.users?.delete(key);
    this.refused?.delete(key);
  }

  /** The cached users, for inspection. */
  cachedUsers(): AuthenticatedUser<T>[] {
    return this.users ? [...this.users.values()] : [];
  }

  private async lookUp(
    token: string,
    key: string,
    expiresAt?: number,
  ): Promise<AuthenticatedUser<T>> {
    try {
      const client = this.authApi.forToken(token);
      const user = await client.user();
      const info = await client.fullMetadataFor(user.id).catch((error: unknown) => {
        // Not a user of this service (yet): they have the schema's defaults.
        if (error instanceof AuthServiceNotFoundError) return undefined;
        throw error;
      });
      const authenticated = this.authenticatedUser(user, info);
      if (this.cache && this.users) {
        const tokenEnd = expiresAt ?? Number.POSITIVE_INFINITY;
        this.users.set(key, authenticated, Math.min(this.now() + this.cache.ttlMs, tokenEnd));
      }
      return authenticated;
    } catch (error) {
      if (
        error instanceof AuthServiceUnauthorizedError ||
        error instanceof AuthServiceForbiddenError
      ) {
        if (this.cache && this.refused)
          this.refused.set(key, true, this.now() + this.cache.negativeTtlMs);
        throw new AuthenticationFailure('invalid token');
      }
      throw error;
    }
  }

  private authenticatedUser(
    user: User,
    info: ServiceUserInfo<T> | undefined,
  ): AuthenticatedUser<T> {
    const metadata = info?.metadata ?? this.schema?.readMetadata({}) ?? ({} as T);
    // An explicit allow-list: whatever else the client's User carries stays out
    // of the cache; frozen, because one cached object serves many requests.
    return Object.freeze({
      id: user.id,
      username: user.username,
      firstName: user.firstName,
      lastName: user.lastName,
      email: user.email,
      phoneNumber: user.phoneNumber,
      isAdmin: user.isAdmin,
      isServiceAdmin: info?.isServiceAdmin ?? false,
      metadata: Object.freeze(metadata),
    });
  }
}
