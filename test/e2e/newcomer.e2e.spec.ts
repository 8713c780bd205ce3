import { STATUS_CODES } from 'node:http';
import { ApexAuthModule, ApexAuthOptionsError, type ApexAuthModuleOptions } from '@apex/nest-auth';
import { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../fixtures/capturing-logger.js';
import { call, show, type Answer } from '../fixtures/http.js';
import { PASSWORDS, shopSeed } from '../fixtures/seed.js';
import { useShopApp, useShopEmulator } from '../fixtures/shop-suite.js';
import { PLATFORMS, shopAuth, shopOptions, startApp } from '../fixtures/start-app.js';
import { deadPort, eventually } from '../security/fixtures/security.js';

describe.each(PLATFORMS)('login field messages on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  let url: string;
  useShopApp(platform, { auth: () => ({ syncPermissions: false }) }, (shop) => {
    emulator = shop.emulator;
    url = shop.app.url;
  });
  beforeEach(() => emulator.resetCounters());
  afterEach(() => expect(emulator.requestCount('login')).toBe(0));

  /** The messages of a `400` to a login with this body, after checking the body's shape. */
  async function messagesFor(body: { json?: unknown; form?: Record<string, string> }) {
    const answer = await call(`${url}/auth/login`, { method: 'POST', ...body });
    expect(answer.status, show(answer)).toBe(400);
    expect(answer.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: expect.any(Array),
    });
    return answer.body.message as string[];
  }

  it('a missing password says so, and nothing of its length', async () => {
    expect(await messagesFor({ json: { username: 'alice' } })).toEqual([
      'password should not be empty',
    ]);
    expect(await messagesFor({ form: { username: 'alice' } })).toEqual([
      'password should not be empty',
    ]);
    expect(await messagesFor({ json: { password: 'alice-password' } })).toEqual([
      'username should not be empty',
    ]);
  });

  it('one message per missing or empty field', async () => {
    const both = ['username should not be empty', 'password should not be empty'];
    expect(await messagesFor({ json: {} })).toEqual(both);
    expect(await messagesFor({ json: { username: '', password: '' } })).toEqual(both);
    expect(await messagesFor({ json: { username: null, password: null } })).toEqual(both);
    expect(await messagesFor({})).toEqual(both);
  });

  it('one message per field of the wrong type, naming the type', async () => {
    const strings = ['username must be a string', 'password must be a string'];
    expect(await messagesFor({ json: { username: 42, password: true } })).toEqual(strings);
    expect(await messagesFor({ json: { username: ['alice'], password: { a: 1 } } })).toEqual(
      strings,
    );
    expect(await messagesFor({ json: { username: 'alice', password: 12345678 } })).toEqual([
      'password must be a string',
    ]);
  });

  it('a too long or odd field is named for what is wrong with it', async () => {
    expect(await messagesFor({ json: { username: 'alice', password: 'x'.repeat(1025) } })).toEqual([
      'password must be shorter than or equal to 1024 characters',
    ]);
    expect(await messagesFor({ json: { username: 'a'.repeat(257), password: 'p' } })).toEqual([
      'username must be shorter than or equal to 256 characters',
    ]);
    expect(await messagesFor({ json: { username: 'ali\u0007ce', password: 'p' } })).toEqual([
      'username has characters a username cannot have',
    ]);
    expect(
      await messagesFor({
        form: { grant_type: 'client_credentials', username: 'a', password: 'p' },
      }),
    ).toEqual(['grant_type must be one of the following values: password']);
  });
});

/** `{ statusCode, message, error }` and nothing else, with the status's own words. */
function expectErrorBody(answer: Answer, status: number): void {
  expect(answer.status, show(answer)).toBe(status);
  expect(Object.keys(answer.body as object).sort(), show(answer)).toEqual([
    'error',
    'message',
    'statusCode',
  ]);
  expect(answer.body.statusCode).toBe(status);
  expect(answer.body.error).toBe(STATUS_CODES[status]);
  const message: unknown = answer.body.message;
  expect(
    typeof message === 'string' ||
      (Array.isArray(message) && message.every((m) => typeof m === 'string')),
    show(answer),
  ).toBe(true);
}

