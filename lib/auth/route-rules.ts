import 'reflect-metadata';
import {
  APEX_AUTH_PERMISSIONS,
  APEX_AUTH_PUBLIC,
  APEX_AUTH_ROLES,
  type AdminRole,
} from '../decorators/requirement.decorators.js';
import type { PermissionRequirement } from '../permissions/permission-requirement.js';

/**
 * What the decorators declare at one place a route inherits from, the most
 * specific first: depth 0 is the handler (with the base-class methods it
 * overrides), 1 its controller, 2 the controller's parent class, and so on.
 */
export interface RouteRuleLevel {
  depth: number;
  /** `Controller.method` or `Controller`, for messages. */
  where: string;
  isPublic: boolean;
  roles: readonly AdminRole[];
  permissions: readonly PermissionRequirement[];
}

/** What a route requires, once its levels are combined. */
export interface RouteRules {
  /** No token needed: `@Public()` applies and no requirement does. */
  readonly isPublic: boolean;
  /** Every admin role required, each once. */
  readonly roles: readonly AdminRole[];
  /** Every permission requirement, from every level. */
  readonly permissions: readonly PermissionRequirement[];
}

type Constructor = abstract new (...args: never[]) => unknown;

/**
 * The levels of a route. Requirements are read from each level's own metadata
 * and added up, so that a decorator on a subclass or a second decorator on a
 * handler never replaces one elsewhere. A base-class method that the handler
 * overrides keeps its requirements (not its `@Public()`): overriding a method
 * must not be a way to drop what it required.
 */
export function routeRuleLevels(controller: Constructor, handler: object): RouteRuleLevel[] {
  // The property that holds the handler, found by identity: a wrapping decorator may rename the function.
  const name = propertyHolding(controller, handler);
  const handlers = [handler];
  const classes: Constructor[] = [];
  for (
    let current: unknown = controller;
    typeof current === 'function' && current !== Function.prototype;
    current = Object.getPrototypeOf(current)
  ) {
    const type = current as Constructor;
    classes.push(type);
    const own =
      name === undefined ? undefined : Object.getOwnPropertyDescriptor(type.prototype, name);
    const overridden = own?.value as unknown;
    if (typeof overridden === 'function' && !handlers.includes(overridden))
      handlers.push(overridden);
  }
  const handlerLevel: RouteRuleLevel = {
    depth: 0,
    where: `${controller.name}.${String(name ?? (handler as { name?: unknown }).name)}`,
    isPublic: Reflect.getOwnMetadata(APEX_AUTH_PUBLIC, handler) === true,
    roles: handlers.flatMap((target) => ownList<AdminRole>(APEX_AUTH_ROLES, target)),
    permissions: handlers.flatMap((target) =>
      ownList<PermissionRequirement>(APEX_AUTH_PERMISSIONS, target),
    ),
  };
  return [
    handlerLevel,
    ...classes.map((type, i) => ({
      depth: i + 1,
      where: type.name,
      isPublic: Reflect.getOwnMetadata(APEX_AUTH_PUBLIC, type) === true,
      roles: ownList<AdminRole>(APEX_AUTH_ROLES, type),
      permissions: ownList<PermissionRequirement>(APEX_AUTH_PERMISSIONS, type),
    })),
  ];
}

const rulesByController = new WeakMap<object, WeakMap<object, RouteRules>>();

/**
 * The combined rules of a route, computed once per controller and handler:
 * the guard asks on every request.
 */
export function routeRules(controller: Constructor, handler: object): RouteRules {
  let byHandler = rulesByController.get(controller);
  if (byHandler === undefined) {
    byHandler = new WeakMap();
    rulesByController.set(controller, byHandler);
  }
  let rules = byHandler.get(handler);
  if (rules === undefined) {
    rules = combine(routeRuleLevels(controller, handler));
    byHandler.set(handler, rules);
  }
  return rules;
}

/** Whether a level declares any requirement. */
export function hasRequirement(level: Pick<RouteRuleLevel, 'roles' | 'permissions'>): boolean {
  return level.roles.length > 0 || level.permissions.length > 0;
}

/**
 * Why a route's `@Public()` cannot mean what it says: a requirement applies at
 * the same level or a wider one (a `@Public()` handler in a controller that
 * requires a permission, say). `undefined` when the declarations fit together.
 */
export function publicConflict(
  levels: readonly RouteRuleLevel[],
): { where: string; problem: string } | undefined {
  const open = levels.find((level) => level.isPublic);
  if (open === undefined) return undefined;
  const widest = levels
    .filter((level) => level.depth >= open.depth && hasRequirement(level))
    .at(-1);
  if (widest === undefined) return undefined;
  const what = [
    ...new Set([
      ...widest.roles.map((role) => (role === 'superadmin' ? '@SuperAdmin()' : '@ServiceAdmin()')),
      ...(widest.permissions.length > 0 ? ['@Permissions()'] : []),
    ]),
  ].join(' and ');
  return {
    where: open.where,
    problem: `conflicts with ${what} on ${widest.where}: a requirement always applies, so the route cannot be public; remove one of them`,
  };
}

function combine(levels: readonly RouteRuleLevel[]): RouteRules {
  const roles = [...new Set(levels.flatMap((level) => level.roles))];
  const permissions = levels.flatMap((level) => level.permissions);
  const required = roles.length > 0 || permissions.length > 0;
  return Object.freeze({
    isPublic: !required && levels.some((level) => level.isPublic),
    roles: Object.freeze(roles),
    permissions: Object.freeze(permissions),
  });
}

/** The key under which the controller (or a base class) holds the handler. */
function propertyHolding(controller: Constructor, handler: object): string | symbol | undefined {
  for (
    let prototype: unknown = controller.prototype;
    prototype !== null && prototype !== Object.prototype;
    prototype = Object.getPrototypeOf(prototype)
  ) {
    for (const key of Reflect.ownKeys(prototype as object)) {
      if (Object.getOwnPropertyDescriptor(prototype, key)?.value === handler) return key;
    }
  }
  return undefined;
}

function ownList<V>(key: string, target: object): V[] {
  const list = Reflect.getOwnMetadata(key, target) as unknown;
  return Array.isArray(list) ? (list as V[]) : [];
}
