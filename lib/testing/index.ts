/**
 * Test support for `@apex/nest-auth`: an in-process emulator of the auth-service.
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
