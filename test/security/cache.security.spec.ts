import { TokenVerifier, type ApexAuthModuleOptions } from '@apex/nest-auth';
import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { call, show, type Answer } from '../fixtures/http.js';
import { useShopEmulator } from '../fixtures/shop-suite.js';
import { PLATFORMS, type RunningApp } from '../fixtures/start-app.js';
import { expectUnauthorized, expectUnavailable, sleep } from './fixtures/security.js';

/** The fields a cached user may have: the allow-list, nothing the upstream payload adds. */
const ALLOWED_FIELDS = [
  'email',
  'firstName',
  'id',
  'isAdmin',
  'isServiceAdmin',
  'lastName',
  'metadata',
  'phoneNumber',
  'username',
];

describe.each(PLATFORMS)('the cache of validated users (remote mode) on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  const startShopApp = useShopEmulator(platform, {}, (started) => (emulator = started));
  const start = (options: Partial<ApexAuthModuleOptions> = {}): Promise<RunningApp> =>
    startShopApp({ syncPermissions: false, circuitBreaker: false, ...options });
  const products = (app: RunningApp, token: string): Promise<Answer> =>
    call(`${app.url}/products`, { token });
  const resolverOf = (app: RunningApp) => app.app.get(TokenVerifier);

  beforeEach(() => emulator.resetCounters());
  afterEach(() => emulator.clearFaults());

  describe('with the default settings (ttl 60 s)', () => {
    let app: RunningApp;
    beforeAll(async () => {
      app = await start();
    });

    it("never outlives the token's exp", async () => {
      const token = emulator.issueToken('editor', { ttlSeconds: 2 });
      const exp = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).exp;
      expect((await products(app, token)).status).toBe(200);
      expect((await products(app, token)).status).toBe(200);
      expect(emulator.requestCount('user')).toBe(1);
      await sleep(exp * 1000 - Date.now() + 20);
      expect(resolverOf(app).cached(token)).toBeUndefined();
      expectUnauthorized(await products(app, token), 'token expired');
      expect(emulator.requestCount('user')).toBe(1);
    });

    it('holds only the allow-listed user fields: no password hash, no token', async () => {
      const tokens = (['viewer', 'editor', 'root', 'outsider'] as const).map((user) =>
        emulator.issueToken(user),
      );
      for (const token of tokens) expect((await products(app, token)).status).toBe(200);
      const users = resolverOf(app).cachedUsers();
      expect(users.length).toBeGreaterThanOrEqual(tokens.length);
      for (const user of users) expect(Object.keys(user).sort()).toEqual(ALLOWED_FIELDS);
      const dump = JSON.stringify(users);
      expect(dump).not.toMatch(/hashed_password|hashedPassword|scrypt\$/);
      for (const token of tokens) {
        expect(dump).not.toContain(token);
        for (const part of token.split('.')) expect(dump).not.toContain(part);
      }
    });

    it('is keyed by the whole token: a token differing only in its last character is not served', async () => {
      const token = emulator.issueToken('editor');
      expect((await products(app, token)).status).toBe(200);
      const last = token.at(-1) === 'A' ? 'B' : 'A';
      const forged = `${token.slice(0, -1)}${last}`;
      expectUnauthorized(await products(app, forged), 'invalid token');
      expect(emulator.requestCount('user')).toBe(2);
    });

    it('does not cache an unavailable auth-service as an invalid token', async () => {
      const token = emulator.issueToken('viewer');
      emulator.fail({ kind: 'status', status: 503 }, { endpoints: ['user'] });
      expectUnavailable(await products(app, token));
      emulator.clearFaults();
      const healed = await products(app, token);
      expect(healed.status, show(healed)).toBe(200);
    });

    it('caches a refused token briefly: no second upstream call for the same bad token', async () => {
      const token = emulator.issueToken('viewer');
      emulator.revokeToken(token);
      for (let i = 0; i < 4; i++) expectUnauthorized(await products(app, token), 'invalid token');
      expect(emulator.requestCount('user')).toBe(1);
    });

    it('a refusal of one token does not touch the cached entry of another', async () => {
      const good = emulator.issueToken('editor');
      expect((await products(app, good)).status).toBe(200);
      emulator.fail({ kind: 'status', status: 401 }, { endpoints: ['user'], times: 1 });
      expectUnauthorized(await products(app, emulator.issueToken('editor')), 'invalid token');
      expect((await products(app, good)).status).toBe(200);
      expect(emulator.requestCount('user')).toBe(2);
    });
  });

  describe('negative entries last a few seconds at most, and never past ttlMs', () => {
    let app: RunningApp;
    beforeAll(async () => {
      app = await start({ cache: { ttlMs: 300 } });
    });

    it('asks again about a refused token once its negative entry expired', async () => {
      const token = emulator.issueToken('viewer');
      emulator.revokeToken(token);
      expectUnauthorized(await products(app, token), 'invalid token');
      expectUnauthorized(await products(app, token), 'invalid token');
      expect(emulator.requestCount('user')).toBe(1);
      await sleep(350);
      expectUnauthorized(await products(app, token), 'invalid token');
      expect(emulator.requestCount('user')).toBe(2);
    });
  });

  describe('bounded', () => {
    let app: RunningApp;
    beforeAll(async () => {
      app = await start({ cache: { maxEntries: 3 } });
    });

    it('keeps at most maxEntries users', async () => {
      for (const user of ['viewer', 'editor', 'admin', 'root', 'outsider'] as const) {
        expect((await products(app, emulator.issueToken(user))).status).toBe(200);
      }
      const users = resolverOf(app).cachedUsers();
      expect(users.length).toBeLessThanOrEqual(3);
      // The most recent ones.
      expect(users.map((user) => user.username).sort()).toEqual(['admin', 'outsider', 'root']);
    });

    it('bounds refused tokens too', async () => {
      // Negative entries share the bound: 5 refused tokens, then the first is asked about again.
      const tokens = Array.from({ length: 5 }, () => {
        const token = emulator.issueToken('viewer');
        emulator.revokeToken(token);
        return token;
      });
      for (const token of tokens) expectUnauthorized(await products(app, token), 'invalid token');
      expect(emulator.requestCount('user')).toBe(5);
      expectUnauthorized(await products(app, tokens[0]), 'invalid token');
      expect(emulator.requestCount('user')).toBe(6);
      expectUnauthorized(await products(app, tokens[4]), 'invalid token');
      expect(emulator.requestCount('user')).toBe(6);
    });
  });

  describe('cache: false', () => {
    it('keeps nothing', async () => {
      const app = await start({ cache: false });
      const token = emulator.issueToken('editor');
      expect((await products(app, token)).status).toBe(200);
      expect((await products(app, token)).status).toBe(200);
      expect(resolverOf(app).cachedUsers()).toEqual([]);
      expect(emulator.requestCount('user')).toBe(2);
    });
  });
});
