import { GUARDS_METADATA } from '@nestjs/common/constants.js';
import type { ApplicationConfig } from '@nestjs/core';
import type { ControllerClass } from '../module/app-routes.js';
import { ApexAuthGuard } from './apex-auth.guard.js';

/**
 * Whether `ApexAuthGuard` guards every route of the app: `globalGuard: true`, or
 * the app registered it globally itself (`APP_GUARD`, `useGlobalGuards`).
 */
export function guardedGlobally(config: ApplicationConfig): boolean {
  return (
    config.getGlobalGuards().some(isApexAuthGuard) ||
    config.getGlobalRequestGuards().some((wrapper) => isApexAuthGuard(wrapper.metatype))
  );
}

/** The guards of `@UseGuards()` on the handler or its controller (a base class's included, as Nest reads them). */
export function routeGuards(controller: ControllerClass, handler: object): unknown[] {
  return [
    ...((Reflect.getMetadata(GUARDS_METADATA, controller) as unknown[] | undefined) ?? []),
    ...((Reflect.getMetadata(GUARDS_METADATA, handler) as unknown[] | undefined) ?? []),
  ];
}

/** `@UseGuards(ApexAuthGuard)` (or a subclass) on the handler or its controller. */
export function guardedHere(controller: ControllerClass, handler: object): boolean {
  return routeGuards(controller, handler).some(isApexAuthGuard);
}

/** The guard class, a subclass of it, or an instance of either. */
function isApexAuthGuard(guard: unknown): boolean {
  if (typeof guard === 'function') {
    return guard === ApexAuthGuard || guard.prototype instanceof ApexAuthGuard;
  }
  return guard instanceof ApexAuthGuard;
}
