import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { AuthApi } from '../client/index.js';
import { tokenKey } from '../cache/token-key.js';
import type { ServiceUserInfo, User } from '../entities/index.js';
import {
  AuthServiceForbiddenError,
  AuthServiceNotFoundError,
  AuthServicePayloadError,
  AuthServiceUnauthorizedError,
  AuthServiceUnavailableError,
} from '../errors/index.js';
import type { PermissionSchema } from '../permissions/index.js';
import type { AuthenticatedUser } from './authenticated-user.js';
import { AuthenticationFailure } from './authentication-failure.js';
import { LookupBudget, type LookupLimit } from './lookup-budget.js';

/** How validated users are cached; `false` in the options turns caching off. */
export interface UserCacheSettings {
  /** How long a validated user is reused (never past the token's `exp`). */
  ttlMs: number;
  maxEntries: number;
  /** How long a token the auth-service refused is refused without asking again. */
  negativeTtlMs: number;
  negativeMaxEntries: number;
  /**
   * How long past `ttlMs` a user is still served while the auth-service is
   * unavailable (never past the token's `exp`).
   */
  staleIfErrorMs: number;
}

/** Where a token's lookup comes from and how long it may live. */
export interface LookupRequest {
  /** When the token expires (epoch ms), bounding every cache lifetime. */
  expiresAt?: number;
  /** The client address the token came with, grouped (see `clientKey`). */
  client?: string;
}

interface CachedUser<T extends object> {
  user: AuthenticatedUser<T>;
  /** Served without asking until then. */
  freshUntil: number;
}

/**
 * Turns a token into the {@link AuthenticatedUser} it belongs to, asking the
 * auth-service at most once per token and cache lifetime: results are cached by
 * a hash of the token, and concurrent requests with the same token share one
 * upstream lookup. Failures of the auth-service are never cached; while it is
 * unavailable, users whose cache lifetime ran out are served for a bounded
 * grace. Tokens the auth-service refuses are bounded per client address.
 */
export class AuthenticatedUserResolver<T extends object = object> {
  private readonly users?: LRUCache<string, CachedUser<T>>;
  private readonly refused?: LRUCache<string, true>;
  private readonly inFlight = new Map<string, Promise<AuthenticatedUser<T>>>();
  private readonly budget?: LookupBudget;
  private readonly logger = new Logger('ApexAuth');
  private servingStale = false;

  constructor(
    private readonly authApi: AuthApi<T>,
    private readonly schema: PermissionSchema<T> | undefined,
    private readonly cache: UserCacheSettings | false,
    lookupLimit: LookupLimit | false = false,
    private readonly now: () => number = Date.now,
  ) {
    if (cache) {
      this.users = new LRUCache({ max: cache.maxEntries, perf: { now } });
      this.refused = new LRUCache({ max: cache.negativeMaxEntries, perf: { now } });
    }
    if (lookupLimit) this.budget = new LookupBudget(lookupLimit, now);
  }

