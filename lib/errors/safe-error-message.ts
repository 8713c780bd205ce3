import { ApexAuthOptionsError } from './apex-auth-options.error.js';
import { AuthServiceError } from './auth-service.errors.js';
import { PermissionSyncError } from './permission-sync.error.js';

/**
 * What to say about `error` in a log line or a command's output. This
 * library's own errors are quoted (their messages never hold a secret); any
 * other error only by its name, since its message or properties may carry a
 * request's headers or body (an AxiosError does).
 */
export function safeErrorMessage(error: unknown): string {
  if (
    error instanceof AuthServiceError ||
    error instanceof ApexAuthOptionsError ||
    error instanceof PermissionSyncError
  ) {
    return error.message;
  }
  return error instanceof Error ? `unexpected ${error.name}` : 'unexpected error';
}
