import { SetMetadata } from '@nestjs/common';
import { APEX_AUTH_PERMISSIONS } from '../apex-auth.constants.js';
import type { PermissionRequirement } from '../permissions/permission-requirement.js';

/**
 * Requires permissions of the caller, on a handler or a whole controller (both
 * apply, and every requirement must hold). A missing one is a `403` that names it.
 * Names are checked against the permission schema at startup.
 *
 * @example
 * ```ts
 * @Permissions('canEdit', { region: ['eu', 'us'] }, (m: ShopPermissions) => m.maxDiscount >= 10)
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see PermissionRequirement
export const Permissions = <T extends object = any>(
  ...requirements: PermissionRequirement<T>[]
): MethodDecorator & ClassDecorator => SetMetadata(APEX_AUTH_PERMISSIONS, requirements);
