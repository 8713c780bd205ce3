/** Metadata key of `@Public()`. Namespaced, so it never collides with an app's own `isPublic`. */
export const APEX_AUTH_PUBLIC = 'apex-auth:public';
/** Metadata key of `@Permissions()`. */
export const APEX_AUTH_PERMISSIONS = 'apex-auth:permissions';
/** Metadata key of `@ServiceAdmin()` and `@SuperAdmin()`. */
export const APEX_AUTH_ROLES = 'apex-auth:roles';

/** Injection token of the checked options the module runs with. */
export const APEX_AUTH_RESOLVED_OPTIONS = Symbol('apex-auth:resolved-options');
/** Injection token of the Passport strategy the guard runs (`passport-jwt`'s or the remote one). */
export const APEX_AUTH_STRATEGY = Symbol('apex-auth:strategy');
/** Injection token of the `@nestjs/throttler` storage that counts failed logins. */
export const APEX_AUTH_LOGIN_STORAGE = Symbol('apex-auth:login-storage');
