import type { ServiceMetadata } from './service-metadata.entity.js';
import type { User } from './user.entity.js';

/** A user seen from one service: who they are, whether they administer it, and their metadata there. */
export interface ServiceUserInfo<T extends object = ServiceMetadata> {
  user: User;
  isServiceAdmin: boolean;
  metadata: T;
}
