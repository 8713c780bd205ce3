export { AuthApi, type CallerContext } from './auth-api.js';
export { AuthApiForToken } from './auth-api-for-token.js';
export {
  AuthApiOptions,
  CircuitBreakerOptions,
  OAuthClientCredentials,
  type AdminCredentials,
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
