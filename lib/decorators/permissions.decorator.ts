import { APEX_AUTH_PERMISSIONS } from '../apex-auth.constants.js';
import type { PermissionRequirement } from '../permissions/permission-requirement.js';
import { appendMetadata } from './append-metadata.js';

/**
 * Requires permissions of the caller, on a handler or a whole controller. Every
 * requirement of every `@Permissions()` must hold: those on the handler, on its
 * controller and on the controller's base classes, however many times each is
 * applied. A missing one is a `403` that names it. Names and values are checked
 * against the permission schema at startup.
 *
 * @example
 * ```ts
 * @Permissions('canEdit', { region: ['eu', 'us'] }, (m: ShopPermissions) => m.maxDiscount >= 10)
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see PermissionRequirement
export const Permissions = <T extends object = any>(
  ...requirements: PermissionRequirement<T>[]
): MethodDecorator & ClassDecorator => appendMetadata(APEX_AUTH_PERMISSIONS, requirements);
