import { HttpModule } from '@nestjs/axios';
import { Inject, Logger, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { APEX_AUTH_RESOLVED_OPTIONS } from '../apex-auth.constants.js';
import { ApexAuthGuard } from '../auth/apex-auth.guard.js';
import { createAuthController } from '../controller/auth.controller.js';
import { AuthServiceError } from '../errors/index.js';
import {
  APEX_AUTH_EXTRAS_DEFAULTS,
  ApexAuthConfigurableModule,
  ASYNC_OPTIONS_TYPE,
  OPTIONS_TYPE,
} from './apex-auth.module-definition.js';
import type { ApexAuthModuleExtras, ResolvedApexAuthOptions } from './apex-auth.options.js';
import { APEX_AUTH_EXPORTS, APEX_AUTH_PROVIDERS } from './apex-auth.providers.js';

/**
 * Authenticates users and authorizes requests against the Apex auth-service.
 *
 * Global: `AuthApi`, `ApexAuthGuard` and the decorators work in every module
 * of the app once this is imported in the root module.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     ApexAuthModule.forRoot({
 *       baseUrl: 'http://auth-service:8000',
 *       serviceName: 'shop',
 *       permissions: ShopPermissions,
 *       admin: { username: 'shop-admin', password: process.env.SHOP_ADMIN_PASSWORD! },
 *     }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 */
@Module({
  imports: [HttpModule, DiscoveryModule],
  providers: APEX_AUTH_PROVIDERS,
  exports: APEX_AUTH_EXPORTS,
})
export class ApexAuthModule extends ApexAuthConfigurableModule implements OnModuleInit {
  private readonly logger = new Logger('ApexAuth');

  constructor(
    @Inject(APEX_AUTH_RESOLVED_OPTIONS) private readonly options: ResolvedApexAuthOptions,
  ) {
    super();
  }

  /** Registers the module with options known up front. */
  static override forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    return shape(super.forRoot(options), options);
  }

  /**
   * Registers the module with options made by a factory (for example from
   * `ConfigService`). `globalGuard` and `controller` go next to `useFactory`.
   */
  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return shape(super.forRootAsync(options), options);
  }

  /** Loads the JWKS ahead of the first request; a failure is retried on demand. */
  async onModuleInit(): Promise<void> {
    const keys = this.options.jwt?.keys;
    if (keys?.warmUp === undefined) return;
    await keys.warmUp().catch((error: unknown) => {
      const reason = error instanceof AuthServiceError ? error.message : 'unexpected error';
      this.logger.warn(`JWKS not loaded at startup (${reason}); will retry on the first token`);
    });
  }
}

function shape(definition: DynamicModule, extras: ApexAuthModuleExtras): DynamicModule {
  const globalGuard = extras.globalGuard ?? APEX_AUTH_EXTRAS_DEFAULTS.globalGuard;
  const controller = extras.controller ?? APEX_AUTH_EXTRAS_DEFAULTS.controller;
  return {
    ...definition,
    global: true,
    controllers:
      controller === false ? [] : [createAuthController(controller.path ?? 'auth', !globalGuard)],
    providers: [
      ...(definition.providers ?? []),
      ...(globalGuard ? [{ provide: APP_GUARD, useExisting: ApexAuthGuard }] : []),
    ],
  };
}
