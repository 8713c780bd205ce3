import { PermissionField } from '@apex/nest-auth';

/**
 * The shop's permission schema. Synced to the auth-service at startup, and the
 * type of `@CurrentUser('metadata')`.
 */
export class ShopPermissions {
  @PermissionField({ label: 'Can edit products', default: false })
  canEditProducts!: boolean;

  @PermissionField({ label: 'Sales region', default: 'eu', values: ['eu', 'us'] })
  region!: string;
}