describe.each(PLATFORMS)('one body shape for every error status on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  let url: string;
  useShopApp(
    platform,
    {
      auth: () => ({
        syncPermissions: false,
        login: {
          limits: { perUsername: { maxFailures: 1 }, perIp: false },
          minFailureMs: 0,
          maxFailureMs: 0,
        },
      }),
    },
    (shop) => {
      emulator = shop.emulator;
      url = shop.app.url;
    },
  );
  afterEach(() => emulator.clearFaults());
  const login = (username: string, password: string) =>
    call(`${url}/auth/login`, { method: 'POST', json: { username, password } });

  it('400: an invalid login', async () => {
    expectErrorBody(await login('', ''), 400);
  });

  it('401: no token, a bad token, a wrong password', async () => {
    expectErrorBody(await call(`${url}/products`), 401);
    expectErrorBody(await call(`${url}/products`, { token: 'not-a-token' }), 401);
    expectErrorBody(await login('viewer', 'not-the-password'), 401);
  });

  it('403: a missing permission, a missing role', async () => {
    const token = emulator.issueToken('viewer');
    const permission = await call(`${url}/products`, { method: 'POST', token });
    expectErrorBody(permission, 403);
    expect(permission.body.message).toBe('missing permission: canEdit');
    expectErrorBody(await call(`${url}/admin/users`, { token }), 403);
  });

  it('404: a route that is not there', async () => {
    expectErrorBody(await call(`${url}/auth/no-such-route`, { method: 'POST' }), 404);
  });

  it('429: repeated failed logins', async () => {
    expect((await login('editor', 'wrong-1')).status).toBe(401);
    const blocked = await login('editor', PASSWORDS.editor);
    expectErrorBody(blocked, 429);
    expect(blocked.headers.get('retry-after')).not.toBeNull();
  });

  it('503: an auth-service that fails, at login and at a token lookup', async () => {
    emulator.fail({ kind: 'status', status: 503 });
    const down = await login('admin', PASSWORDS.admin);
    expectErrorBody(down, 503);
    expect(down.body.message).toBe('auth-service unavailable');
    const lookup = await call(`${url}/products`, { token: emulator.issueToken('admin') });
    expectErrorBody(lookup, 503);
  });
});

describe.each(PLATFORMS)('the permission sync at startup on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  const start = useShopEmulator(platform, {}, (started) => (emulator = started));
  beforeEach(() => emulator.resetCounters());
  const offLines = (logger: CapturingLogger, level?: 'log' | 'warn') =>
    logger.apexAuth(level).filter((line) => line.startsWith('Permission sync of "shop" is off'));

  it('without admin: one log line saying it is off, and why', async () => {
    const logger = new CapturingLogger();
    await start({ admin: undefined }, { logger });
    expect(offLines(logger)).toEqual([
      'Permission sync of "shop" is off: no `admin` is set (the sync needs an admin token); the schema upstream is left as it is',
    ]);
    expect(offLines(logger, 'log')).toHaveLength(1);
    expect(emulator.requestCount('login')).toBe(0);
  });

  it('without a permissions schema, or with syncPermissions: false: the line says that', async () => {
    const noSchema = new CapturingLogger();
    // No schema: no feature module with @Permissions() either.
    await start({ permissions: undefined }, { logger: noSchema, features: [] });
    expect(offLines(noSchema, 'log')).toEqual([
      'Permission sync of "shop" is off: there is no `permissions` schema to sync',
    ]);
    const turnedOff = new CapturingLogger();
    await start({ syncPermissions: false }, { logger: turnedOff });
    expect(offLines(turnedOff, 'log')).toEqual([
      'Permission sync of "shop" is off: syncPermissions is false',
    ]);
  });

  it('with admin: the sync runs, and no such line', async () => {
    const logger = new CapturingLogger();
    await start({}, { logger });
    expect(emulator.requestCount('login')).toBe(1);
    expect(offLines(logger)).toEqual([]);
    expect(logger.apexAuth('log').join('\n')).toContain('Permissions of "shop" synced');
  });
});

/** A logger that notes, for each warning, whether the startup had settled by then. */
class StartupLogger extends CapturingLogger {
  settled = false;
  readonly warnings: { message: string; settled: boolean }[] = [];

