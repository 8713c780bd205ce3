import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, show, type Answer } from '../fixtures/http.js';
import { OAUTH_CLIENT, PASSWORDS } from '../fixtures/seed.js';
import { useShopApp, useShopEmulator } from '../fixtures/shop-suite.js';
import { PLATFORMS, type RunningApp } from '../fixtures/start-app.js';

const TOKEN_RESPONSE = { access_token: expect.any(String), token_type: 'Bearer' };

function expectTokenResponse(answer: Answer): void {
  expect(answer.status, show(answer)).toBe(200);
  expect(answer.body).toEqual(TOKEN_RESPONSE);
  expect(answer.body.access_token.split('.')).toHaveLength(3);
  expect(answer.headers.get('cache-control')).toBe('no-store');
}

describe.each(PLATFORMS)('login routes on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  let app: RunningApp;
  const login = (body: { form?: Record<string, string>; json?: unknown }): Promise<Answer> =>
    call(`${app.url}/auth/login`, { method: 'POST', ...body });

  useShopApp(
    platform,
    { auth: () => ({ oauthClient: OAUTH_CLIENT, syncPermissions: false }) },
    (shop) => ({ emulator, app } = shop),
  );
  beforeEach(() => emulator.resetCounters());
  afterEach(() => emulator.clearFaults());

  describe('POST /auth/login', () => {
    it('logs in with the OAuth2 password form, and the token works', async () => {
      const answer = await login({ form: { username: 'editor', password: PASSWORDS.editor } });
      expectTokenResponse(answer);
      expect(answer.headers.get('pragma')).toBe('no-cache');
      expect(emulator.requestCount('login')).toBe(1);
      const products = await call(`${app.url}/products`, { token: answer.body.access_token });
      expect(products.status, show(products)).toBe(200);
      expect(products.body.username).toBe('editor');
    });

    it('logs in with JSON', async () => {
      const answer = await login({ json: { username: 'viewer', password: PASSWORDS.viewer } });
      expectTokenResponse(answer);
    });

    it("accepts the extra fields of Swagger's OAuth2 form", async () => {
      const form = {
        grant_type: 'password',
        username: 'editor',
        password: PASSWORDS.editor,
        scope: '',
        client_id: 'swagger-ui',
        client_secret: 'placeholder',
      };
      expectTokenResponse(await login({ form }));
      expectTokenResponse(await login({ form: { ...form, scope: 'read write' } }));
      expectTokenResponse(await login({ json: form }));
    });

    it('answers wrong password and unknown user with identical 401 bodies', async () => {
      const wrongPassword = await login({ form: { username: 'editor', password: 'nope-nope' } });
      const unknownUser = await login({ form: { username: 'nobody', password: 'nope-nope' } });
      expect(wrongPassword.status, show(wrongPassword)).toBe(401);
      expect(unknownUser.status, show(unknownUser)).toBe(401);
      expect(wrongPassword.text).toBe(unknownUser.text);
      expect(wrongPassword.body.message).toBe('invalid username or password');
      expect(wrongPassword.text).not.toContain('nope-nope');
      expect(emulator.requestCount('login')).toBe(2);
    });

    it('answers a refusal no sooner than the failure floor (250 ms by default)', async () => {
      const startedAt = performance.now();
      const answer = await login({ form: { username: 'viewer', password: 'not-the-password' } });
      expect(answer.status, show(answer)).toBe(401);
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(240);
    });

    it('answers 400 listing every missing field, without asking the auth-service', async () => {
      const answer = await login({ json: {} });
      expect(answer.status, show(answer)).toBe(400);
      const messages: string[] = answer.body.message;
      expect(messages.some((message) => message.startsWith('username'))).toBe(true);
      expect(messages.some((message) => message.startsWith('password'))).toBe(true);
      // One message per field, not every rule an absent value also breaks.
      expect(messages).toHaveLength(2);
      const form = await login({ form: { username: 'editor' } });
      expect(form.status, show(form)).toBe(400);
      expect(form.body.message.some((m: string) => m.startsWith('password'))).toBe(true);
      expect(form.body.message.some((m: string) => m.startsWith('username'))).toBe(false);
      expect(emulator.requestCount('login')).toBe(0);
    });

    it('answers 400 to a login without a body', async () => {
      const answer = await call(`${app.url}/auth/login`, { method: 'POST' });
      expect(answer.status, show(answer)).toBe(400);
      expect(answer.body.message.some((m: string) => m.startsWith('username'))).toBe(true);
      expect(answer.body.message.some((m: string) => m.startsWith('password'))).toBe(true);
    });

    it('answers 400 for invalid fields and never echoes the password', async () => {
      const secret = 'my-very-secret-password';
      const wrongType = await login({ json: { username: 42, password: secret } });
      expect(wrongType.status, show(wrongType)).toBe(400);
      expect(wrongType.body.message.some((m: string) => m.startsWith('username'))).toBe(true);
      expect(wrongType.text).not.toContain(secret);
      const tooLong = await login({ json: { username: 'editor', password: secret.repeat(100) } });
      expect(tooLong.status, show(tooLong)).toBe(400);
      expect(tooLong.body.message.some((m: string) => m.startsWith('password'))).toBe(true);
      expect(tooLong.text).not.toContain(secret);
      const numeric = await login({ json: { username: 'editor', password: 12345678 } });
      expect(numeric.status, show(numeric)).toBe(400);
      expect(numeric.text).not.toContain('12345678');
      const grant = await login({
        form: { grant_type: 'client_credentials', username: 'editor', password: secret },
      });
      expect(grant.status, show(grant)).toBe(400);
      expect(grant.body.message.some((m: string) => m.startsWith('grant_type'))).toBe(true);
      expect(grant.text).not.toContain(secret);
      expect(emulator.requestCount('login')).toBe(0);
    });

    it('answers 503 when the auth-service is down, 401 never', async () => {
      emulator.fail({ kind: 'status', status: 503 });
      const down = await login({ form: { username: 'editor', password: PASSWORDS.editor } });
      expect(down.status, show(down)).toBe(503);
      expect(down.body.message).toBe('auth-service unavailable');
      expect(down.headers.get('retry-after')).toBe('5');
      emulator.clearFaults();
      emulator.fail({ kind: 'reset' });
      const reset = await login({ form: { username: 'editor', password: PASSWORDS.editor } });
      expect(reset.status, show(reset)).toBe(503);
      expect(reset.text).not.toContain(PASSWORDS.editor);
    });
  });

  describe('POST /auth/login/code', () => {
    it('exchanges a code given in the query', async () => {
      const code = emulator.issueCode('shop-web', 'editor');
      const answer = await call(`${app.url}/auth/login/code?code=${encodeURIComponent(code)}`, {
        method: 'POST',
      });
      expectTokenResponse(answer);
      expect(emulator.requestCount('oauthToken')).toBe(1);
      const me = await call(`${app.url}/auth/me`, { token: answer.body.access_token });
      expect(me.body.username).toBe('editor');
    });

    it('exchanges a code given in a form or JSON body', async () => {
      const form = await call(`${app.url}/auth/login/code`, {
        method: 'POST',
        form: { code: emulator.issueCode('shop-web', 'viewer') },
      });
      expectTokenResponse(form);
      const json = await call(`${app.url}/auth/login/code`, {
        method: 'POST',
        json: { code: emulator.issueCode('shop-web', 'viewer') },
      });
      expectTokenResponse(json);
    });

    it('refuses a code used twice with 401', async () => {
      const code = emulator.issueCode('shop-web', 'editor');
      const url = `${app.url}/auth/login/code?code=${encodeURIComponent(code)}`;
      expectTokenResponse(await call(url, { method: 'POST' }));
      const again = await call(url, { method: 'POST' });
      expect(again.status, show(again)).toBe(401);
      expect(again.body.message).toBe('invalid authorization code');
      expect(again.text).not.toContain(code);
    });

    it('answers 400 without a code, 401 for an unknown one', async () => {
      const missing = await call(`${app.url}/auth/login/code`, { method: 'POST' });
      expect(missing.status, show(missing)).toBe(400);
      expect(missing.body.message.some((m: string) => m.startsWith('code'))).toBe(true);
      const numeric = await call(`${app.url}/auth/login/code`, {
        method: 'POST',
        json: { code: 7 },
      });
      expect(numeric.status, show(numeric)).toBe(400);
      const unknown = await call(`${app.url}/auth/login/code?code=not-a-code`, { method: 'POST' });
      expect(unknown.status, show(unknown)).toBe(401);
    });

    it('answers 503 when the auth-service is down', async () => {
      emulator.fail({ kind: 'status', status: 502 }, { endpoints: ['oauthToken'] });
      const code = emulator.issueCode('shop-web', 'editor');
      const answer = await call(`${app.url}/auth/login/code?code=${code}`, { method: 'POST' });
      expect(answer.status, show(answer)).toBe(503);
    });
  });

  describe('POST /auth/logout', () => {
    it("forgets the caller's token in the cache: its next use asks the auth-service", async () => {
      const token = emulator.issueToken('editor');
      expect((await call(`${app.url}/products`, { token })).status).toBe(200);
      expect((await call(`${app.url}/products`, { token })).status).toBe(200);
      expect(emulator.requestCount('user')).toBe(1);
      const logout = await call(`${app.url}/auth/logout`, { method: 'POST', token });
      expect(logout.status, show(logout)).toBe(204);
      expect((await call(`${app.url}/products`, { token })).status).toBe(200);
      expect(emulator.requestCount('user')).toBe(2);
    });

    it('answers 401 without a token', async () => {
      const answer = await call(`${app.url}/auth/logout`, { method: 'POST' });
      expect(answer.status, show(answer)).toBe(401);
    });
  });

  describe('GET /auth/me', () => {
    it('answers the AuthenticatedUser, without the password hash', async () => {
      const answer = await call(`${app.url}/auth/me`, { token: emulator.issueToken('viewer') });
      expect(answer.status, show(answer)).toBe(200);
      expect(answer.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        username: 'viewer',
        firstName: 'Vera',
        lastName: '',
        email: 'vera@shop.test',
        phoneNumber: '',
        isAdmin: false,
        isServiceAdmin: false,
        metadata: { canView: true, canEdit: false, region: 'eu', maxDiscount: 0 },
      });
      expect(answer.text).not.toMatch(/hashed|scrypt/i);
    });

    it('tells a service admin and a superadmin apart', async () => {
      const admin = await call(`${app.url}/auth/me`, { token: emulator.issueToken('admin') });
      expect(admin.body).toMatchObject({ isAdmin: false, isServiceAdmin: true });
      const root = await call(`${app.url}/auth/me`, { token: emulator.issueToken('root') });
      expect(root.body).toMatchObject({ isAdmin: true, isServiceAdmin: false });
    });

    it('answers 401 without a token', async () => {
      const answer = await call(`${app.url}/auth/me`);
      expect(answer.status).toBe(401);
      expect(answer.body.message).toBe('missing token');
    });
  });
});

