import { PERMISSION_TYPES, isPermissionType } from './permission-types.js';
import {
  type PermissionType,
  type PermissionValue,
  type ServiceMetadata,
  type ServicePermission,
  type ServicePermissionDefinition,
  type ServiceUserInfo,
  type TokenSet,
  type User,
} from './auth-service.entities.js';
import { childPath, itemPath, WireReader } from './wire-reader.js';

// The one place that knows the contract's snake_case payloads. Every mapping is
// an allow-list: whatever else upstream sends (notably `hashed_password`) is
// never copied into what the library hands out.

/** Turns a user's stored metadata object into what the application sees. */
export type MetadataMapper<T> = (stored: Readonly<Record<string, unknown>>) => T;

/**
 * The body of a permission write (endpoints 8 and 10): the contract's fields,
 * whose names are the same in both spellings.
 */
export type WirePermissionDefinition = ServicePermissionDefinition;

/**
 * Metadata when no permissions schema types it: only the values a permission
 * can hold, so nested objects or nulls from upstream never reach the app.
 */
export const plainMetadata: MetadataMapper<ServiceMetadata> = (stored) =>
  // fromEntries defines own properties, so a `__proto__` key stays a plain key.
  Object.fromEntries(
    Object.entries(stored).filter(
      (entry): entry is [string, PermissionValue] =>
        typeof entry[1] === 'string' ||
        typeof entry[1] === 'boolean' ||
        (typeof entry[1] === 'number' && Number.isFinite(entry[1])),
    ),
  );

/** The answer of endpoints 1, 2 and 11. */
export function decodeTokenSet(operation: string, body: unknown): TokenSet {
  const r = new WireReader(operation);
  const object = r.object(body, '');
  const tokens: TokenSet = {
    accessToken: r.nonEmptyString(r.field(object, 'access_token'), 'access_token'),
    tokenType: r.string(r.field(object, 'token_type'), 'token_type'),
  };
  const refreshToken = r.optional(r.field(object, 'refresh_token'), (value) =>
    r.nonEmptyString(value, 'refresh_token'),
  );
  if (refreshToken !== undefined) tokens.refreshToken = refreshToken;
  const expiresIn = r.optional(r.field(object, 'expires_in'), (value) =>
    r.nonNegativeNumber(value, 'expires_in'),
  );
  if (expiresIn !== undefined) tokens.expiresIn = expiresIn;
  return tokens;
}

/** The answer of endpoint 3: the token's owner. */
export function decodeUser(operation: string, body: unknown): User {
  return readUser(new WireReader(operation), body, '');
}

/** The answer of endpoint 4: `data.metadata.metadata`. */
export function decodeMetadata<T extends object>(
  operation: string,
  body: unknown,
  mapper: MetadataMapper<T>,
): T {
  const r = new WireReader(operation);
  const data = r.object(r.field(r.object(body, ''), 'data'), 'data');
  const envelope = r.object(r.field(data, 'metadata'), 'data.metadata');
  return readMetadata(r, r.field(envelope, 'metadata'), 'data.metadata.metadata', mapper);
}

/** The answer of endpoint 5: `data.user`. */
export function decodeServiceUser<T extends object>(
  operation: string,
  body: unknown,
  mapper: MetadataMapper<T>,
): ServiceUserInfo<T> {
  const r = new WireReader(operation);
  const data = r.object(r.field(r.object(body, ''), 'data'), 'data');
  return readServiceUserInfo(r, r.field(data, 'user'), 'data.user', mapper);
}

/** The answer of endpoint 6: `data.users`. */
export function decodeServiceUsers<T extends object>(
  operation: string,
  body: unknown,
  mapper: MetadataMapper<T>,
): ServiceUserInfo<T>[] {
  const r = new WireReader(operation);
  const data = r.object(r.field(r.object(body, ''), 'data'), 'data');
  return r
    .array(r.field(data, 'users'), 'data.users')
    .map((item, i) => readServiceUserInfo(r, item, itemPath('data.users', i), mapper));
}

/** The answer of endpoint 7: `data.permissions`. */
export function decodePermissions(operation: string, body: unknown): ServicePermission[] {
  const r = new WireReader(operation);
  const data = r.object(r.field(r.object(body, ''), 'data'), 'data');
  return r
    .array(r.field(data, 'permissions'), 'data.permissions')
    .map((item, i) => readPermission(r, item, itemPath('data.permissions', i)));
}

