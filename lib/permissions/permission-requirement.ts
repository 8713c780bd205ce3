import type { AuthenticatedUser } from '../verification/user-lookup.js';
import type { PermissionValue } from '../client/auth-service.entities.js';
import { ApexAuthOptionsError } from '../errors/index.js';
import type { PermissionSchema } from './permission-schema.js';

/**
 * One condition of `@Permissions()`:
 * - a permission name: that boolean permission must be `true`;
 * - `{ name: value }` or `{ name: [values] }`: the user's value must equal it or be one of them
 *   (every key of the object must hold);
 * - a predicate over the user's metadata and the user, which grants only by
 *   returning (or resolving to) exactly `true`; one that throws or rejects denies.
 */
// `any` by default so that an untyped @Permissions() still takes a predicate over a permissions class.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PermissionRequirement<T extends object = any> =
  | string
  | Readonly<Record<string, PermissionValue | readonly PermissionValue[]>>
  | ((metadata: T, user: AuthenticatedUser<T>) => boolean | Promise<boolean>);

/**
 * Why a user does not meet a requirement, in words for a `403`; `undefined`
 * when they meet it. Synchronous unless the requirement is an async predicate.
 *
 * @throws (or rejects with) whatever a predicate throws: the caller denies
 */
export function unmetRequirement<T extends object>(
  requirement: PermissionRequirement<T>,
  user: AuthenticatedUser<T>,
  schema: PermissionSchema<T> | undefined,
): string | undefined | Promise<string | undefined> {
  const valueOf = (name: string): unknown =>
    schema ? schema.valueIn(user.metadata, name) : (user.metadata as Record<string, unknown>)[name];
  if (typeof requirement === 'string') {
    return valueOf(requirement) === true ? undefined : `missing permission: ${requirement}`;
  }
  if (typeof requirement === 'function') {
    const missing = `missing permission: ${requirementName(requirement)}`;
    // A truthy value is not a grant: a Promise, 1 or 'yes' must not let anyone in.
    const granted: unknown = requirement(user.metadata, user);
    if (!isThenable(granted)) return granted === true ? undefined : missing;
    return Promise.resolve(granted).then((value) => (value === true ? undefined : missing));
  }
  for (const [name, expected] of Object.entries(requirement)) {
    const allowed: readonly unknown[] = Array.isArray(expected) ? expected : [expected];
    if (!allowed.includes(valueOf(name))) {
      return `missing permission: ${name} must be ${allowed.map((v) => JSON.stringify(v)).join(' or ')}`;
    }
  }
  return undefined;
}

/** How a predicate requirement is named in messages: its function name. */
export function requirementName(requirement: (...args: never[]) => unknown): string {
  return requirement.name || 'custom requirement';
}

/**
 * What a requirement names, without its values: a permission name, the names of an
 * object's permissions, or a predicate's name (as its `403` names it). For documentation.
 */
export function requirementNames(requirement: PermissionRequirement): string[] {
  if (typeof requirement === 'string') return [requirement];
  if (typeof requirement === 'function') return [requirementName(requirement)];
  return Object.keys(requirement);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Checks at startup that a requirement only names permissions of the schema,
 * with values they can take.
 *
 * @param where - the route, for the error message
 * @throws ApexAuthOptionsError
 */
export function checkRequirement(
  requirement: unknown,
  schema: PermissionSchema | undefined,
  where: string,
): void {
  if (typeof requirement === 'function') return;
  const option = `@Permissions() on ${where}`;
  if (schema === undefined) {
    throw new ApexAuthOptionsError(
      option,
      'names permissions, but the module has no `permissions` schema',
    );
  }
  if (typeof requirement === 'string') {
    const definition = schema.get(requirement);
    if (definition === undefined) {
      throw new ApexAuthOptionsError(option, `"${requirement}" is not a permission of the schema`);
    }
    if (definition.type !== 'boolean') {
      throw new ApexAuthOptionsError(
        option,
        `"${requirement}" is a ${definition.type} permission; require a value with { ${requirement}: … }`,
      );
    }
    return;
  }
  if (
    typeof requirement !== 'object' ||
    requirement === null ||
    Object.keys(requirement).length === 0
  ) {
    throw new ApexAuthOptionsError(
      option,
      'takes permission names, { name: value } objects or predicates',
    );
  }
  for (const [name, expected] of Object.entries(requirement)) {
    if (!schema.has(name)) {
      throw new ApexAuthOptionsError(option, `"${name}" is not a permission of the schema`);
    }
    const values: readonly unknown[] = Array.isArray(expected) ? expected : [expected];
    const unfit = values.find((value) => !schema.accepts(name, value));
    if (values.length === 0 || unfit !== undefined) {
      throw new ApexAuthOptionsError(
        option,
        `${JSON.stringify(unfit ?? values)} is not a value permission "${name}" can take`,
      );
    }
  }
}
