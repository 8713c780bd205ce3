import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { call, show, type Answer, type CallOptions } from '../fixtures/http.js';
import { PASSWORDS } from '../fixtures/seed.js';
import { useShopEmulator, type StartShopApp } from '../fixtures/shop-suite.js';
import { PLATFORMS, type RunningApp } from '../fixtures/start-app.js';

/** No refusal delay: these tests are about what is answered, not when. */
const FAST_REFUSALS = { minFailureMs: 0, maxFailureMs: 0 };

describe.each(PLATFORMS)('POST /auth/refresh on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  let app: RunningApp;
  const start = useShopEmulator(platform, { refreshTokens: true }, (e) => (emulator = e));
  const refresh = (body: Pick<CallOptions, 'form' | 'json'>, from?: string): Promise<Answer> =>
    call(`${app.url}/auth/refresh`, { method: 'POST', ...body, from });
  const refreshTokenOf = async (username: 'viewer' | 'editor'): Promise<string> => {
    const login = await call(`${app.url}/auth/login`, {
      method: 'POST',
      form: { username, password: PASSWORDS[username] },
    });
    expect(login.status, show(login)).toBe(200);
    return login.body.refresh_token as string;
  };

  beforeAll(async () => {
    app = await start({ syncPermissions: false, login: FAST_REFUSALS });
  });
  beforeEach(() => emulator.resetCounters());
  afterEach(() => emulator.clearFaults());

  it('answers a new token set with the rotated refresh token, from a JSON or a form body', async () => {
    const first = await refreshTokenOf('editor');
    const json = await refresh({ json: { refresh_token: first } });
    expect(json.status, show(json)).toBe(200);
    expect(json.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      refresh_token: expect.any(String),
      expires_in: 3600,
    });
    expect(json.body.refresh_token).not.toBe(first);
    expect(json.headers.get('cache-control')).toBe('no-store');
    expect(json.headers.get('pragma')).toBe('no-cache');
    const products = await call(`${app.url}/products`, { token: json.body.access_token });
    expect(products.status, show(products)).toBe(200);
    expect(products.body.username).toBe('editor');

    // The rotated one works in turn, as an OAuth2 client's form sends it.
    const form = await refresh({
      form: { grant_type: 'refresh_token', refresh_token: json.body.refresh_token },
    });
    expect(form.status, show(form)).toBe(200);
    expect(form.body.refresh_token).not.toBe(json.body.refresh_token);
    expect(emulator.requestCount('refresh')).toBe(2);
  });

  it('answers 401 to a reused or unknown refresh token, in Nest’s error shape', async () => {
    const spent = await refreshTokenOf('viewer');
    expect((await refresh({ json: { refresh_token: spent } })).status).toBe(200);
    const reused = await refresh({ json: { refresh_token: spent } });
    expect(reused.status, show(reused)).toBe(401);
    expect(reused.body).toEqual({
      statusCode: 401,
      message: 'invalid refresh token',
      error: 'Unauthorized',
    });
    const unknown = await refresh({ form: { refresh_token: 'never-issued-refresh-token' } });
    expect(unknown.status, show(unknown)).toBe(401);
    expect(unknown.text).toBe(reused.text);
    expect(unknown.text).not.toContain('never-issued');
  });

  it('answers 400 to a missing or malformed refresh token, without asking the auth-service', async () => {
    const bodies: Pick<CallOptions, 'form' | 'json'>[] = [
      { json: {} },
      { json: { refresh_token: '' } },
      { json: { refresh_token: 42 } },
      { json: { refresh_token: 'has spaces in it' } },
      { form: { refresh_token: 'x'.repeat(5000) } },
      { form: { grant_type: 'password', refresh_token: 'a-refresh-token-value' } },
    ];
    for (const body of bodies) {
      const answer = await refresh(body);
      expect(answer.status, show(answer)).toBe(400);
      expect(answer.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(answer.text).not.toContain('has spaces');
      expect(answer.text).not.toContain('a-refresh-token-value');
    }
    expect(emulator.requestCount('refresh')).toBe(0);
  });

  it('answers 503 with Retry-After when the auth-service fails, never 401', async () => {
    const token = await refreshTokenOf('viewer');
    emulator.fail({ kind: 'status', status: 503 }, { endpoints: ['refresh'], times: 1 });
    const answer = await refresh({ json: { refresh_token: token } });
    expect(answer.status, show(answer)).toBe(503);
    expect(answer.body).toEqual({
      statusCode: 503,
      message: 'auth-service unavailable',
      error: 'Service Unavailable',
    });
    expect(answer.headers.get('retry-after')).not.toBeNull();
    // Never sent twice: the failed attempt may have spent the token upstream, or not.
    expect(emulator.requestCount('refresh')).toBe(1);
  });

  it.each([400, 404, 405, 422])(
    'answers 501 when the auth-service answers %i to the refresh grant',
    async (status) => {
      emulator.fail({ kind: 'status', status }, { endpoints: ['refresh'], times: 1 });
      const answer = await refresh({ json: { refresh_token: 'some-refresh-token' } });
      expect(answer.status, show(answer)).toBe(501);
      expect(answer.body).toEqual({
        statusCode: 501,
        message: 'the auth-service does not support refresh tokens',
        error: 'Not Implemented',
      });
    },
  );
});

