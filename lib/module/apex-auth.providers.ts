import { HttpService } from '@nestjs/axios';
import { Logger, type Provider } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import {
  APEX_AUTH_LOGIN_STORAGE,
  APEX_AUTH_RESOLVED_OPTIONS,
  APEX_AUTH_STRATEGY,
} from '../apex-auth.constants.js';
import { BoundedThrottlerStorage } from '../login-limits/bounded-throttler.storage.js';
import { LoginAttemptLimiter } from '../login-limits/login-attempt.limiter.js';
import { ApexAuthGuard } from '../auth/apex-auth.guard.js';
import { AuthenticatedUserResolver } from '../auth/authenticated-user.resolver.js';
import { clientKey } from '../auth/client-address.js';
import type { HttpRequestLike } from '../auth/http-request.js';
import { RemoteBearerStrategy, type StrategyContext } from '../auth/remote-bearer.strategy.js';
import { AuthApi } from '../client/index.js';
import { AuthServiceHttp } from '../client/auth-service.http.js';
import { UpstreamFailureLog } from '../client/upstream-failure-log.js';
import { KeyMismatchWatch } from '../jwt/key-mismatch.watch.js';
import { LocalJwtStrategy } from '../jwt/local-jwt.strategy.js';
import { RefusalDelay } from '../login-limits/refusal-delay.js';
import { PermissionSyncService } from '../sync/permission-sync.service.js';
import { MODULE_OPTIONS_TOKEN } from './apex-auth.module-definition.js';
import type { ApexAuthModuleOptions, ResolvedApexAuthOptions } from './apex-auth.options.js';
import { resolveApexAuthOptions } from './apex-auth.options.resolve.js';
import { RouteRulesChecker } from './route-rules.checker.js';

const resolvedOptions: Provider = {
  provide: APEX_AUTH_RESOLVED_OPTIONS,
  inject: [MODULE_OPTIONS_TOKEN, HttpService],
  useFactory: (options: ApexAuthModuleOptions, http: HttpService): ResolvedApexAuthOptions =>
    resolveApexAuthOptions(options, {
      logger: new Logger('ApexAuth'),
      fetchJwks: (url) =>
        new AuthServiceHttp(
          http,
          url.origin,
          options.timeoutMs ?? 5000,
          new UpstreamFailureLog(url.origin),
        ).call({
          operation: 'jwks',
          method: 'GET',
          path: url.pathname.split('/').filter(Boolean).map(decodeURIComponent),
          // The configured URL, query included (`?appid=` and the like), and no other.
          query: url.search.slice(1),
        }),
    }),
};

const authApi: Provider = {
  provide: AuthApi,
  inject: [HttpService, APEX_AUTH_RESOLVED_OPTIONS],
  useFactory: (http: HttpService, options: ResolvedApexAuthOptions): AuthApi<object> =>
    new AuthApi<object>(http, {
      baseUrl: options.baseUrl,
      serviceName: options.serviceName,
      oauthClient: options.oauthClient,
      admin: options.admin,
      timeoutMs: options.timeoutMs,
      permissions: options.schema,
      circuitBreaker: options.circuitBreaker,
    }),
};

const userResolver: Provider = {
  provide: AuthenticatedUserResolver,
  inject: [AuthApi, APEX_AUTH_RESOLVED_OPTIONS],
  useFactory: (api: AuthApi<object>, options: ResolvedApexAuthOptions) =>
    new AuthenticatedUserResolver(api, options.schema, options.cache, options.lookupLimit),
};

const strategy: Provider = {
  provide: APEX_AUTH_STRATEGY,
  inject: [APEX_AUTH_RESOLVED_OPTIONS, AuthenticatedUserResolver],
  useFactory: (options: ResolvedApexAuthOptions, resolver: AuthenticatedUserResolver) => {
    const context: StrategyContext = {
      policy: options.claims,
      clientOf: (request: HttpRequestLike) => clientKey(request.ip, options.ipv6PrefixLength),
    };
    const { jwt } = options;
    if (jwt === undefined) return new RemoteBearerStrategy(resolver, context);
    const watch = new KeyMismatchWatch(jwt.keyOption);
    return new LocalJwtStrategy({ ...jwt, watch }, context, resolver);
  },
};

/**
 * Counters of failed logins; a provider of its own, so that a storage the app
 * passes gets Nest's lifecycle hooks (`ThrottlerStorageService` clears its timers on shutdown).
 */
const loginStorage: Provider = {
  provide: APEX_AUTH_LOGIN_STORAGE,
  inject: [APEX_AUTH_RESOLVED_OPTIONS],
  useFactory: (options: ResolvedApexAuthOptions): ThrottlerStorage | undefined =>
    options.login.limits
      ? (options.login.limits.storage ?? new BoundedThrottlerStorage())
      : undefined,
};

const refusalDelay: Provider = {
  provide: RefusalDelay,
  inject: [APEX_AUTH_RESOLVED_OPTIONS],
  useFactory: ({ login }: ResolvedApexAuthOptions) =>
    new RefusalDelay(login.minFailureMs, login.maxFailureMs),
};

const loginLimiter: Provider = {
  provide: LoginAttemptLimiter,
  inject: [APEX_AUTH_RESOLVED_OPTIONS, APEX_AUTH_LOGIN_STORAGE],
  useFactory: (options: ResolvedApexAuthOptions, storage: ThrottlerStorage | undefined) =>
    new LoginAttemptLimiter(storage, options.login.limits || { perUsername: false, perIp: false }),
};

/** Everything the module provides, whatever its registration. */
export const APEX_AUTH_PROVIDERS: Provider[] = [
  resolvedOptions,
  authApi,
  userResolver,
  strategy,
  loginStorage,
  loginLimiter,
  refusalDelay,
  ApexAuthGuard,
  PermissionSyncService,
  RouteRulesChecker,
];

/** What the module exports to the whole app (it is global). */
export const APEX_AUTH_EXPORTS = [
  AuthApi,
  ApexAuthGuard,
  AuthenticatedUserResolver,
  PermissionSyncService,
  APEX_AUTH_STRATEGY,
  APEX_AUTH_RESOLVED_OPTIONS,
  MODULE_OPTIONS_TOKEN,
];