  override warn(message: unknown, ...rest: unknown[]): void {
    super.warn(message, ...rest);
    if (rest.at(-1) === 'ApexAuth') {
      this.warnings.push({ message: String(message), settled: this.settled });
    }
  }

  /** Starts watching `startup`; resolves to what it threw once it settles. */
  watch(startup: Promise<unknown>): Promise<unknown> {
    return startup.then(
      () => {
        this.settled = true;
        return undefined;
      },
      (error: unknown) => {
        this.settled = true;
        return error;
      },
    );
  }
}

// The sync runs before the HTTP adapter serves anything: one platform is enough.
describe('startup connection errors', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('a closed port: the error names the origin, never a path or credentials; each failure is a warning while the retries go on', async () => {
    const port = await deadPort();
    const origin = `http://127.0.0.1:${port}`;
    const logger = new StartupLogger();
    const error = await logger.watch(
      startApp(
        'express',
        shopAuth(`${origin}/auth-api/v1`, {
          syncPermissions: { onError: 'fail', retryForMs: 1_500 },
        }),
        { logger },
      ),
    );
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toBe(
      `Permission sync of "shop" failed: auth-service unavailable (login: connection) (auth-service at ${origin})`,
    );
    expect(message).not.toContain('auth-api');
    // The first failure at once, then retries 250 and 500 ms later, then the deadline.
    const retries = logger.warnings.filter((w) => w.message.includes('retrying in'));
    expect(retries[0]).toEqual({
      message: `Permission sync of "shop": auth-service unavailable (login: connection) (auth-service at ${origin}); retrying in 250 ms`,
      settled: false,
    });
    expect(retries.length).toBeGreaterThanOrEqual(2);
    expect(retries.every((w) => !w.settled && w.message.includes(origin))).toBe(true);
    expect(logger.all()).not.toContain(PASSWORDS.admin);
    expect(logger.all()).not.toContain('auth-api');
  });

  it('a hanging auth-service: "no answer yet" is logged while the startup is still pending', async () => {
    const emulator = await AuthServiceEmulator.start({ seed: shopSeed() });
    let stopped = false;
    const stop = async () => {
      if (!stopped) await emulator.stop();
      stopped = true;
    };
    cleanup.push(stop);
    emulator.fail({ kind: 'hang' });
    const logger = new StartupLogger();
    const failure = logger.watch(
      startApp(
        'express',
        shopAuth(emulator.url, {
          // Neither ends before the news is due: only the auth-service's silence is waited out.
          timeoutMs: 60_000,
          syncPermissions: { onError: 'fail', retryForMs: 3_000 },
        }),
        { logger },
      ),
    );
    const waiting = () => logger.warnings.filter((w) => w.message.includes('no answer yet'));
    await eventually(() => waiting().length > 0 || logger.settled, { timeoutMs: 5_000 });
    expect(waiting()).toEqual([
      {
        message: `Permission sync of "shop": no answer yet from the auth-service at ${emulator.url}; still trying for up to 3 s`,
        settled: false,
      },
    ]);
    expect(emulator.requestCount('login')).toBe(1);
    // The auth-service goes away: the hanging request fails, and the startup with it.
    await stop();
    const error = await failure;
    expect(String(error)).toContain(`(auth-service at ${emulator.url})`);
    expect(waiting()).toHaveLength(1);
  });

  describe.each([
    ['forRoot', (options: ApexAuthModuleOptions) => ApexAuthModule.forRoot(options)],
    [
      'forRootAsync',
      (options: ApexAuthModuleOptions) =>
        ApexAuthModule.forRootAsync({ useFactory: () => options }),
    ],
  ] as const)('a baseUrl with credentials, in %s', (_how, register) => {
    it('is refused at startup, without quoting them', async () => {
      const logger = new CapturingLogger();
      const secret = 'hunter2-in-the-url';
      const error: unknown = await startApp(
        'express',
        register(shopOptions(`http://apex-user:${secret}@127.0.0.1:1`)),
        { logger },
      ).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ApexAuthOptionsError);
      expect(error).toMatchObject({
        option: 'baseUrl',
        message: 'baseUrl: must not hold credentials',
      });
      for (const text of [String(error), (error as Error).stack ?? '', logger.all()]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain('apex-user');
      }
    });
  });
});
