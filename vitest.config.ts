import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  // Nest's DI and @PermissionField read `design:*` metadata, which only the
  // legacy decorator transform emits.
  oxc: {
    decorator: { legacy: true, emitDecoratorMetadata: true },
  },
  resolve: {
    // Tests and examples import the package by its public name, as users do.
    alias: [
      { find: /^@apex\/nest-auth\/testing$/, replacement: source('./lib/testing/index.ts') },
      { find: /^@apex\/nest-auth\/graphql$/, replacement: source('./lib/graphql/index.ts') },
      { find: /^@apex\/nest-auth\/websockets$/, replacement: source('./lib/websockets/index.ts') },
      {
        find: /^@apex\/nest-auth\/microservices$/,
        replacement: source('./lib/microservices/index.ts'),
      },
      { find: /^@apex\/nest-auth$/, replacement: source('./lib/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.spec.ts', 'lib/**/*.spec.ts', 'examples/**/*.spec.ts'],
    // The leak sweep of test/security and test/faults (a no-op for the other files).
    setupFiles: ['test/leak-sweep.setup.ts'],
    // Two cores: one worker per core keeps the emulator-backed suites from starving each other.
    pool: 'forks',
    maxWorkers: 2,
    benchmark: { include: ['bench/**/*.bench.ts'] },
    testTimeout: 15_000,
    hookTimeout: 30_000,
  },
});
