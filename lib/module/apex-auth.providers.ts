import { HttpService } from '@nestjs/axios';
import { Logger, type Provider } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { ApexAuthGuard } from '../auth/apex-auth.guard.js';
import { AuthApi } from '../client/index.js';
import { AuthServiceHttp, circuitsFor, UpstreamFailureLog } from '../client/auth-service.http.js';
import { BoundedThrottlerStorage } from '../login/bounded-throttler.storage.js';
import { LoginAttemptLimiter } from '../login/login-attempt.limiter.js';
import { RefusalDelay } from '../login/refusal-delay.js';
import { openApiDocs } from '../openapi/openapi-docs.provider.js';
import { PermissionSyncService } from '../sync/permission-sync.service.js';
import { ApexAuthStrategy } from '../verification/apex-auth.strategy.js';
import { KeyMismatchWatch, SignatureCheck } from '../verification/signature-check.js';
import { TokenVerifier } from '../verification/token-verifier.js';
import { UserLookup } from '../verification/user-lookup.js';
import { MemoryRefusedStore, MemoryUserStore } from '../verification/verification-stores.js';
import { APEX_AUTH_EXTRAS_PROBLEMS, MODULE_OPTIONS_TOKEN } from './apex-auth.module-definition.js';
import type { OptionProblem } from '../errors/index.js';
import {
  apexAuthSettings,
  type ApexAuthSettings,
  APEX_AUTH_LOGIN_STORAGE,
  APEX_AUTH_REDIS,
  APEX_AUTH_SETTINGS,
  APEX_AUTH_SYNC_LOCK,
} from './apex-auth.settings.js';
import { RouteRulesChecker } from './route-rules.checker.js';
import { RedisAttemptSlots } from '../redis/shared-slots.js';
import { RedisSyncLock } from '../redis/redis-sync-lock.js';
import { RedisThrottlerStorage } from '../redis/redis-throttler.storage.js';
import { SharedRedis } from '../redis/shared-redis.js';
import { SharedUsers } from '../redis/shared-users.js';

/** What a lock or a slot in Redis outlives the work it guards by, at most. */
const LOCK_MARGIN_MS = 1_000;
import { GatewayHandshakes } from '../transports/gateway-handshakes.js';

const settings: Provider = {
  provide: APEX_AUTH_SETTINGS,
  inject: [MODULE_OPTIONS_TOKEN, HttpService, { token: APEX_AUTH_EXTRAS_PROBLEMS, optional: true }],
  useFactory: (
    options: unknown,
    http: HttpService,
    extrasProblems: readonly OptionProblem[] | undefined,
  ): ApexAuthSettings =>
    apexAuthSettings(options, {
      extrasProblems,
      logger: new Logger('ApexAuth'),
      jwksFetcher: (jwksUri, api) => {
        const log = new UpstreamFailureLog(jwksUri.origin);
        const client = new AuthServiceHttp(
          http,
          jwksUri.origin,
          api.timeoutMs,
          log,
          api.circuitBreaker === false ? undefined : circuitsFor(api.circuitBreaker, log),
        );
        return (url) =>
          client.call({
            operation: 'jwks',
            method: 'GET',
            path: url.pathname.split('/').filter(Boolean).map(decodeURIComponent),
            // The configured URL, query included (`?appid=` and the like), and no other.
            query: url.search.slice(1),
          });
      },
    }),
};

const authApi: Provider = {
  provide: AuthApi,
  inject: [HttpService, APEX_AUTH_SETTINGS],
  useFactory: (http: HttpService, { api }: ApexAuthSettings): AuthApi<object> =>
    new AuthApi<object>(http, api),
};

/** The connection to Redis, when state is shared; closed with the app. */
const redis: Provider = {
  provide: APEX_AUTH_REDIS,
  inject: [APEX_AUTH_SETTINGS],
  useFactory: ({ redis }: ApexAuthSettings): Promise<SharedRedis | undefined> | undefined =>
    redis === false ? undefined : SharedRedis.connect(redis.connection, redis.keyPrefix),
};

const syncLock: Provider = {
  provide: APEX_AUTH_SYNC_LOCK,
  inject: [APEX_AUTH_REDIS],
  useFactory: (shared: SharedRedis | undefined) =>
    shared === undefined ? undefined : new RedisSyncLock(shared),
};

