import { ApexAuthOptionsError } from '../errors/index.js';
import type { ApexAuthModuleOptions } from '../module/apex-auth.options.js';
import { MODULE_OPTIONS_TOKEN } from '../module/apex-auth.module-definition.js';
import type { AuthServiceEmulator } from './emulator/auth-service-emulator.js';

/**
 * What a test states about the service under test: the module options without
 * what points at the auth-service (`baseUrl`, `jwt`), which the emulator gives.
 */
export type EmulatedAuthOptions<T extends object = object> = Omit<
  ApexAuthModuleOptions<T>,
  'baseUrl' | 'jwt'
> & {
  /**
   * `'remote'` (default): every new token is checked at the emulator, as the module does
   * without `jwt`. `'local'`: tokens are verified with the emulator's key (its HS256
   * secret, or its JWKS when it signs with RS256), as with `jwt` in production.
   */
  verify?: 'remote' | 'local';
};

/**
 * What {@link overrideAuthService} needs of a testing module builder: `@nestjs/testing`'s
 * `TestingModuleBuilder` has it (typed structurally, so that this package does not
 * depend on `@nestjs/testing`).
 */
export interface ProviderOverridingBuilder<B> {
  overrideProvider(token: unknown): { useValue(value: unknown): B };
}

/**
 * Points the app's `ApexAuthModule` at an emulator in a `Test.createTestingModule`,
 * however the app registers it (`forRoot` or `forRootAsync`, whatever its factory
 * reads): the module's options are replaced, so the app's own configuration of the
 * auth-service (an environment it reads, secrets) is neither needed nor used. The
 * module's shape (global guard, controller) stays as the app registered it.
 *
 * `options` are the module options a test runs with, checked as the module checks
 * them, at `compile()`. Give `admin` (a user seeded as the service's admin) to run
 * the permission sync against the emulator; without it the sync is off.
 *
 * @example
 * ```ts
 * const moduleRef = await overrideAuthService(
 *   Test.createTestingModule({ imports: [AppModule] }),
 *   emulator,
 *   { serviceName: 'shop', permissions: ShopPermissions },
 * ).compile();
 * ```
 */
export function overrideAuthService<B, T extends object = object>(
  builder: ProviderOverridingBuilder<B>,
  emulator: AuthServiceEmulator,
  { verify = 'remote', ...options }: EmulatedAuthOptions<T>,
): B {
  if (verify !== 'remote' && verify !== 'local') {
    throw new ApexAuthOptionsError(
      'verify',
      `must be 'remote' or 'local', got ${JSON.stringify(verify)}`,
    );
  }
  const moduleOptions: ApexAuthModuleOptions<T> = { ...options, baseUrl: emulator.url };
  if (verify === 'local') {
    moduleOptions.jwt =
      emulator.hmacSecret === undefined
        ? { jwksUri: emulator.jwksUri }
        : { secret: emulator.hmacSecret };
  }
  return builder.overrideProvider(MODULE_OPTIONS_TOKEN).useValue(moduleOptions);
}
