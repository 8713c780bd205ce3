import { PATH_METADATA } from '@nestjs/common/constants.js';
import type { DiscoveryService, MetadataScanner } from '@nestjs/core';

/** A controller class, as the route rules read it. */
export type ControllerClass = abstract new (...args: never[]) => object;

/** One route of the app: its controller, its handler function and the property that holds it. */
export interface AppRoute {
  controller: ControllerClass;
  handler: object;
  method: string;
}

/** Every route of every controller of the app (a handler with a path; inherited ones included). */
export function appRoutes(discovery: DiscoveryService, scanner: MetadataScanner): AppRoute[] {
  const routes: AppRoute[] = [];
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as ControllerClass | null;
    if (typeof controller !== 'function') continue;
    const prototype = controller.prototype as Record<string, unknown>;
    for (const method of scanner.getAllMethodNames(prototype)) {
      const handler = prototype[method];
      if (
        typeof handler !== 'function' ||
        Reflect.getMetadata(PATH_METADATA, handler) === undefined
      )
        continue;
      routes.push({ controller, handler, method });
    }
  }
  return routes;
}
