/** The type of a permission's value. `integer` is a whole number. */
export type PermissionType = 'string' | 'integer' | 'boolean';

/** A value a user's service metadata may hold for a permission. */
export type PermissionValue = string | number | boolean;

/** A permission of a service's schema, without the id the auth-service assigns. */
export interface ServicePermissionDefinition {
  /** Unique within the service; the key of the permission in user metadata. */
  name: string;
  /** Human label for admin UIs. */
  label: string;
  description: string;
  type: PermissionType;
  /** Allowed values for `string` and `integer` permissions; `[]` means any (and is the only choice for `boolean`). */
  values: string[] | number[];
  /** The value of a user who has none stored. Matches `type` (and `values` when not empty). */
  default: PermissionValue;
}

/** A permission as stored by the auth-service. */
export interface ServicePermission extends ServicePermissionDefinition {
  /** Assigned by the auth-service; opaque (some deployments send integers, kept here as their decimal string). */
  id: string;
}
