import type { PermissionType } from './auth-service.entities.js';

/** Every {@link PermissionType}, for the checks of definitions and payloads. */
export const PERMISSION_TYPES: readonly PermissionType[] = ['string', 'integer', 'boolean'];

/** Whether a value names a {@link PermissionType}. */
export function isPermissionType(value: unknown): value is PermissionType {
  return (PERMISSION_TYPES as readonly unknown[]).includes(value);
}
