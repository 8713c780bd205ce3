import type { PermissionValue } from './service-permission.entity.js';

/** A user's service metadata when no permissions class types it: permission name to value. */
export type ServiceMetadata = Record<string, PermissionValue>;
