import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';

/**
 * The leak sweep (issue 4) over every file of `test/security/`, `test/faults/` and
 * `test/transports/` (GraphQL, WebSockets, rpc: what their clients received too): what
 * the apps answered, logged (every level) and cached must hold no test user's password,
 * no token the emulator issued (the module's admin token included), no JWT or client
 * secret and no password hash. The shared fixtures record into the sweep
 * (`test/fixtures/leak-sweep.ts`); after the file it is searched, and the file fails
 * with the list of hits. Other files are not swept: for them this setup does nothing.
 *
 * Vitest runs this before each test file, in that file's own module graph (`isolate`),
 * so the sweep, the patched `AuthServiceEmulator.start` and Nest's static logger below
 * last for one file only.
 */
const SWEPT = /^test\/(?:security|faults|redis|transports)\//;
const root = fileURLToPath(new URL('..', import.meta.url));
const file = relative(root, expect.getState().testPath ?? '').replaceAll('\\', '/');

if (SWEPT.test(file)) {
  const { leakSweep } = await import('./fixtures/leak-sweep.js');
  const { AuthServiceEmulator } = await import('@apex/nest-auth/testing');
  const { Logger } = await import('@nestjs/common');
  leakSweep.arm(file);

  // Emulators a spec starts itself, not through the shop fixtures, are searched for too.
  const start = AuthServiceEmulator.start.bind(AuthServiceEmulator);
  AuthServiceEmulator.start = async (options) =>
    leakSweep.watchEmulator(await start(options), options);

  beforeAll(() => {
    // What Nest's loggers log outside any app (a key source a test builds) is swept too;
    // each app's own logger takes over when it starts.
    Logger.overrideLogger(leakSweep.outsideLogger());
  });

  // Registered first, so run last: after every suite of the file closed its apps.
  afterAll(() => {
    const report = leakSweep.sweep();
    if (report !== undefined) throw new Error(report);
  });
}
