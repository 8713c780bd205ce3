import type { AuthServiceEmulator, EmulatorFault } from '@apex/nest-auth/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, show, type Answer } from '../fixtures/http.js';
import { OAUTH_CLIENT, PASSWORDS } from '../fixtures/seed.js';
import { useShopApp } from '../fixtures/shop-suite.js';
import { PLATFORMS, type RunningApp } from '../fixtures/start-app.js';
import {
  deadPort,
  expectUnauthorized,
  expectUnavailable,
  useTrap,
} from '../security/fixtures/security.js';

describe.each(PLATFORMS)('remote verification against a failing auth-service on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  let app: RunningApp;
  const trap = useTrap();
  const products = (token: string): Promise<Answer> => call(`${app.url}/products`, { token });
  const login = (): Promise<Answer> =>
    call(`${app.url}/auth/login`, {
      method: 'POST',
      form: { username: 'editor', password: PASSWORDS.editor },
    });

  useShopApp(
    platform,
    {
      auth: () => ({
        syncPermissions: false,
        oauthClient: OAUTH_CLIENT,
        timeoutMs: 300,
        // Each fault on its own; the breaker has a suite of its own.
        circuitBreaker: false,
        login: { limits: false, minFailureMs: 0, maxFailureMs: 0 },
      }),
    },
    (shop) => ({ emulator, app } = shop),
  );
  beforeEach(() => emulator.resetCounters());
  afterEach(() => emulator.clearFaults());

  const unavailable: [string, EmulatorFault][] = [
    ['500', { kind: 'status', status: 500 }],
    ['502', { kind: 'status', status: 502 }],
    ['503', { kind: 'status', status: 503 }],
    ['504', { kind: 'status', status: 504 }],
    ['a reset connection', { kind: 'reset' }],
    [
      'an HTML 200 body',
      { kind: 'status', status: 200, body: '<html>welcome</html>', contentType: 'text/html' },
    ],
    ['a 200 of another shape', { kind: 'status', status: 200, body: '{"ok":true}' }],
    ['an empty 200', { kind: 'status', status: 200, body: '' }],
    ['429 without Retry-After', { kind: 'status', status: 429 }],
    [
      '503 with an HTTP-date Retry-After',
      {
        kind: 'status',
        status: 503,
        headers: { 'retry-after': 'Wed, 21 Oct 2037 07:28:00 GMT' },
      },
    ],
  ];

  it.each(unavailable)(
    'answers 503 with Retry-After for %s on the user lookup',
    async (_what, fault) => {
      emulator.fail(fault, { endpoints: ['user'] });
      const answer = await products(emulator.issueToken('editor'));
      expectUnavailable(answer, '5');
      expect(emulator.requestCount('user')).toBeGreaterThanOrEqual(1);
      // One read, retried once at most.
      expect(emulator.requestCount('user')).toBeLessThanOrEqual(2);
    },
  );

  it.each(unavailable)('answers 503 for %s on the service-user lookup', async (_what, fault) => {
    emulator.fail(fault, { endpoints: ['serviceUser'] });
    expectUnavailable(await products(emulator.issueToken('editor')), '5');
  });

  it("passes on the auth-service's Retry-After: 7 of a 429, without retrying", async () => {
    emulator.fail(
      { kind: 'status', status: 429, headers: { 'retry-after': '7' } },
      { endpoints: ['user'] },
    );
    expectUnavailable(await products(emulator.issueToken('editor')), '7');
    expect(emulator.requestCount('user')).toBe(1);
  });

  it('answers 503 within the time budget when the auth-service hangs (timeoutMs 300)', async () => {
    emulator.fail({ kind: 'hang' }, { endpoints: ['user'] });
    const started = performance.now();
    const answer = await products(emulator.issueToken('editor'));
    const elapsed = performance.now() - started;
    expectUnavailable(answer);
    expect(elapsed).toBeLessThan(1500);
  });

  it.each([301, 302, 303, 307, 308])(
    'does not follow a %s redirect: 503, and the target gets nothing',
    async (status) => {
      emulator.fail(
        { kind: 'status', status, headers: { location: `${trap.url}/auth/user` } },
        { endpoints: ['user', 'login'] },
      );
      expectUnavailable(await products(emulator.issueToken('editor')));
      expectUnavailable(await login());
      expect(trap.hits).toEqual([]);
    },
  );

  it.each([
    ['401', 401],
    ['403', 403],
  ])('answers 401 when the user lookup says %s', async (_what, status) => {
    emulator.fail({ kind: 'status', status }, { endpoints: ['user'] });
    expectUnauthorized(await products(emulator.issueToken('editor')), 'invalid token');
    // A verdict, not a failure: not retried.
    expect(emulator.requestCount('user')).toBe(1);
  });

  it('never grants access on a 404 of the user lookup', async () => {
    emulator.fail({ kind: 'status', status: 404 }, { endpoints: ['user'] });
    const answer = await products(emulator.issueToken('editor'));
    expect([401, 503], show(answer)).toContain(answer.status);
  });

  it.each<[string, EmulatorFault]>([
    ['503', { kind: 'status', status: 503 }],
    ['a reset', { kind: 'reset' }],
    ['a hang', { kind: 'hang' }],
  ])('retries the idempotent GET once after %s, inside the deadline', async (_what, fault) => {
    emulator.fail(fault, { endpoints: ['user'], times: 1 });
    const answer = await products(emulator.issueToken('editor'));
    // A hang eats the whole budget; the others leave time for the one retry.
    if (fault.kind === 'hang') {
      expectUnavailable(answer);
      expect(emulator.requestCount('user')).toBe(1);
    } else {
      expect(answer.status, show(answer)).toBe(200);
      expect(emulator.requestCount('user')).toBe(2);
    }
  });

  it.each<[string, EmulatorFault]>([
    ['503', { kind: 'status', status: 503 }],
    ['a reset', { kind: 'reset' }],
    ['a hang', { kind: 'hang' }],
  ])('never retries the password grant after %s', async (_what, fault) => {
    emulator.fail(fault, { endpoints: ['login'], times: 1 });
    const answer = await login();
    expectUnavailable(answer);
    expect(emulator.requestCount('login')).toBe(1);
  });

  it('never retries the code exchange', async () => {
    emulator.fail({ kind: 'status', status: 502 }, { endpoints: ['oauthToken'], times: 1 });
    const answer = await call(`${app.url}/auth/login/code`, {
      method: 'POST',
      json: { code: emulator.issueCode(OAUTH_CLIENT.clientId, 'editor') },
    });
    expectUnavailable(answer);
    expect(emulator.requestCount('oauthToken')).toBe(1);
  });
});

describe.each(PLATFORMS)('an auth-service nobody listens for on %s', (platform) => {
  let app: RunningApp;
  let emulator: AuthServiceEmulator;
  useShopApp(
    platform,
    {
      // The emulator only issues the tokens: the app's auth-service is a port nobody listens on.
      auth: async () => ({
        baseUrl: `http://127.0.0.1:${await deadPort()}`,
        syncPermissions: false,
        timeoutMs: 300,
      }),
    },
    (shop) => ({ emulator, app } = shop),
  );

  it('answers 503 with Retry-After for a token and for a login, fast', async () => {
    const started = performance.now();
    expectUnavailable(
      await call(`${app.url}/products`, { token: emulator.issueToken('editor') }),
      '5',
    );
    expectUnavailable(
      await call(`${app.url}/auth/login`, {
        method: 'POST',
        form: { username: 'editor', password: PASSWORDS.editor },
      }),
    );
    expect(performance.now() - started).toBeLessThan(1500);
  });
});
