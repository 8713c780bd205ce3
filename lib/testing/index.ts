/**
 * Test support for `@apex/nest-auth`: an in-process emulator of the auth-service, and
 * {@link overrideAuthService} to point an app's module at it in a testing module.
 *
 * @packageDocumentation
 */
export { AuthServiceEmulator } from './emulator/auth-service-emulator.js';
export type {
  AuthServiceEmulatorOptions,
  EmulatorClientSeed,
  EmulatorEndpoint,
  EmulatorFault,
  EmulatorFaultOptions,
  EmulatorLatency,
  EmulatorPermissionSeed,
  EmulatorSeed,
  EmulatorServiceSeed,
  EmulatorSigning,
  EmulatorUserSeed,
  WirePermission,
  WireUser,
} from './emulator/options.js';
export {
  overrideAuthService,
  type EmulatedAuthOptions,
  type ProviderOverridingBuilder,
} from './override-auth-service.js';
