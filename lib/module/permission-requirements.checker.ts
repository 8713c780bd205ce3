import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { APEX_AUTH_PERMISSIONS, APEX_AUTH_RESOLVED_OPTIONS } from '../apex-auth.constants.js';
import { checkRequirement } from '../permissions/permission-requirement.js';
import type { ResolvedApexAuthOptions } from './apex-auth.options.js';

/**
 * Checks every `@Permissions()` of the app's controllers against the schema
 * when the app starts, so that a typo in a permission name stops the
 * deployment instead of answering `403` to everyone.
 */
@Injectable()
export class PermissionRequirementsChecker implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @Inject(APEX_AUTH_RESOLVED_OPTIONS) private readonly options: ResolvedApexAuthOptions,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (typeof controller !== 'function') continue;
      this.checkTarget(controller, controller.name);
      for (const method of this.scanner.getAllMethodNames(controller.prototype as object)) {
        const handler = (controller.prototype as Record<string, unknown>)[method];
        if (typeof handler === 'function')
          this.checkTarget(handler, `${controller.name}.${method}`);
      }
    }
  }

  private checkTarget(target: object, where: string): void {
    const requirements = this.reflector.get<unknown[] | undefined>(
      APEX_AUTH_PERMISSIONS,
      target as never,
    );
    for (const requirement of requirements ?? []) {
      checkRequirement(requirement, this.options.schema, where);
    }
  }
}
