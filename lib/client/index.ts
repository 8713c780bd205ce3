export { AuthApi, type CallerContext } from './auth-api.js';
export { AuthApiForToken } from './auth-api-for-token.js';
export type {
  AdminCredentials,
  AdminPasswordCredentials,
  AdminTokenProvider,
  AuthApiOptions,
  OAuthClientCredentials,
} from './auth-api.options.js';
export type {
  ComparedPermissionField,
  KeptPermission,
  PermissionChange,
  PermissionFieldChange,
  PermissionPlan,
  PermissionPlanOptions,
} from './permission-plan.js';
export type {
  ChangedPermissionPolicy,
  PermissionSyncEvent,
  PermissionSyncResult,
  PermissionSyncSettings,
} from './permission-sync.js';
export type { CircuitBreakerOptions } from './circuit-breaker.js';
