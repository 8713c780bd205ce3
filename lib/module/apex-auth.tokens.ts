/** Injection token of the settings the module runs with (its options checked, keys imported). */
export const APEX_AUTH_SETTINGS = Symbol('apex-auth:settings');
/** Injection token of the `@nestjs/throttler` storage that counts failed logins. */
export const APEX_AUTH_LOGIN_STORAGE = Symbol('apex-auth:login-storage');
