/**
 * `@apex/nest-auth`: the NestJS module through which Apex services authenticate
 * users and authorize requests against the company auth-service.
 *
 * @packageDocumentation
 */

// The module
export { ApexAuthModule } from './module/apex-auth.module.js';
export { ApexAuthModuleOptions, type ApexAuthModuleExtras } from './module/apex-auth.options.js';

// Who may call what
export { ApexAuthGuard } from './auth/apex-auth.guard.js';
export { BearerCredential, type BearerTokenResult } from './auth/bearer-token.js';
export {
  Permissions,
  Public,
  ServiceAdmin,
  SuperAdmin,
} from './decorators/requirement.decorators.js';
export { AuthToken, CurrentUser } from './decorators/param.decorators.js';
export type { PermissionRequirement } from './permissions/permission-requirement.js';
export { PermissionField } from './permissions/permission-field.decorator.js';
export type { AuthenticatedUser } from './verification/user-lookup.js';
export { TokenVerifier } from './verification/token-verifier.js';

// The login routes
export { AuthController } from './login/auth.controller.js';
export { LoginDto, type TokenResponse } from './login/login.dtos.js';
export { BoundedThrottlerStorage } from './login/bounded-throttler.storage.js';

// Beside the guard: OpenAPI and health checks (with the optional peers)
export { ApexAuthSwagger } from './openapi/apex-auth-swagger.js';
export { ApexAuthHealthIndicator } from './health/apex-auth.health-indicator.js';

// The auth-service client
export { AuthApi } from './client/auth-api.js';
export { AuthApiForToken } from './client/auth-api-for-token.js';
export { AuthApiOptions } from './client/auth-api.options.js';
export type { PermissionPlan } from './client/permission-plan.js';
export type { PermissionSyncResult } from './client/permission-sync.js';
export type * from './client/auth-service.entities.js';

// What can go wrong
export {
  ApexAuthOptionsError,
  AuthServiceConflictError,
  AuthServiceError,
  AuthServiceForbiddenError,
  AuthServiceNotFoundError,
  AuthServicePayloadError,
  AuthServiceUnauthorizedError,
  AuthServiceUnavailableError,
  AuthServiceValidationError,
  PermissionSyncError,
} from './errors/index.js';
