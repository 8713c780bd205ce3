import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { GUARDS_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ApplicationConfig, DiscoveryService, MetadataScanner } from '@nestjs/core';
import { APEX_AUTH_SETTINGS, type ApexAuthSettings } from './apex-auth.settings.js';
import { ApexAuthGuard } from '../auth/apex-auth.guard.js';
import { hasRequirement, publicConflict, routeRuleLevels } from '../auth/route-rules.js';
import { ApexAuthOptionsError } from '../errors/index.js';
import { checkRequirement } from '../permissions/permission-requirement.js';

type Controller = abstract new (...args: never[]) => object;

/**
 * Checks every route of the app when it starts, so that a mistake in the
 * decorators stops the deployment instead of answering `403` to everyone, or
 * worse, nothing to no one:
 * - every `@Permissions()` requirement (of the handler, its controller and the
 *   controller's base classes) names permissions of the schema, with values
 *   they can take;
 * - no `@Public()` is contradicted by a requirement at its level or a wider one;
 * - every route with a requirement is guarded by `ApexAuthGuard` (globally, on
 *   its controller or on the handler): with `globalGuard: false` a requirement
 *   on an unguarded route would otherwise be silently open.
 */
@Injectable()
export class RouteRulesChecker implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly config: ApplicationConfig,
    @Inject(APEX_AUTH_SETTINGS) private readonly settings: ApexAuthSettings,
  ) {}

  onModuleInit(): void {
    const guardedGlobally = this.guardedGlobally();
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as Controller | null;
      if (typeof controller !== 'function') continue;
      const prototype = controller.prototype as Record<string, unknown>;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[method];
        if (typeof handler !== 'function' || !isRoute(handler)) continue;
        this.checkRoute(controller, handler, guardedGlobally);
      }
    }
  }

  private checkRoute(controller: Controller, handler: object, guardedGlobally: boolean): void {
    const levels = routeRuleLevels(controller, handler);
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
    if (!guardedGlobally && levels.some(hasRequirement) && !guardedHere(controller, handler)) {
      throw new ApexAuthOptionsError(
        where,
        'has a requirement (@Permissions(), @ServiceAdmin() or @SuperAdmin()) but no ApexAuthGuard ' +
          'guards it, so it would be open to anyone: add @UseGuards(ApexAuthGuard) to the route or ' +
          'its controller, register the guard globally, or leave globalGuard on',
      );
    }
  }

  /** `globalGuard: true`, or the app registered the guard for every route itself. */
  private guardedGlobally(): boolean {
    return (
      this.config.getGlobalGuards().some(isApexAuthGuard) ||
      this.config.getGlobalRequestGuards().some((wrapper) => isApexAuthGuard(wrapper.metatype))
    );
  }
}

function isRoute(handler: object): boolean {
  return Reflect.getMetadata(PATH_METADATA, handler) !== undefined;
}

/** `@UseGuards()` on the handler or its controller (a base class's included, as Nest reads them). */
function guardedHere(controller: Controller, handler: object): boolean {
  const guards = [
    ...((Reflect.getMetadata(GUARDS_METADATA, controller) as unknown[] | undefined) ?? []),
    ...((Reflect.getMetadata(GUARDS_METADATA, handler) as unknown[] | undefined) ?? []),
  ];
  return guards.some(isApexAuthGuard);
}

/** The guard class, a subclass of it, or an instance of either. */
function isApexAuthGuard(guard: unknown): boolean {
  if (typeof guard === 'function') {
    return guard === ApexAuthGuard || guard.prototype instanceof ApexAuthGuard;
  }
  return guard instanceof ApexAuthGuard;
}
