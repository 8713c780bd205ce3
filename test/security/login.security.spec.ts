import { ThrottlerStorageService, type ThrottlerStorage } from '@nestjs/throttler';
import type { ApexAuthModuleOptions } from '@apex/nest-auth';
import type { AuthServiceEmulator, EmulatorFault } from '@apex/nest-auth/testing';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { call, show, type Answer } from '../fixtures/http.js';
import { startProxy } from '../fixtures/proxy.js';
import { OAUTH_CLIENT, PASSWORDS } from '../fixtures/seed.js';
import { useShopApp, useShopEmulator } from '../fixtures/shop-suite.js';
import { PLATFORMS, type RunningApp } from '../fixtures/start-app.js';

const MARKER = 'UPSTREAM-MARKER';
/** Headers that differ between any two answers, whatever they say. */
const VOLATILE_HEADERS = new Set(['date', 'content-length', 'etag', 'keep-alive', 'connection']);
const minute = 60_000;

/** An answer as a caller can compare it: status, body and the stable headers. */
function fingerprint(answer: Answer) {
  const headers = [...answer.headers.entries()].filter(([name]) => !VOLATILE_HEADERS.has(name));
  return { status: answer.status, body: answer.text, headers: Object.fromEntries(headers) };
}

/** `ThrottlerStorageService` behind a counter: a stand-in for a shared (Redis) storage. */
class CountingStorage implements ThrottlerStorage {
  readonly keys: string[] = [];
  private readonly inner = new ThrottlerStorageService();

  increment(key: string, ttl: number, limit: number, blockDuration: number, name: string) {
    this.keys.push(key);
    return this.inner.increment(key, ttl, limit, blockDuration, name);
  }

  onApplicationShutdown(): void {
    this.inner.onApplicationShutdown();
  }
}

