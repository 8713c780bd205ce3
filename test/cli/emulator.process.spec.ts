import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../fixtures/http.js';
import { compileLib } from './fixtures/compile-lib.js';
import { parseEmulatorOutput, READY_LINE } from './fixtures/emulator-output.js';

// `apex-auth emulator` as a real process, for what only a process shows: the exit code,
// and how it ends on a real SIGINT or SIGTERM. It runs the current source, compiled
// for the purpose, so that it needs no build (`npm test` on a fresh machine has none).

const SEED = fileURLToPath(new URL('../../examples/emulator-seed.json', import.meta.url));

let lib: string;
beforeAll(() => {
  lib = compileLib();
});
afterAll(() => rmSync(lib, { recursive: true, force: true }));

/** Starts `apex-auth emulator …`; `ready` resolves once it has printed all it prints at start. */
function emulatorProcess(args: string[]) {
  const child = spawn(process.execPath, [join(lib, 'cli', 'apex-auth.js'), 'emulator', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const ready = new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.endsWith(READY_LINE)) resolve();
    });
    void exited.then(() => resolve());
  });
  return { child, ready, exited, stdout: () => stdout, stderr: () => stderr };
}

describe('apex-auth emulator, a real process', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    'serves the printed tokens, and %s stops it with exit code 0, a hanging request or not',
    async (signal) => {
      const emulator = emulatorProcess([
        '--port',
        '0',
        '--seed',
        SEED,
        '--fail',
        'hang@metadata:1',
      ]);
      await emulator.ready;
      expect(emulator.stderr()).toBe('');
      const { url, tokens } = parseEmulatorOutput(emulator.stdout());
      const me = await call(`${url}/auth/user`, { token: tokens.editor });
      expect(me.status).toBe(200);
      expect(me.body.username).toBe('editor');

      // Of two metadata requests, one takes the fault and hangs: once the other has its
      // answer, the emulator is holding a connection open that will never finish.
      const requests = [1, 2].map(() =>
        call(`${url}/services/shop/metadata/${me.body.id}`, { token: tokens.editor }),
      );
      expect((await Promise.race(requests)).status).toBe(200);

      emulator.child.kill(signal);
      expect(await emulator.exited).toEqual([0, null]);
      expect(emulator.stdout()).toMatch(/auth-service emulator stopped\n$/);
      const settled = await Promise.allSettled(requests);
      expect(settled.map((request) => request.status).sort()).toEqual(['fulfilled', 'rejected']);
    },
  );

  it('exits 1 for a bad seed file, naming the field', async () => {
    const emulator = emulatorProcess(['--seed', join(lib, 'package.json')]);
    expect(await emulator.exited).toEqual([1, null]);
    expect(emulator.stdout()).toBe('');
    expect(emulator.stderr()).toBe(
      `apex-auth: --seed ${join(lib, 'package.json')}: type: unknown field (known: users, services, clients)\n`,
    );
  });
});
