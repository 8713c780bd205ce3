import type { ApplicationConfig } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { guardedGlobally, guardedHere, routeGuards } from '../auth/guard-coverage.js';
import { routeRules } from '../auth/route-rules.js';
import { AuthController } from '../login/auth.controller.js';
import type { AppRoute } from '../module/app-routes.js';
import { requirementNames } from '../permissions/permission-requirement.js';

/**
 * The operation extension that carries a route's security from its handler into
 * the document `SwaggerModule.createDocument` makes; `ApexAuthSwagger.setup`
 * turns it into `security` and takes it out.
 */
export const ROUTE_SECURITY_EXTENSION = 'x-apex-auth';

/** What the module's decorators say of one route, for its operation in the document. */
export interface RouteSecurity {
  /** `secured`: a bearer token is needed; `open`: `@Public()`, none is. */
  access: 'secured' | 'open';
  /** The permissions `@Permissions()` names (a predicate by its function name), values left out. */
  permissions: string[];
  /** What `@ServiceAdmin()` and `@SuperAdmin()` require. */
  roles: ('service admin' | 'superadmin')[];
  /** `AuthController`'s token endpoints, where the OAuth2 password flow points. */
  endpoint?: 'password-login' | 'refresh';
}

/** One app, as the routes' security is read: its global guards and the strategy's name. */
export interface RouteSecuritySource {
  config: ApplicationConfig;
  strategyName: string;
}

/** Per handler function: the routes it serves, per app alive in the process. */
const routesOfHandler = new WeakMap<object, Map<RouteSecuritySource, AppRoute[]>>();

/**
 * Puts the security of every route of an app into its handler's operation
 * extensions (`@nestjs/swagger`'s `ApiExtension` metadata, under `metadataKey`).
 *
 * The extension is a getter: `createDocument` reads it when it builds the
 * document, by then the app has registered its own global guards
 * (`useGlobalGuards`, `APP_GUARD`), which the module cannot know when it is
 * built. A handler serves one operation per controller, but holds one set of
 * metadata: where several controllers (a base and its subclasses) or several
 * apps route it, a route that needs a token anywhere is shown as secured.
 *
 * @returns what takes the app's routes out again (when the app closes)
 */
export function describeRouteSecurity(
  routes: readonly AppRoute[],
  source: RouteSecuritySource,
  metadataKey: string,
): () => void {
  for (const route of routes) {
    let sources = routesOfHandler.get(route.handler);
    if (sources === undefined) {
      sources = new Map();
      routesOfHandler.set(route.handler, sources);
      installExtension(route.handler, metadataKey, sources);
    }
    sources.set(source, [...(sources.get(source) ?? []), route]);
  }
  return () => {
    for (const route of routes) routesOfHandler.get(route.handler)?.delete(source);
  };
}

function installExtension(
  handler: object,
  metadataKey: string,
  sources: ReadonlyMap<RouteSecuritySource, AppRoute[]>,
): void {
  const extensions: Record<string, unknown> = {
    ...((Reflect.getOwnMetadata(metadataKey, handler) as object | undefined) ?? {}),
  };
  Object.defineProperty(extensions, ROUTE_SECURITY_EXTENSION, {
    enumerable: true,
    get: () => combined(sources),
  });
  Reflect.defineMetadata(metadataKey, extensions, handler);
}

function combined(
  sources: ReadonlyMap<RouteSecuritySource, AppRoute[]>,
): RouteSecurity | undefined {
  const known = [...sources].flatMap(([source, routes]) =>
    routes.map((route) => securityOf(route, source)).filter((security) => security !== undefined),
  );
  if (known.length === 0) return undefined;
  const secured = known.some((security) => security.access === 'secured');
  const endpoint = known.find((security) => security.endpoint !== undefined)?.endpoint;
  return {
    access: secured ? 'secured' : 'open',
    permissions: [...new Set(known.flatMap((security) => security.permissions))],
    roles: [...new Set(known.flatMap((security) => security.roles))],
    ...(endpoint === undefined ? {} : { endpoint }),
  };
}

/**
 * One route's security, or `undefined` when it is none of the module's business:
 * not guarded by it, not `@Public()`, or guarded by a Passport strategy of the
 * app's own (which may or may not want the module's token).
 */
function securityOf(route: AppRoute, source: RouteSecuritySource): RouteSecurity | undefined {
  const { controller, handler } = route;
  const rules = routeRules(controller, handler);
  const guards = routeGuards(controller, handler);
  const ours = AuthGuard(source.strategyName) as unknown;
  const byOurStrategy = guards.includes(ours);
  const byOtherStrategy = guards.some((guard) => guard !== ours && isPassportGuard(guard));
  const byApexGuard = guardedGlobally(source.config) || guardedHere(controller, handler);
  let access: RouteSecurity['access'];
  if (byOurStrategy || (byApexGuard && !rules.isPublic)) access = 'secured';
  else if (rules.isPublic && !byOtherStrategy) access = 'open';
  else return undefined;
  const security: RouteSecurity = {
    access,
    permissions: [...new Set(rules.permissions.flatMap(requirementNames))],
    roles: rules.roles.map((role) => (role === 'superadmin' ? 'superadmin' : 'service admin')),
  };
  const endpoint = tokenEndpoint(route);
  if (endpoint !== undefined) security.endpoint = endpoint;
  return security;
}

/** `AuthController`'s password login and refresh, inherited by a subclass as they are. */
function tokenEndpoint({ controller, handler, method }: AppRoute): RouteSecurity['endpoint'] {
  if (controller !== AuthController && !(controller.prototype instanceof AuthController)) {
    return undefined;
  }
  const prototype = AuthController.prototype as unknown as Record<string, unknown>;
  if (method === 'login' && handler === prototype.login) return 'password-login';
  if (method === 'refresh' && handler === prototype.refresh) return 'refresh';
  return undefined;
}

/** A guard of `@nestjs/passport`'s `AuthGuard(...)`: its classes have this hook. */
function isPassportGuard(guard: unknown): boolean {
  return (
    typeof guard === 'function' &&
    typeof (guard.prototype as { getAuthenticateOptions?: unknown }).getAuthenticateOptions ===
      'function'
  );
}
