import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ApplicationConfig, DiscoveryService, MetadataScanner } from '@nestjs/core';
import { appRoutes, type ControllerClass } from './app-routes.js';
import { APEX_AUTH_SETTINGS, type ApexAuthSettings } from './apex-auth.settings.js';
import { guardedGlobally, guardedHere } from '../auth/guard-coverage.js';
import { hasRequirement, publicConflict, routeRuleLevels } from '../auth/route-rules.js';
import { ApexAuthOptionsError } from '../errors/index.js';
import { checkRequirement } from '../permissions/permission-requirement.js';

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
    const everyRoute = guardedGlobally(this.config);
    for (const { controller, handler } of appRoutes(this.discovery, this.scanner)) {
      this.checkRoute(controller, handler, everyRoute);
    }
  }

  private checkRoute(controller: ControllerClass, handler: object, everyRoute: boolean): void {
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
    if (!everyRoute && levels.some(hasRequirement) && !guardedHere(controller, handler)) {
      throw new ApexAuthOptionsError(
        where,
        'has a requirement (@Permissions(), @ServiceAdmin() or @SuperAdmin()) but no ApexAuthGuard ' +
          'guards it, so it would be open to anyone: add @UseGuards(ApexAuthGuard) to the route or ' +
          'its controller, register the guard globally, or leave globalGuard on',
      );
    }
  }
}
