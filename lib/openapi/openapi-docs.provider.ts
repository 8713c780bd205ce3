import type { OnModuleDestroy, Provider } from '@nestjs/common';
import { ApplicationConfig, DiscoveryService, MetadataScanner } from '@nestjs/core';
import { appRoutes } from '../module/app-routes.js';
import { APEX_AUTH_SETTINGS, type ApexAuthSettings } from '../module/apex-auth.settings.js';
import { importOptionalPeer } from '../module/optional-peer.js';
import { documentAuthRoutes } from './auth-routes.docs.js';
import { describeRouteSecurity } from './route-security.js';

/** The token of the provider below (nothing injects it: it works as it is made). */
const APEX_AUTH_OPENAPI = Symbol('APEX_AUTH_OPENAPI');

/**
 * When the app has `@nestjs/swagger`, documents the login routes and puts every
 * route's security into the document's operations, for `ApexAuthSwagger.setup`.
 * It runs as Nest makes the module's providers (`NestFactory.create`, or
 * `compile()` of a testing module): after every controller is known, and
 * before the app can call `SwaggerModule.createDocument`. Without
 * `@nestjs/swagger` it does nothing.
 */
export const openApiDocs: Provider = {
  provide: APEX_AUTH_OPENAPI,
  inject: [DiscoveryService, MetadataScanner, ApplicationConfig, APEX_AUTH_SETTINGS],
  useFactory: async (
    discovery: DiscoveryService,
    scanner: MetadataScanner,
    config: ApplicationConfig,
    { strategyName }: ApexAuthSettings,
  ): Promise<OnModuleDestroy | undefined> => {
    const swagger = await importOptionalPeer('@nestjs/swagger', () => import('@nestjs/swagger'));
    if (swagger === undefined) return undefined;
    documentAuthRoutes(swagger);
    const forget = describeRouteSecurity(
      appRoutes(discovery, scanner),
      { config, strategyName },
      swagger.DECORATORS.API_EXTENSION,
    );
    return { onModuleDestroy: forget };
  },
};
