import { ApexAuthModule } from '@apex/nest-auth';
import { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CLI_HELP } from '../../lib/cli/cli-help.js';
import { EMULATOR_HELP } from '../../lib/cli/emulator-help.js';
import { call } from '../fixtures/http.js';
import { startApp } from '../fixtures/start-app.js';
import {
  emulatorCommand,
  stopAllCommands,
  stopCommand,
  type EmulatorCommand,
} from './fixtures/emulator-command.js';
import { parseEmulatorOutput, type EmulatorOutput } from './fixtures/emulator-output.js';

// `apex-auth emulator` in process, stopped by signals a test emits, and used over real
// HTTP as a developer would use it: with the printed tokens, and by an app configured
// with the printed settings. test/cli/emulator.process.spec.ts runs it as a real process.

const SEED = fileURLToPath(new URL('../../examples/emulator-seed.json', import.meta.url));

const scratch = mkdtempSync(join(tmpdir(), 'apex-auth-emulator-cli-'));

afterEach(stopAllCommands);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function startedEmulator(args: string[]): Promise<[EmulatorCommand, EmulatorOutput]> {
  const command = await emulatorCommand(['--port', '0', ...args]);
  expect(command.stderr()).toBe('');
  return [command, parseEmulatorOutput(command.stdout())];
}

function seedFile(name: string, content: string): string {
  const path = join(scratch, name);
  writeFileSync(path, content);
  return path;
}