const tokenVerifier: Provider = {
  provide: TokenVerifier,
  inject: [AuthApi, APEX_AUTH_SETTINGS, APEX_AUTH_REDIS],
  useFactory: async (
    api: AuthApi<object>,
    { schema, claims, jwt, cache, lookupLimit, ipv6PrefixLength, api: client }: ApexAuthSettings,
    shared: SharedRedis | undefined,
  ) => {
    const users =
      shared === undefined || cache === false
        ? undefined
        : new SharedUsers(shared, schema, {
            // A lookup is two calls, each within the time budget.
            lockMs: 2 * client.timeoutMs + LOCK_MARGIN_MS,
            refusedMs: cache.negativeTtlMs,
          });
    const verifier = new TokenVerifier({
      lookup: new UserLookup(api, schema),
      policy: claims,
      signatures:
        jwt === undefined
          ? undefined
          : new SignatureCheck(
              jwt.keys,
              jwt.clockToleranceSeconds,
              new KeyMismatchWatch(jwt.keyOption),
            ),
      cache:
        cache === false
          ? undefined
          : {
              settings: cache,
              users: new MemoryUserStore(cache.maxEntries, cache.maxBytes),
              refused: new MemoryRefusedStore(cache.negativeMaxEntries),
              ...(cache.knownUsers
                ? {
                    known: {
                      store: new MemoryUserStore(cache.maxEntries, cache.maxBytes),
                      // Users are the auth-service's: replicas of another one never share theirs.
                      scope: client.baseUrl,
                    },
                  }
                : {}),
            },
      lookupLimit,
      ipv6PrefixLength,
      ...(users === undefined ? {} : { shared: users }),
    });
    await users?.onForgotten((key) => verifier.evict(key));
    return verifier;
  },
};

const strategy: Provider = {
  provide: ApexAuthStrategy,
  inject: [TokenVerifier, APEX_AUTH_SETTINGS],
  useFactory: (verifier: TokenVerifier, { strategyName }: ApexAuthSettings) =>
    new ApexAuthStrategy(verifier, strategyName),
};

/**
 * Counters of failed logins; a provider of its own, so that a storage the app
 * passes gets Nest's lifecycle hooks (`ThrottlerStorageService` clears its timers on shutdown).
 */
const loginStorage: Provider = {
  provide: APEX_AUTH_LOGIN_STORAGE,
  inject: [APEX_AUTH_SETTINGS, APEX_AUTH_REDIS],
  useFactory: (
    { login }: ApexAuthSettings,
    shared: SharedRedis | undefined,
  ): ThrottlerStorage | undefined => {
    if (!login.limits) return undefined;
    // The app's own storage first; then the replicas' (counted in process too), or in process only.
    if (login.limits.storage !== undefined) return login.limits.storage;
    const memory = new BoundedThrottlerStorage();
    return shared === undefined ? memory : new RedisThrottlerStorage(shared, memory);
  },
};

const loginLimiter: Provider = {
  provide: LoginAttemptLimiter,
  inject: [APEX_AUTH_SETTINGS, APEX_AUTH_LOGIN_STORAGE, APEX_AUTH_REDIS],
  useFactory: (
    { login, api }: ApexAuthSettings,
    storage: ThrottlerStorage | undefined,
    shared: SharedRedis | undefined,
  ) =>
    new LoginAttemptLimiter(
      storage,
      login.limits || { perUsername: false, perIp: false },
      shared === undefined
        ? undefined
        : // An attempt's whole time: its call, then at most the refusal delay.
          new RedisAttemptSlots(shared, api.timeoutMs + login.maxFailureMs + LOCK_MARGIN_MS),
    ),
};

const refusalDelay: Provider = {
  provide: RefusalDelay,
  inject: [APEX_AUTH_SETTINGS],
  useFactory: ({ login }: ApexAuthSettings) =>
    new RefusalDelay(login.minFailureMs, login.maxFailureMs),
};

/** Everything the module provides, whatever its registration. */
export const APEX_AUTH_PROVIDERS: Provider[] = [
  settings,
  redis,
  syncLock,
  authApi,
  tokenVerifier,
  strategy,
  loginStorage,
  loginLimiter,
  refusalDelay,
  ApexAuthGuard,
  PermissionSyncService,
  RouteRulesChecker,
  openApiDocs,
  GatewayHandshakes,
];

/**
 * What the module exports to the app: what `ApexAuthGuard` and `AuthController`
 * need, so that a subclass of either works in any module with nothing else to register.
 */
export const APEX_AUTH_EXPORTS = [
  APEX_AUTH_SETTINGS,
  AuthApi,
  TokenVerifier,
  ApexAuthStrategy,
  ApexAuthGuard,
  LoginAttemptLimiter,
  RefusalDelay,
  PermissionSyncService,
];