describe.each(PLATFORMS)('login controller options on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  const start = useShopEmulator(
    platform,
    { refreshTokens: true },
    (started) => (emulator = started),
  );
  const form = { username: 'editor', password: PASSWORDS.editor };

  it("controller: { path: 'account' } mounts the routes at /account", async () => {
    const app = await start({
      controller: { path: 'account' },
      syncPermissions: false,
    });
    const answer = await call(`${app.url}/account/login`, { method: 'POST', form });
    expect(answer.status, show(answer)).toBe(200);
    const me = await call(`${app.url}/account/me`, { token: answer.body.access_token });
    expect(me.body.username).toBe('editor');
    const old = await call(`${app.url}/auth/login`, { method: 'POST', form });
    expect(old.status, show(old)).toBe(404);
    // No oauthClient configured: the code route is not mounted, and answers as an unknown route does.
    const code = await call(`${app.url}/account/login/code?code=abc`, { method: 'POST' });
    const unknown = await call(`${app.url}/account/login/none?code=abc`, { method: 'POST' });
    expect(code.status, show(code)).toBe(404);
    expect(code.body).toEqual({
      ...unknown.body,
      message: unknown.body.message.replace('/login/none', '/login/code'),
    });
  });

  it('controller: false mounts no routes', async () => {
    const app = await start({ controller: false, syncPermissions: false });
    for (const [method, path] of [
      ['POST', '/auth/login'],
      ['POST', '/auth/login/code'],
      ['POST', '/auth/refresh'],
      ['GET', '/auth/me'],
    ] as const) {
      const answer = await call(`${app.url}${path}`, {
        method,
        form: method === 'POST' ? form : undefined,
        token: emulator.issueToken('editor'),
      });
      expect(answer.status, `${method} ${path}: ${show(answer)}`).toBe(404);
    }
    // The guard still protects the app's own routes.
    expect((await call(`${app.url}/products`)).status).toBe(401);
  });

  it('blocks a username with 429 after too many failed logins, even with the right password', async () => {
    const app = await start({
      syncPermissions: false,
      login: {
        limits: {
          perUsername: { maxFailures: 2, windowMs: 60_000, blockMs: 60_000 },
          perIp: false,
        },
        minFailureMs: 0,
        maxFailureMs: 0,
      },
    });
    const attempt = (username: string, password: string) =>
      call(`${app.url}/auth/login`, { method: 'POST', form: { username, password } });
    expect((await attempt('viewer', 'wrong-1')).status).toBe(401);
    expect((await attempt('viewer', 'wrong-2')).status).toBe(401);
    emulator.resetCounters();
    const blocked = await attempt('viewer', PASSWORDS.viewer);
    expect(blocked.status, show(blocked)).toBe(429);
    const retryAfter = Number(blocked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(blocked.text).not.toContain(PASSWORDS.viewer);
    expect(emulator.requestCount('login')).toBe(0);
    // Another user is not affected.
    expect((await attempt('editor', PASSWORDS.editor)).status).toBe(200);
  });

  it('blocks a client address with 429 after too many failed logins', async () => {
    const app = await start({
      syncPermissions: false,
      login: {
        limits: {
          perUsername: false,
          perIp: { maxFailures: 3, windowMs: 60_000, blockMs: 60_000 },
        },
        minFailureMs: 0,
        maxFailureMs: 0,
      },
    });
    for (const username of ['viewer', 'editor', 'nobody']) {
      const answer = await call(`${app.url}/auth/login`, {
        method: 'POST',
        form: { username, password: 'wrong-password' },
      });
      expect(answer.status, show(answer)).toBe(401);
    }
    const blocked = await call(`${app.url}/auth/login`, {
      method: 'POST',
      form: { username: 'admin', password: PASSWORDS.admin },
    });
    expect(blocked.status, show(blocked)).toBe(429);
    expect(blocked.headers.get('retry-after')).not.toBeNull();
  });

  it('passes refresh_token and expires_in through when the auth-service sends them', async () => {
    const app = await start({ syncPermissions: false });
    const answer = await call(`${app.url}/auth/login`, { method: 'POST', form });
    expect(answer.status, show(answer)).toBe(200);
    expect(answer.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      refresh_token: expect.any(String),
      expires_in: 3600,
    });
  });
});