describe('apex-auth emulator', () => {
  it('--help prints its usage, and apex-auth --help names the command', async () => {
    for (const flag of ['--help', '-h']) {
      const command = await emulatorCommand([flag]);
      expect(await command.exit).toBe(0);
      expect(command.stdout()).toBe(EMULATOR_HELP);
    }
    expect(EMULATOR_HELP).toMatch(/^Usage: apex-auth emulator \[options\]/);
    expect(CLI_HELP).toContain('apex-auth emulator [options]');
  });

  it.each([
    ['hs256', 'HS256'],
    ['rs256', 'RS256'],
  ])(
    '--signing %s: prints a token that works for each seeded user, and settings that configure a service',
    async (flag, algorithm) => {
      const [command, printed] = await startedEmulator(['--seed', SEED, '--signing', flag]);
      expect(command.stdout()).toContain(`  signing  ${algorithm}\n`);
      expect(Object.keys(printed.tokens)).toEqual(['viewer', 'editor', 'admin']);
      for (const [username, token] of Object.entries(printed.tokens)) {
        const answer = await call(`${printed.url}/auth/user`, { token });
        expect(answer.status).toBe(200);
        expect(answer.body.username).toBe(username);
      }
      if (algorithm === 'HS256') {
        expect(printed.secret).toMatch(/^[\w-]{43}$/);
        expect(printed.jwksUri).toBeUndefined();
      } else {
        expect(printed.jwksUri).toBe(`${printed.url}/.well-known/jwks.json`);
        expect(printed.secret).toBeUndefined();
      }
      const jwt =
        printed.secret === undefined ? { jwksUri: printed.jwksUri! } : { secret: printed.secret };

      // A service configured as printed verifies the tokens locally and finds the seeded service.
      const app = await startApp(
        'express',
        ApexAuthModule.forRoot({ baseUrl: printed.url, serviceName: 'shop', jwt }),
        { features: [] },
      );
      try {
        const me = await call(`${app.url}/auth/me`, { token: printed.tokens.admin });
        expect(me.status).toBe(200);
        expect(me.body).toMatchObject({ username: 'admin', isServiceAdmin: true });
        expect((await call(`${app.url}/auth/me`, { token: 'not.a.token' })).status).toBe(401);
      } finally {
        await app.close();
      }
      expect(await stopCommand(command, 'SIGINT')).toBe(0);
    },
  );

  it('SIGINT and SIGTERM stop it: exit 0, and nothing listens any more', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const [command, printed] = await startedEmulator([]);
      expect(command.stdout()).toContain('No users in the seed, so no tokens');
      expect((await call(`${printed.url}/auth/user`)).status).toBe(401);
      expect(await stopCommand(command, signal)).toBe(0);
      expect(command.stdout()).toMatch(/auth-service emulator stopped\n$/);
      await expect(fetch(`${printed.url}/auth/user`)).rejects.toThrow();
      expect(command.signals.listenerCount(signal)).toBe(0);
    }
  });

  it('--fail: the faults apply to the endpoints named, for as many requests as said', async () => {
    const [command, printed] = await startedEmulator([
      '--seed',
      SEED,
      '--fail',
      '503@user:1',
      '--fail',
      'reset@login,jwks',
    ]);
    expect(command.stdout()).toContain(
      '  faults   503 on user (the next request); reset on login, jwks\n',
    );
    const token = printed.tokens.viewer;
    expect((await call(`${printed.url}/auth/user`, { token })).status).toBe(503);
    expect((await call(`${printed.url}/auth/user`, { token })).status).toBe(200);
    await expect(call(`${printed.url}/.well-known/jwks.json`)).rejects.toThrow();
    await expect(
      call(`${printed.url}/auth/login`, {
        method: 'POST',
        form: { username: 'viewer', password: 'viewer-pass-1' },
      }),
    ).rejects.toThrow();
  });

  it('--latency: a slowed endpoint has not answered while the others have', async () => {
    const [command, printed] = await startedEmulator(['--seed', SEED, '--latency', 'user=600000']);
    expect(command.stdout()).toContain('  latency  user 600000 ms\n');
    let settled = false;
    const slowed = call(`${printed.url}/auth/user`, { token: printed.tokens.editor }).finally(
      () => (settled = true),
    );
    slowed.catch(() => undefined); // awaited below; this keeps an early failure from going unhandled
    const login = await call(`${printed.url}/auth/login`, {
      method: 'POST',
      form: { username: 'editor', password: 'editor-pass-2' },
    });
    expect(login.status).toBe(200);
    expect(settled).toBe(false);
    // Stopping drops the held answer's connection rather than waiting for it.
    expect(await stopCommand(command, 'SIGTERM')).toBe(0);
    await expect(slowed).rejects.toThrow();
  });

  it('--latency <ms> slows every endpoint', async () => {
    const [command] = await startedEmulator(['--latency', '5']);
    expect(command.stdout()).toContain('  latency  5 ms on every endpoint\n');
  });

  it.each<[string, string, string]>([
    [
      'a missing password',
      JSON.stringify({ users: [{ username: 'a', password: 'a-pw' }, { username: 'b' }] }),
      'users[1].password: must be a non-empty string',
    ],
    [
      'an admin nobody seeded',
      JSON.stringify({ services: [{ name: 'shop', admins: ['ghost'] }] }),
      'services[0].admins[0]: no user "ghost" in users (by username or id)',
    ],
    [
      'text that is no JSON',
      '{\n  "users": [\n    { "password": "hunter2", }\n  ]\n}',
      'not valid JSON (line 3, column 30)',
    ],
  ])('refuses a seed file with %s: exit 1, naming the field', async (_case, content, message) => {
    const file = seedFile('seed.json', content);
    const command = await emulatorCommand(['--port', '0', '--seed', file]);
    expect(await command.exit).toBe(1);
    expect(command.stdout()).toBe('');
    expect(command.stderr()).toBe(`apex-auth: --seed ${file}: ${message}\n`);
    expect(command.stderr()).not.toContain('hunter2');
  });

  it.each<[string, string[], string]>([
    ['no seed file', ['--seed', 'nowhere.json'], '--seed: there is no file nowhere.json'],
    [
      'a bad port',
      ['--port', '70000'],
      '--port must be a port number from 0 to 65535 (0: any free port)',
    ],
    ['a bad algorithm', ['--signing', 'es256'], '--signing must be hs256 or rs256'],
    [
      'a bad latency',
      ['--latency', 'user:5'],
      '--latency must be milliseconds (400) or <endpoint>=<milliseconds>,… (user=200,permissions=400)',
    ],
    [
      'an unknown endpoint',
      ['--latency', 'usr=5'],
      '--latency: unknown endpoint "usr" (the endpoints: login, refresh, oauthToken, user, metadata, serviceUser, serviceUsers, permissions, createPermission, updatePermission, deletePermission, jwks)',
    ],
    [
      'a bad fault',
      ['--fail', '99'],
      '--fail must be <fault>[@<endpoint>,…][:<times>], the fault a status from 200 to 599, hang or reset',
    ],
    [
      'a bad count',
      ['--fail', 'hang@user:0'],
      '--fail: the count after ":" must be a positive whole number',
    ],
    [
      'an unknown option',
      ['--host', '0.0.0.0'],
      "Unknown option '--host'; see apex-auth emulator --help",
    ],
    [
      'an argument',
      ['now'],
      'apex-auth emulator takes no arguments but its options; see apex-auth emulator --help',
    ],
  ])('exits 1 for %s, before it listens', async (_case, args, message) => {
    const command = await emulatorCommand(args);
    expect(await command.exit).toBe(1);
    expect(command.stderr()).toBe(`apex-auth: ${message}\n`);
    expect(command.stdout()).toBe('');
  });

  it('exits 1 when the port is taken', async () => {
    const taken = await AuthServiceEmulator.start();
    try {
      const port = new URL(taken.url).port;
      const command = await emulatorCommand(['--port', port]);
      expect(await command.exit).toBe(1);
      expect(command.stderr()).toBe(
        `apex-auth: --port: ${port} is in use (--port 0 takes any free port)\n`,
      );
    } finally {
      await taken.stop();
    }
  });
});