  /**
   * The user a token belongs to.
   *
   * @throws AuthenticationFailure when the auth-service refuses the token
   * @throws TooManyTokenLookupsError when the client spent its budget of new tokens
   * @throws AuthServiceError (unavailable, invalid payload) when it cannot say
   */
  resolve(token: string, request: LookupRequest = {}): Promise<AuthenticatedUser<T>> {
    const key = tokenKey(token);
    const entry = this.users?.get(key);
    if (entry !== undefined && this.now() < entry.freshUntil) return Promise.resolve(entry.user);
    if (this.refused?.get(key)) {
      return Promise.reject(new AuthenticationFailure('invalid token', 'refused recently'));
    }
    let lookup = this.inFlight.get(key);
    if (lookup === undefined) {
      // A token seen before (its entry went stale) is no new token: it costs the budget nothing.
      const budget = entry === undefined ? this.budget : undefined;
      const refusal = budget?.hold(request.client);
      if (refusal !== undefined) return Promise.reject(refusal);
      lookup = this.lookUp(token, key, request, entry)
        .then(
          (user) => {
            budget?.release(request.client);
            return user;
          },
          (error: unknown) => {
            // Only a refused token spends the budget for good.
            if (!(error instanceof AuthenticationFailure)) budget?.release(request.client);
            throw error;
          },
        )
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, lookup);
    }
    return lookup;
  }

  /**
   * The user of a token validated before and still fresh in the cache: the
   * warm path of every request, a hash and a map lookup. A cached token was
   * verified (and vouched for by the auth-service) byte for byte, so it need
   * not be again.
   */
  cached(token: string): AuthenticatedUser<T> | undefined {
    const entry = this.users?.get(tokenKey(token));
    return entry !== undefined && this.now() < entry.freshUntil ? entry.user : undefined;
  }

  /** Forgets a token, so that its next use asks the auth-service again. */
  evict(token: string): void {
    const key = tokenKey(token);
    this.users?.delete(key);
    this.refused?.delete(key);
  }

  /** The cached users, for inspection. */
  cachedUsers(): AuthenticatedUser<T>[] {
    return this.users ? [...this.users.values()].map((entry) => entry.user) : [];
  }

  private async lookUp(
    token: string,
    key: string,
    { expiresAt, client }: LookupRequest,
    stale: CachedUser<T> | undefined,
  ): Promise<AuthenticatedUser<T>> {
    let authenticated: AuthenticatedUser<T>;
    try {
      const upstream = this.authApi.forToken(token, { caller: client });
      const user = await upstream.user();
      const info = await upstream.fullMetadataFor(user.id).catch((error: unknown) => {
        // Not a user of this service (yet): they have the schema's defaults.
        if (error instanceof AuthServiceNotFoundError) return undefined;
        throw error;
      });
      authenticated = this.authenticatedUser(user, info);
    } catch (error) {
      if (
        error instanceof AuthServiceUnauthorizedError ||
        error instanceof AuthServiceForbiddenError
      ) {
        this.users?.delete(key);
        if (this.cache) this.refused?.set(key, true, { ttl: this.cache.negativeTtlMs });
        throw new AuthenticationFailure('invalid token', 'refused by the auth-service');
      }
      const served = this.serveStale(error, stale);
      if (served !== undefined) return served;
      throw error;
    }
    this.servingStale = false;
    this.remember(key, authenticated, expiresAt);
    return authenticated;
  }

  private remember(key: string, user: AuthenticatedUser<T>, expiresAt = Infinity): void {
    if (!this.cache || this.users === undefined) return;
    const now = this.now();
    const freshUntil = Math.min(now + this.cache.ttlMs, expiresAt);
    const keptUntil = Math.min(freshUntil + this.cache.staleIfErrorMs, expiresAt);
    if (keptUntil > now) this.users.set(key, { user, freshUntil }, { ttl: keptUntil - now });
  }

  /** An entry past its lifetime, still within its grace, while the auth-service cannot answer. */
  private serveStale(
    error: unknown,
    stale: CachedUser<T> | undefined,
  ): AuthenticatedUser<T> | undefined {
    const unavailable =
      error instanceof AuthServiceUnavailableError || error instanceof AuthServicePayloadError;
    // The entry's own TTL ends its grace (and the token's exp): it was found, so it is within it.
    if (!unavailable || stale === undefined) return undefined;
    if (!this.servingStale) {
      this.servingStale = true;
      this.logger.warn(
        'auth-service unavailable: serving users already validated past their cache lifetime, ' +
          `for up to ${Math.round((this.cache ? this.cache.staleIfErrorMs : 0) / 1000)} s more`,
      );
    }
    return stale.user;
  }

  private authenticatedUser(
    user: User,
    info: ServiceUserInfo<T> | undefined,
  ): AuthenticatedUser<T> {
    if (info !== undefined && info.user.id !== user.id) {
      // Another user's record must never become this user's metadata.
      throw new AuthServicePayloadError(
        'fullMetadataFor',
        'data.user.user.id',
        'is not the id of the token owner',
      );
    }
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
