export {
  APEX_AUTH_LOGIN_STORAGE,
  APEX_AUTH_PERMISSIONS,
  APEX_AUTH_PUBLIC,
  APEX_AUTH_RESOLVED_OPTIONS,
  APEX_AUTH_ROLES,
  APEX_AUTH_STRATEGY,
} from './apex-auth.constants.js';
export { ApexAuthGuard } from './auth/apex-auth.guard.js';
export type { AuthenticatedUser } from './auth/authenticated-user.js';
export {
  AuthenticatedUserResolver,
  type UserCacheSettings,
} from './auth/authenticated-user.resolver.js';
export type { AuthenticationFailureReason } from './auth/authentication-failure.js';
export { RemoteBearerStrategy } from './auth/remote-bearer.strategy.js';
export * from './client/index.js';
export * from './controller/index.js';
export * from './decorators/index.js';
export type * from './entities/index.js';
export * from './errors/index.js';
export type {
  JwtAlgorithm,
  JwtClaimsOptions,
  JwtVerificationOptions,
} from './jwt/jwt-verification.options.js';
export {
  BoundedThrottlerStorage,
  DEFAULT_MAX_COUNTERS,
} from './login-limits/bounded-throttler.storage.js';
export {
  LoginAttemptLimiter,
  TooManyLoginAttemptsException,
  type LoginLimitSettings,
} from './login-limits/login-attempt.limiter.js';
export type { FailedLoginLimit, LoginLimitsOptions } from './login-limits/login-limits.options.js';
export { MODULE_OPTIONS_TOKEN as APEX_AUTH_MODULE_OPTIONS } from './module/apex-auth.module-definition.js';
export { ApexAuthModule } from './module/apex-auth.module.js';
export type {
  ApexAuthModuleExtras,
  ApexAuthModuleOptions,
  LoginOptions,
  PermissionSyncOptions,
  ResolvedApexAuthOptions,
  UserCacheOptions,
} from './module/apex-auth.options.js';
export * from './permissions/index.js';
export { PermissionSyncService } from './sync/permission-sync.service.js';
