export { ServiceAdmin, SuperAdmin, type AdminRole } from './admin-roles.decorator.js';
export { AuthToken } from './auth-token.decorator.js';
export { CurrentUser } from './current-user.decorator.js';
export { Permissions } from './permissions.decorator.js';
export { Public } from './public.decorator.js';
