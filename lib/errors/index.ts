export { ApexAuthOptionsError } from './apex-auth-options.error.js';
export {
  AuthServiceConflictError,
  AuthServiceError,
  AuthServiceForbiddenError,
  AuthServiceNotFoundError,
  AuthServicePayloadError,
  AuthServiceUnauthorizedError,
  AuthServiceUnavailableError,
  AuthServiceValidationError,
  type AuthServiceUnavailableReason,
} from './auth-service.errors.js';
export { PermissionSyncError } from './permission-sync.error.js';
