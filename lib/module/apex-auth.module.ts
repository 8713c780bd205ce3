import { HttpModule } from '@nestjs/axios';
import { Inject, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AuthServiceError } from '../errors/index.js';
import { ApexAuthConfigurableModule } from './apex-auth.module-definition.js';
import { APEX_AUTH_EXPORTS, APEX_AUTH_PROVIDERS } from './apex-auth.providers.js';
import { type ApexAuthSettings, APEX_AUTH_SETTINGS } from './apex-auth.settings.js';

/**
 * Authenticates users and authorizes requests against the Apex auth-service.
 *
 * `forRoot(options)` with options known up front, or `forRootAsync({ useFactory,
 * inject })` (or `useClass`, `useExisting`) with options made from config. The
 * extras that shape the module (`isGlobal`, `globalGuard`, `controller`) go
 * into `forRoot`'s options, or next to `useFactory`. Global by default:
 * `AuthApi`, `ApexAuthGuard` and the decorators work in every module of the
 * app once this is imported in the root module.
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

  constructor(@Inject(APEX_AUTH_SETTINGS) private readonly settings: ApexAuthSettings) {
    super();
  }

  /** Loads the JWKS ahead of the first request; a failure is retried on demand. */
  async onModuleInit(): Promise<void> {
    const keys = this.settings.jwt?.keys;
    if (keys?.warmUp === undefined) return;
    await keys.warmUp().catch((error: unknown) => {
      const reason = error instanceof AuthServiceError ? error.message : 'unexpected error';
      this.logger.warn(`JWKS not loaded at startup (${reason}); will retry on the first token`);
    });
  }
}
