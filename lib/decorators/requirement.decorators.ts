import 'reflect-metadata';
import { SetMetadata } from '@nestjs/common';
import type { PermissionRequirement } from '../permissions/permission-requirement.js';

/** Metadata key of `@Public()`. Namespaced, so it never collides with an app's own `isPublic`. */
export const APEX_AUTH_PUBLIC = 'apex-auth:public';
/** Metadata key of `@Permissions()`: a list, added to by every application. */
export const APEX_AUTH_PERMISSIONS = 'apex-auth:permissions';
/** Metadata key of `@ServiceAdmin()` and `@SuperAdmin()`: a list, likewise. */
export const APEX_AUTH_ROLES = 'apex-auth:roles';

/** The admin roles a route can require. */
export type AdminRole = 'service-admin' | 'superadmin';

/**
 * Marks a route, or every route of a controller, as callable without a token.
 * A valid token sent anyway still authenticates: `@CurrentUser()` sees the user
 * (and is `undefined` otherwise).
 *
 * A requirement (`@Permissions()`, `@ServiceAdmin()`, `@SuperAdmin()`) always
 * wins: on a handler of a `@Public()` controller it makes that handler need a
 * token and the requirement. `@Public()` where a requirement applies at the
 * same level or a wider one (on the same handler, the same class, or the
 * handler's controller) stops the app at startup, naming the route.
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(APEX_AUTH_PUBLIC, true);

/**
 * Requires permissions of the caller, on a handler or a whole controller. Every
 * requirement of every `@Permissions()` must hold: those on the handler, on its
 * controller and on the controller's base classes, however many times each is
 * applied. A missing one is a `403` that names it. Names and values are checked
 * against the permission schema at startup.
 *
 * @example
 * ```ts
 * @Permissions('canEdit', { region: ['eu', 'us'] }, (m: ShopPermissions) => m.maxDiscount >= 10)
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see PermissionRequirement
export const Permissions = <T extends object = any>(
  ...requirements: PermissionRequirement<T>[]
): MethodDecorator & ClassDecorator => appendMetadata(APEX_AUTH_PERMISSIONS, requirements);

/**
 * The caller must administer this service, or be a superadmin; otherwise `403`.
 * On a handler or a controller; it adds to every other requirement of the route.
 */
export const ServiceAdmin = (): MethodDecorator & ClassDecorator =>
  appendMetadata(APEX_AUTH_ROLES, ['service-admin' satisfies AdminRole]);

/**
 * The caller must be a superadmin (`isAdmin`); otherwise `403`.
 * On a handler or a controller; it adds to every other requirement of the route.
 */
export const SuperAdmin = (): MethodDecorator & ClassDecorator =>
  appendMetadata(APEX_AUTH_ROLES, ['superadmin' satisfies AdminRole]);

/**
 * A decorator that adds `values` to the list held under `key` by its target
 * (the class, or the handler function), instead of replacing it as
 * `SetMetadata` does: applied twice, both applications count. Only the
 * target's own list is extended, never one inherited from a base class, so a
 * subclass's decorator never changes what its parent requires.
 */
function appendMetadata(key: string, values: readonly unknown[]): MethodDecorator & ClassDecorator {
  const decorator = (
    target: object,
    _property?: string | symbol,
    descriptor?: PropertyDescriptor,
  ): void => {
    const holder = (descriptor?.value as object | undefined) ?? target;
    const own = (Reflect.getOwnMetadata(key, holder) as unknown[] | undefined) ?? [];
    Reflect.defineMetadata(key, [...own, ...values], holder);
  };
  return decorator;
}