/** The answer of endpoints 8 and 10: `data.permission`. */
export function decodePermission(operation: string, body: unknown): ServicePermission {
  const r = new WireReader(operation);
  const data = r.object(r.field(r.object(body, ''), 'data'), 'data');
  return readPermission(r, r.field(data, 'permission'), 'data.permission');
}

/** The body of endpoints 8 and 10: only the contract's fields, whatever else the caller's object holds. */
export function encodePermission(
  definition: ServicePermissionDefinition,
): WirePermissionDefinition {
  return {
    name: definition.name,
    label: definition.label,
    description: definition.description,
    type: definition.type,
    values: definition.values,
    default: definition.default,
  };
}

function readUser(r: WireReader, value: unknown, path: string): User {
  const object = r.object(value, path);
  const text = (key: string): string => r.string(r.field(object, key), childPath(path, key));
  return {
    // Endpoints 4 and 5 take it in their paths.
    id: r.pathSegment(r.field(object, 'id'), childPath(path, 'id')),
    username: r.nonEmptyString(r.field(object, 'username'), childPath(path, 'username')),
    firstName: text('first_name'),
    lastName: text('last_name'),
    email: text('email'),
    phoneNumber: text('phone_number'),
    isAdmin: r.boolean(r.field(object, 'is_admin'), childPath(path, 'is_admin')),
  };
}

function readServiceUserInfo<T extends object>(
  r: WireReader,
  value: unknown,
  path: string,
  mapper: MetadataMapper<T>,
): ServiceUserInfo<T> {
  const object = r.object(value, path);
  return {
    user: readUser(r, r.field(object, 'user'), childPath(path, 'user')),
    isServiceAdmin: r.boolean(
      r.field(object, 'is_service_admin'),
      childPath(path, 'is_service_admin'),
    ),
    metadata: readMetadata(r, r.field(object, 'metadata'), childPath(path, 'metadata'), mapper),
  };
}

function readMetadata<T extends object>(
  r: WireReader,
  value: unknown,
  path: string,
  mapper: MetadataMapper<T>,
): T {
  return mapper(r.object(value, path));
}

function readPermission(r: WireReader, value: unknown, path: string): ServicePermission {
  const object = r.object(value, path);
  const at = (key: string): string => childPath(path, key);
  const type = r.string(r.field(object, 'type'), at('type'));
  if (!isPermissionType(type)) {
    r.fail(at('type'), `must be one of ${PERMISSION_TYPES.join(', ')}`);
  }
  const permissionType = type;
  return {
    id: readId(r, r.field(object, 'id'), at('id')),
    name: r.nonEmptyString(r.field(object, 'name'), at('name')),
    label: r.string(r.field(object, 'label'), at('label')),
    description: r.string(r.field(object, 'description'), at('description')),
    type: permissionType,
    values: readValues(r, r.field(object, 'values'), at('values'), permissionType),
    default: readValue(r, r.field(object, 'default'), at('default'), permissionType),
  };
}

/** Some deployments number their permissions: the id is opaque, so it becomes its decimal string. */
function readId(r: WireReader, value: unknown, path: string): string {
  if (typeof value === 'number') return String(r.integer(value, path));
  return r.nonEmptyString(value, path);
}

function readValues(
  r: WireReader,
  value: unknown,
  path: string,
  type: PermissionType,
): string[] | number[] {
  // A missing list is the contract's "any value", as the emulator and FastAPI's default do.
  const items = r.optional(value, (present) => r.array(present, path)) ?? [];
  if (type === 'boolean' && items.length > 0)
    r.fail(path, 'must be empty for a boolean permission');
  return items.map((item, i) => readValue(r, item, itemPath(path, i), type)) as string[] | number[];
}

function readValue(
  r: WireReader,
  value: unknown,
  path: string,
  type: PermissionType,
): PermissionValue {
  switch (type) {
    case 'string':
      return r.string(value, path);
    case 'integer':
      return r.integer(value, path);
    case 'boolean':
      return r.boolean(value, path);
  }
}
