import { HttpService } from '@nestjs/axios';
import { Logger, type Provider } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { ApexAuthGuard } from '../auth/apex-auth.guard.js';
import { AuthApi } from '../client/index.js';
import { AuthServiceHttp, circuitsFor, UpstreamFailureLog } from '../client/auth-service.http.js';
import { BoundedThrottlerStorage } from '../login/bounded-throttler.storage.js';
import { LoginAttemptLimiter } from '../login/login-attempt.limiter.js';
import { RefusalDelay } from '../login/refusal-delay.js';
import { PermissionSyncService } from '../sync/permission-sync.service.js';
import { ApexAuthStrategy } from '../verification/apex-auth.strategy.js';
import { KeyMismatchWatch, SignatureCheck } from '../verification/signature-check.js';
import { TokenVerifier } from '../verification/token-verifier.js';
import { UserLookup } from '../verification/user-lookup.js';
import { MemoryRefusedStore, MemoryUserStore } from '../verification/verification-stores.js';
import { MODULE_OPTIONS_TOKEN } from './apex-auth.module-definition.js';
import {
  apexAuthSettings,
  type ApexAuthSettings,
  APEX_AUTH_LOGIN_STORAGE,
  APEX_AUTH_SETTINGS,
} from './apex-auth.settings.js';
import { RouteRulesChecker } from './route-rules.checker.js';
import { GatewayHandshakes } from '../transports/gateway-handshakes.js';

const settings: Provider = {
  provide: APEX_AUTH_SETTINGS,
  inject: [MODULE_OPTIONS_TOKEN, HttpService],
  useFactory: (options: unknown, http: HttpService): ApexAuthSettings =>
    apexAuthSettings(options, {
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

const tokenVerifier: Provider = {
  provide: TokenVerifier,
  inject: [AuthApi, APEX_AUTH_SETTINGS],
  useFactory: (
    api: AuthApi<object>,
    { schema, claims, jwt, cache, lookupLimit, ipv6PrefixLength }: ApexAuthSettings,
  ) =>
    new TokenVerifier({
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
              users: new MemoryUserStore(cache.maxEntries),
              refused: new MemoryRefusedStore(cache.negativeMaxEntries),
            },
      lookupLimit,
      ipv6PrefixLength,
    }),
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
  inject: [APEX_AUTH_SETTINGS],
  useFactory: ({ login }: ApexAuthSettings): ThrottlerStorage | undefined =>
    login.limits ? (login.limits.storage ?? new BoundedThrottlerStorage()) : undefined,
};

const loginLimiter: Provider = {
  provide: LoginAttemptLimiter,
  inject: [APEX_AUTH_SETTINGS, APEX_AUTH_LOGIN_STORAGE],
  useFactory: ({ login }: ApexAuthSettings, storage: ThrottlerStorage | undefined) =>
    new LoginAttemptLimiter(storage, login.limits || { perUsername: false, perIp: false }),
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
  authApi,
  tokenVerifier,
  strategy,
  loginStorage,
  loginLimiter,
  refusalDelay,
  ApexAuthGuard,
  PermissionSyncService,
  RouteRulesChecker,
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
