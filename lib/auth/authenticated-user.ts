import type { ServiceMetadata, User } from '../entities/index.js';

/**
 * The caller of a guarded route, as `request.user` and `@CurrentUser()` hold it:
 * the auth-service user (no password hash), whether they administer this
 * service, and their metadata in it.
 *
 * @typeParam T - the permissions class; `metadata` is an instance of it with
 *   defaults filled in for permissions the user has no value for.
 */
export interface AuthenticatedUser<T extends object = ServiceMetadata> extends User {
  /** Admin of this service (superadmins are not implied: check `isAdmin` too, or use `@ServiceAdmin()`). */
  isServiceAdmin: boolean;
  metadata: T;
}