describe.each(PLATFORMS)('login routes under attack on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  const startShopApp = useShopEmulator(platform, {}, (started) => (emulator = started));
  const start = (options: Partial<ApexAuthModuleOptions>): Promise<RunningApp> =>
    startShopApp({ syncPermissions: false, oauthClient: OAUTH_CLIENT, ...options });
  const login = (
    app: RunningApp,
    username: string,
    password: string,
    headers: Record<string, string> = {},
  ): Promise<Answer> =>
    call(`${app.url}/auth/login`, { method: 'POST', form: { username, password }, headers });
  const exchange = (app: RunningApp, code: string): Promise<Answer> =>
    call(`${app.url}/auth/login/code`, { method: 'POST', json: { code } });

  beforeEach(() => emulator.resetCounters());
  afterEach(() => emulator.clearFaults());

  describe('refusals cannot be told apart', () => {
    let app: RunningApp;
    beforeAll(async () => {
      // Each fault on its own: the breaker, opened by a run of them, has its own suite.
      // No response-time floor here (its own test is below): only what the answers say.
      app = await start({
        login: { limits: false, minFailureMs: 0, maxFailureMs: 0 },
        circuitBreaker: false,
      });
    });

    it('wrong password, unknown user and any upstream refusal: same status, body and headers', async () => {
      const wrongPassword = await login(app, 'editor', 'not-the-password');
      const unknownUser = await login(app, 'nobody-at-all', 'not-the-password');
      const refusals: [string, EmulatorFault][] = [
        [
          '401 with another detail',
          { kind: 'status', status: 401, body: `{"detail":"${MARKER}"}` },
        ],
        ['403', { kind: 'status', status: 403 }],
        [
          '422 with a FastAPI list',
          {
            kind: 'status',
            status: 422,
            body: JSON.stringify({
              detail: [{ loc: ['body', 'password'], msg: MARKER, input: PASSWORDS.editor }],
            }),
          },
        ],
        ['400', { kind: 'status', status: 400, body: `{"detail":"${MARKER}"}` }],
        ['404', { kind: 'status', status: 404 }],
      ];
      const expected = fingerprint(wrongPassword);
      expect(wrongPassword.status, show(wrongPassword)).toBe(401);
      expect(wrongPassword.body).toEqual({
        statusCode: 401,
        message: 'invalid username or password',
        error: 'Unauthorized',
      });
      expect(fingerprint(unknownUser)).toEqual(expected);
      for (const [what, fault] of refusals) {
        emulator.fail(fault, { endpoints: ['login'], times: 1 });
        const refused = await login(app, 'editor', PASSWORDS.editor);
        expect(fingerprint(refused), what).toEqual(expected);
        expect(refused.text, what).not.toContain(MARKER);
      }
      expect(emulator.requestCount('login')).toBe(2 + refusals.length);
    });

    it('upstream error bodies never reach the caller, whatever the status', async () => {
      const faults: [string, EmulatorFault, number][] = [
        ['400', { kind: 'status', status: 400, body: `{"detail":"${MARKER}"}` }, 401],
        ['500', { kind: 'status', status: 500, body: `{"detail":"${MARKER}"}` }, 503],
        ['429', { kind: 'status', status: 429, body: `{"detail":"${MARKER}"}` }, 503],
        [
          '502 HTML',
          {
            kind: 'status',
            status: 502,
            body: `<h1>${MARKER}</h1>`,
            contentType: 'text/html',
            headers: { 'x-upstream': MARKER },
          },
          503,
        ],
        [
          '200 that is not a token response',
          { kind: 'status', status: 200, body: `{"detail":"${MARKER}"}` },
          503,
        ],
      ];
      for (const [what, fault, status] of faults) {
        emulator.fail(fault, { endpoints: ['login', 'oauthToken'], times: 2 });
        for (const answer of [
          await login(app, 'editor', PASSWORDS.editor),
          await exchange(app, emulator.issueCode(OAUTH_CLIENT.clientId, 'editor')),
        ]) {
          expect(answer.status, `${what}: ${show(answer)}`).toBe(status);
          expect(answer.text, what).not.toContain(MARKER);
          expect(JSON.stringify([...answer.headers]), what).not.toContain(MARKER);
          if (status === 503) expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
        }
      }
    });

    it('answers tokens with Cache-Control: no-store (password and code)', async () => {
      const byPassword = await login(app, 'editor', PASSWORDS.editor);
      const byCode = await exchange(app, emulator.issueCode(OAUTH_CLIENT.clientId, 'editor'));
      for (const answer of [byPassword, byCode]) {
        expect(answer.status, show(answer)).toBe(200);
        expect(answer.headers.get('cache-control')).toBe('no-store');
        expect(answer.headers.get('pragma')).toBe('no-cache');
      }
    });

    it('refuses a malformed code with 400 before it goes upstream', async () => {
      for (const code of [
        'has spaces in it',
        '<script>alert(1)</script>',
        'a\u0000b',
        'semi;colon',
        'quote"d',
        'ünïcödé',
        'line\nbreak',
        'x'.repeat(513),
        '',
      ]) {
        const answer = await exchange(app, code);
        expect(answer.status, `${JSON.stringify(code.slice(0, 20))}: ${show(answer)}`).toBe(400);
        expect(answer.text).not.toContain(code.length > 3 ? code.slice(0, 12) : '\u0001');
      }
      for (const code of [42, ['a'], { code: 'a' }, null]) {
        const answer = await exchange(app, code as unknown as string);
        expect(answer.status, `${JSON.stringify(code)}: ${show(answer)}`).toBe(400);
      }
      expect(emulator.requestCount('oauthToken')).toBe(0);
      // 512 characters of the allowed alphabet is a shape the auth-service gets to judge.
      const longest = await exchange(app, 'A'.repeat(512));
      expect(longest.status, show(longest)).toBe(401);
      expect(emulator.requestCount('oauthToken')).toBe(1);
    });

    it('a reused or unknown code is a 401 shaped like a wrong password', async () => {
      const code = emulator.issueCode(OAUTH_CLIENT.clientId, 'editor');
      expect((await exchange(app, code)).status).toBe(200);
      const reused = await exchange(app, code);
      const unknown = await exchange(app, 'no-such-code');
      const wrongPassword = await login(app, 'editor', 'not-the-password');
      for (const answer of [reused, unknown]) {
        expect(answer.status, show(answer)).toBe(401);
        expect(answer.body).toEqual({
          statusCode: 401,
          message: 'invalid authorization code',
          error: 'Unauthorized',
        });
        expect(Object.keys(answer.body)).toEqual(Object.keys(wrongPassword.body));
        expect(fingerprint(answer).headers).toEqual(fingerprint(wrongPassword).headers);
      }
      expect(fingerprint(unknown)).toEqual(fingerprint(reused));
    });

    it('never retries the code exchange or the password grant', async () => {
      emulator.fail({ kind: 'status', status: 503 }, { endpoints: ['oauthToken'], times: 1 });
      const code = await exchange(app, emulator.issueCode(OAUTH_CLIENT.clientId, 'editor'));
      expect(code.status, show(code)).toBe(503);
      expect(emulator.requestCount('oauthToken')).toBe(1);
      emulator.fail({ kind: 'reset' }, { endpoints: ['login'], times: 1 });
      const password = await login(app, 'editor', PASSWORDS.editor);
      expect(password.status, show(password)).toBe(503);
      expect(emulator.requestCount('login')).toBe(1);
    });
  });

  describe('failed-login limit per username', () => {
    const perUsername: ApexAuthModuleOptions['login'] = {
      minFailureMs: 0,
      maxFailureMs: 0,
      limits: {
        perUsername: { maxFailures: 3, windowMs: minute, blockMs: minute },
        perIp: false,
      },
    };
    let app: RunningApp;
    beforeAll(async () => {
      app = await start({ login: perUsername });
    });

    it('blocks the 4th attempt with 429 + Retry-After, even with the right password, without asking upstream', async () => {
      for (let i = 0; i < 3; i++) {
        expect((await login(app, 'viewer', `guess-${i}`)).status).toBe(401);
      }
      expect(emulator.requestCount('login')).toBe(3);
      const blocked = await login(app, 'viewer', PASSWORDS.viewer);
      expect(blocked.status, show(blocked)).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(50);
      expect(Number(blocked.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(blocked.text).not.toContain('access_token');
      expect(emulator.requestCount('login')).toBe(3);
      // However the name is spelled: case, spaces, and Unicode compatibility forms (NFKC).
      for (const spelling of [
        'VIEWER',
        ' viewer ',
        'Viewer',
        'ｖｉｅｗｅｒ',
        'ＶＩＥＷＥＲ',
        '\u3000viewer',
      ]) {
        expect((await login(app, spelling, PASSWORDS.viewer)).status, spelling).toBe(429);
      }
      expect(emulator.requestCount('login')).toBe(3);
    });

    it('leaves other usernames alone', async () => {
      const answer = await login(app, 'editor', PASSWORDS.editor);
      expect(answer.status, show(answer)).toBe(200);
    });

    it('does not count successful logins', async () => {
      for (let i = 0; i < 5; i++) {
        expect((await login(app, 'admin', PASSWORDS.admin)).status).toBe(200);
      }
      expect((await login(app, 'admin', 'wrong')).status).toBe(401);
      expect((await login(app, 'admin', PASSWORDS.admin)).status).toBe(200);
    });

    it('bounds a burst of parallel guesses by the same limit', async () => {
      // A slow auth-service, so that every guess of the burst is under way at once.
      const proxy = await startProxy(emulator.url, { delayMs: 150 });
      try {
        const slow = await startShopApp({
          baseUrl: proxy.url,
          syncPermissions: false,
          login: perUsername,
        });
        const answers = await Promise.all(
          Array.from({ length: 12 }, (_, i) => login(slow, 'outsider', `parallel-guess-${i}`)),
        );
        const statuses = answers.map((answer) => answer.status).sort();
        // No more guesses reach the auth-service than the limit allows.
        expect(emulator.requestCount('login'), statuses.join(',')).toBe(3);
        expect(statuses).toEqual([...Array(3).fill(401), ...Array(9).fill(429)]);
        const after = await login(slow, 'outsider', PASSWORDS.outsider);
        expect(after.status, show(after)).toBe(429);
        expect(emulator.requestCount('login')).toBe(3);
      } finally {
        await proxy.stop();
      }
    });
  });

  describe('failed-login limit per client address', () => {
    let app: RunningApp;
    let storage: CountingStorage;
    beforeAll(async () => {
      storage = new CountingStorage();
      app = await start({
        login: {
          minFailureMs: 0,
          maxFailureMs: 0,
          limits: {
            perUsername: false,
            perIp: { maxFailures: 4, windowMs: minute, blockMs: minute },
            storage,
          },
        },
      });
    });

    it('blocks the address after N failures across usernames, and X-Forwarded-For does not reset it', async () => {
      const users = ['viewer', 'editor', 'admin', 'nobody'];
      for (const [i, username] of users.entries()) {
        const answer = await login(app, username, 'wrong', { 'x-forwarded-for': `10.0.0.${i}` });
        expect(answer.status, show(answer)).toBe(401);
      }
      expect(emulator.requestCount('login')).toBe(4);
      for (const spoofed of <Record<string, string>[]>[
        {},
        { 'x-forwarded-for': '203.0.113.7' },
        { 'x-forwarded-for': '203.0.113.8, 127.0.0.1' },
        { 'x-real-ip': '198.51.100.1', forwarded: 'for=198.51.100.1' },
      ]) {
        const blocked = await login(app, 'root', PASSWORDS.root, spoofed);
        expect(blocked.status, `${JSON.stringify(spoofed)}: ${show(blocked)}`).toBe(429);
        expect(blocked.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      }
      // The code exchange from the same address is blocked as well.
      const code = await exchange(app, emulator.issueCode(OAUTH_CLIENT.clientId, 'editor'));
      expect(code.status, show(code)).toBe(429);
      expect(emulator.requestCounts()).toMatchObject({ login: 4, oauthToken: 0 });
    });

    it('keeps its counters in the configured storage', () => {
      expect(storage.keys.length).toBeGreaterThan(0);
      expect(storage.keys.every((key) => key.startsWith('apex-auth:login:ip:'))).toBe(true);
      // Usernames never appear in a shared storage.
      expect(storage.keys.join('\n')).not.toMatch(/viewer|editor|admin|nobody|root/);
    });
  });

  describe('a custom storage per username', () => {
    let app: RunningApp;
    let storage: CountingStorage;
    beforeAll(async () => {
      storage = new CountingStorage();
      app = await start({
        login: {
          minFailureMs: 0,
          maxFailureMs: 0,
          limits: { perUsername: { maxFailures: 2, windowMs: minute, blockMs: minute }, storage },
        },
      });
    });

    it('is the one counting, hashing the usernames', async () => {
      expect((await login(app, 'auditor', 'wrong-1')).status).toBe(401);
      expect((await login(app, 'auditor', 'wrong-2')).status).toBe(401);
      expect((await login(app, 'auditor', PASSWORDS.auditor)).status).toBe(429);
      expect(storage.keys.some((key) => key.startsWith('apex-auth:login:user:'))).toBe(true);
      expect(storage.keys.join('\n')).not.toContain('auditor');
    });
  });
});

describe('failed-login limit per address behind a trusted proxy (express)', () => {
  let app: RunningApp;
  useShopApp(
    'express',
    {
      auth: () => ({
        syncPermissions: false,
        login: {
          minFailureMs: 0,
          maxFailureMs: 0,
          limits: {
            perUsername: false,
            perIp: { maxFailures: 2, windowMs: minute, blockMs: minute },
          },
        },
      }),
    },
    (shop) => {
      ({ app } = shop);
      // The app says its proxy sets X-Forwarded-For: then the client address is the one it names.
      (app.app.getHttpAdapter().getInstance() as { set(name: string, value: unknown): void }).set(
        'trust proxy',
        true,
      );
    },
  );

  it('counts per forwarded address, so one client does not block another', async () => {
    const attempt = (address: string, password: string) =>
      call(`${app.url}/auth/login`, {
        method: 'POST',
        form: { username: 'editor', password },
        headers: { 'x-forwarded-for': address },
      });
    expect((await attempt('203.0.113.1', 'wrong-1')).status).toBe(401);
    expect((await attempt('203.0.113.1', 'wrong-2')).status).toBe(401);
    expect((await attempt('203.0.113.1', PASSWORDS.editor)).status).toBe(429);
    const other = await attempt('203.0.113.2', PASSWORDS.editor);
    expect(other.status, show(other)).toBe(200);
  });
});
