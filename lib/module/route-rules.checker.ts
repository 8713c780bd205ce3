import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { ApplicationConfig, DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import { APEX_AUTH_SETTINGS, type ApexAuthSettings } from './apex-auth.settings.js';
import { guardedGlobally, guardedHere } from '../auth/guard-coverage.js';
import { hasRequirement, publicConflict, routeRuleLevels } from '../auth/route-rules.js';
import { ApexAuthOptionsError } from '../errors/index.js';
import { checkRequirement } from '../permissions/permission-requirement.js';
import {
  GATEWAY_METADATA,
  GRAPHQL_MODULE_OPTIONS,
  MESSAGE_MAPPING_METADATA,
  PATTERN_METADATA,
  RESOLVER_PROPERTY_METADATA,
  RESOLVER_TYPE_METADATA,
} from '../transports/peer-metadata.js';

type Owner = abstract new (...args: never[]) => object;

/** What a handler is: a route, an rpc message handler, a gateway's, a resolver or a field resolver. */
type HandlerKind = 'route' | 'rpc' | 'message' | 'resolver' | 'field';

interface Handler {
  owner: Owner;
  handler: object;
  kind: HandlerKind;
}

/**
 * Checks every handler of the app when it starts (routes, resolvers and field
 * resolvers, gateways' message handlers, microservice message handlers), so
 * that a mistake in the decorators stops the deployment instead of answering
 * `403` to everyone, or worse, nothing to no one:
 * - every `@Permissions()` requirement (of the handler, its class and the
 *   class's base classes) names permissions of the schema, with values
 *   they can take;
 * - no `@Public()` is contradicted by a requirement at its level or a wider one;
 * - every handler with a requirement is guarded by `ApexAuthGuard` (globally,
 *   on its class or on the handler): with `globalGuard: false` a requirement
 *   on an unguarded handler would otherwise be silently open;
 * - a field resolver with a requirement runs guards at all: Nest runs them on
 *   field resolvers only with `fieldResolverEnhancers: ['guards']`;
 * - an rpc handler with a requirement can be served: without `rpcToken`, the
 *   guard denies every rpc message (which it says once, at startup).
 */
@Injectable()
export class RouteRulesChecker implements OnModuleInit {
  private readonly logger = new Logger('ApexAuth');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly config: ApplicationConfig,
    private readonly moduleRef: ModuleRef,
    @Inject(APEX_AUTH_SETTINGS) private readonly settings: ApexAuthSettings,
  ) {}

  onModuleInit(): void {
    const everyHandler = guardedGlobally(this.config);
    const handlers = this.handlers();
    for (const handler of handlers) this.checkHandler(handler, everyHandler);
    const rpc = handlers.filter(({ kind }) => kind === 'rpc');
    if (rpc.length > 0 && this.settings.rpcToken === undefined) {
      this.logger.warn(
        `${rpc.length} microservice message handler(s) are denied to every caller: ` +
          'give the rpcToken option to have them served (see the README)',
      );
    }
  }

  private checkHandler({ owner, handler, kind }: Handler, everyHandler: boolean): void {
    const levels = routeRuleLevels(owner, handler);
    const where = levels[0].where;
    for (const level of levels) {
      for (const requirement of level.permissions) {
        checkRequirement(requirement, this.settings.schema, level.where);
      }
    }
    const conflict = publicConflict(levels);
    if (conflict !== undefined) {
      throw new ApexAuthOptionsError(`@Public() on ${conflict.where}`, conflict.problem);
    }
    if (!levels.some(hasRequirement)) return;
    if (!everyHandler && !guardedHere(owner, handler)) {
      throw new ApexAuthOptionsError(
        where,
        'has a requirement (@Permissions(), @ServiceAdmin() or @SuperAdmin()) but no ApexAuthGuard ' +
          'guards it, so it would be open to anyone: add @UseGuards(ApexAuthGuard) to the route or ' +
          'its controller, register the guard globally, or leave globalGuard on',
      );
    }
    if (kind === 'field' && !this.fieldsGuarded()) {
      throw new ApexAuthOptionsError(
        where,
        'is a field resolver with a requirement, but Nest runs guards on field resolvers only with ' +
          "fieldResolverEnhancers: ['guards'] in GraphQLModule's options, so it would resolve for " +
          'anyone: add it',
      );
    }
    if (kind === 'rpc' && this.settings.rpcToken === undefined) {
      throw new ApexAuthOptionsError(
        where,
        'is a message handler with a requirement, but the rpcToken option is not set, so the guard ' +
          'cannot read a token from its messages and refuses them all: give rpcToken',
      );
    }
  }

  /** Every handler of the app's controllers and providers that the guard may be asked about. */
  private handlers(): Handler[] {
    const found: Handler[] = [];
    const scan = (owner: unknown, kindOf: (handler: object) => HandlerKind | undefined): void => {
      if (typeof owner !== 'function' || typeof owner.prototype !== 'object') return;
      const prototype = owner.prototype as Record<string, unknown>;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[method];
        const kind = typeof handler === 'function' ? kindOf(handler) : undefined;
        if (kind !== undefined)
          found.push({ owner: owner as Owner, handler: handler as object, kind });
      }
    };
    for (const { metatype } of this.discovery.getControllers()) {
      scan(metatype, (handler) =>
        has(PATH_METADATA, handler) ? 'route' : has(PATTERN_METADATA, handler) ? 'rpc' : undefined,
      );
    }
    for (const { metatype } of this.discovery.getProviders()) {
      const gateway = typeof metatype === 'function' && has(GATEWAY_METADATA, metatype);
      scan(metatype, (handler) => {
        if (gateway && has(MESSAGE_MAPPING_METADATA, handler)) return 'message';
        if (has(RESOLVER_PROPERTY_METADATA, handler)) return 'field';
        return has(RESOLVER_TYPE_METADATA, handler) ? 'resolver' : undefined;
      });
    }
    return found;
  }

  /** Whether GraphQL runs guards on field resolvers (no GraphQL module: no field is served). */
  private fieldsGuarded(): boolean {
    let options: { fieldResolverEnhancers?: unknown } | undefined;
    try {
      options = this.moduleRef.get(GRAPHQL_MODULE_OPTIONS, { strict: false });
    } catch {
      return true;
    }
    const enhancers = options?.fieldResolverEnhancers;
    return Array.isArray(enhancers) && enhancers.includes('guards');
  }
}

function has(key: string, target: object): boolean {
  return Reflect.getMetadata(key, target) !== undefined;
}
