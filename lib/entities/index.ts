export type { Client } from './client.entity.js';
export type { Service } from './service.entity.js';
export type { ServiceMetadata } from './service-metadata.entity.js';
export type {
  PermissionType,
  PermissionValue,
  ServicePermission,
  ServicePermissionDefinition,
} from './service-permission.entity.js';
export type { ServiceUserInfo } from './service-user-info.entity.js';
export type { TokenSet } from './token-set.entity.js';
export type { User } from './user.entity.js';