describe.each(PLATFORMS)('refresh and the failed-login limits on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  const start: StartShopApp = useShopEmulator(
    platform,
    { refreshTokens: true },
    (e) => (emulator = e),
  );

  it('counts failed refreshes per address: past the limit, refreshes and logins get 429', async () => {
    const app = await start({
      syncPermissions: false,
      login: {
        limits: {
          perUsername: { maxFailures: 1, windowMs: 60_000, blockMs: 60_000 },
          perIp: { maxFailures: 2, windowMs: 60_000, blockMs: 60_000 },
        },
        ...FAST_REFUSALS,
      },
    });
    const login = await call(`${app.url}/auth/login`, {
      method: 'POST',
      form: { username: 'editor', password: PASSWORDS.editor },
    });
    const refresh = (token: string, from: string) =>
      call(`${app.url}/auth/refresh`, { method: 'POST', json: { refresh_token: token }, from });
    for (const guess of ['guess-number-one', 'guess-number-two']) {
      expect((await refresh(guess, '127.0.0.2')).status).toBe(401);
    }
    emulator.resetCounters();
    const blocked = await refresh(login.body.refresh_token, '127.0.0.2');
    expect(blocked.status, show(blocked)).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    const blockedLogin = await call(`${app.url}/auth/login`, {
      method: 'POST',
      form: { username: 'viewer', password: PASSWORDS.viewer },
      from: '127.0.0.2',
    });
    expect(blockedLogin.status, show(blockedLogin)).toBe(429);
    expect(emulator.requestCount('refresh') + emulator.requestCount('login')).toBe(0);
    // No username is counted (a refresh token names none), and other addresses go on.
    const elsewhere = await refresh(login.body.refresh_token, '127.0.0.3');
    expect(elsewhere.status, show(elsewhere)).toBe(200);
  });
});

describe.each(PLATFORMS)(
  'POST /auth/refresh without refresh tokens upstream, on %s',
  (platform) => {
    const start = useShopEmulator(platform, {}, () => undefined);

    it('answers 501, and the 501 is not counted as a failed attempt', async () => {
      const app = await start({
        syncPermissions: false,
        login: {
          limits: {
            perUsername: false,
            perIp: { maxFailures: 1, windowMs: 60_000, blockMs: 60_000 },
          },
          ...FAST_REFUSALS,
        },
      });
      for (let i = 0; i < 3; i++) {
        const answer = await call(`${app.url}/auth/refresh`, {
          method: 'POST',
          form: { refresh_token: 'a-refresh-token' },
        });
        expect(answer.status, show(answer)).toBe(501);
        expect(answer.body.message).toBe('the auth-service does not support refresh tokens');
      }
      const login = await call(`${app.url}/auth/login`, {
        method: 'POST',
        form: { username: 'viewer', password: PASSWORDS.viewer },
      });
      expect(login.status, show(login)).toBe(200);
    });
  },
);
