// The auth-service's entities as this library hands them out: camelCase, and never a
// password hash or a client secret (the wire mappings are allow-lists).

/** A user's service metadata when no permissions class types it: permission name to value. */
export type ServiceMetadata = Record<string, PermissionValue>;

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

/** A user seen from one service: who they are, whether they administer it, and their metadata there. */
export interface ServiceUserInfo<T extends object = ServiceMetadata> {
  user: User;
  isServiceAdmin: boolean;
  metadata: T;
}

/** The tokens an OAuth2 token endpoint answers with (RFC 6749 §5.1), in camelCase. */
export interface TokenSet {
  accessToken: string;
  /** As sent upstream (the auth-service says `bearer`). */
  tokenType: string;
  /** Only from auth-services that issue refresh tokens. */
  refreshToken?: string;
  /** Lifetime of the access token in seconds, when the auth-service says. */
  expiresIn?: number;
}

/**
 * A user of the auth-service, as this library hands it out.
 *
 * The wire format's `hashed_password` is never copied into it: the mapping from
 * the upstream payload is an allow-list of these fields.
 */
export interface User {
  /** The user's id (a uuid). */
  id: string;
  username: string;
  firstName: string;
  lastName: string;
  email: string;
  phoneNumber: string;
  /** A superadmin: admin of every service. */
  isAdmin: boolean;
}
