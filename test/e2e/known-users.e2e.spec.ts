import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { call, show, type Answer } from '../fixtures/http.js';
import { useShopEmulator } from '../fixtures/shop-suite.js';
import { PLATFORMS, type RunningApp } from '../fixtures/start-app.js';
import { MODES } from '../fixtures/verification-modes.js';

const products = (app: RunningApp, token: string): Promise<Answer> =>
  call(`${app.url}/products`, { token });
const logout = (app: RunningApp, token: string): Promise<Answer> =>
  call(`${app.url}/auth/logout`, { method: 'POST', token });

/** What the auth-service was asked, by endpoint, since the counters were reset. */
const asked = (emulator: AuthServiceEmulator) => ({
  user: emulator.requestCount('user'),
  serviceUser: emulator.requestCount('serviceUser'),
});

describe.each(PLATFORMS)('new tokens of known users on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  const startShopApp = useShopEmulator(platform, {}, (started) => (emulator = started));
  const local = () => ({ jwt: MODES.localHs256.jwt(emulator) });
  beforeEach(() => emulator.resetCounters());

  describe('remote mode', () => {
    let app: RunningApp;
    let full: RunningApp;
    beforeAll(async () => {
      app = await startShopApp({ syncPermissions: false });
      full = await startShopApp({ syncPermissions: false, cache: { knownUsers: false } });
    });

    it("costs one call: the auth-service judges the token, the user's record here is reused", async () => {
      const first = await products(app, emulator.issueToken('editor'));
      expect(first.status, show(first)).toBe(200);
      expect(asked(emulator)).toEqual({ user: 1, serviceUser: 1 });
      for (let i = 0; i < 3; i++) {
        const again = await products(app, emulator.issueToken('editor'));
        expect(again.status, show(again)).toBe(200);
        expect(again.body).toEqual(first.body);
      }
      expect(asked(emulator)).toEqual({ user: 4, serviceUser: 1 });
    });

    it('still refuses a revoked token of a known user: the token is always asked about', async () => {
      expect((await products(app, emulator.issueToken('viewer'))).status).toBe(200);
      const revoked = emulator.issueToken('viewer');
      emulator.revokeToken(revoked);
      expect((await products(app, revoked)).status).toBe(401);
    });

    it('500 concurrent requests with one new token: one GET /auth/user, one record', async () => {
      emulator.addUser({ username: `crowd-${platform}`, password: 'crowd-password' });
      const token = emulator.issueToken(`crowd-${platform}`);
      const answers = await Promise.all(Array.from({ length: 500 }, () => products(app, token)));
      expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([200]));
      expect(asked(emulator)).toEqual({ user: 1, serviceUser: 1 });
    });

    it('asks for the record again after logout', async () => {
      const token = emulator.issueToken('admin');
      expect((await products(app, token)).status).toBe(200);
      expect((await logout(app, token)).status).toBe(204);
      expect((await products(app, emulator.issueToken('admin'))).status).toBe(200);
      // The logout itself was served from the cache.
      expect(asked(emulator)).toEqual({ user: 2, serviceUser: 2 });
    });

    it('with knownUsers: false, costs both calls every time', async () => {
      for (let i = 0; i < 2; i++) {
        expect((await products(full, emulator.issueToken('editor'))).status).toBe(200);
      }
      expect(asked(emulator)).toEqual({ user: 2, serviceUser: 2 });
    });
  });

  describe('local mode', () => {
    let app: RunningApp;
    let other: RunningApp;
    beforeAll(async () => {
      app = await startShopApp({ syncPermissions: false, ...local() });
      // Another registration of the module (another app) against the same auth-service.
      other = await startShopApp({ syncPermissions: false, ...local() });
    });

    it('costs no call, and is the same user', async () => {
      const first = await products(app, emulator.issueToken('editor'));
      expect(asked(emulator)).toEqual({ user: 1, serviceUser: 1 });
      const again = await products(app, emulator.issueToken('editor'));
      expect(again.status, show(again)).toBe(200);
      expect(again.body).toEqual(first.body);
      expect(asked(emulator)).toEqual({ user: 1, serviceUser: 1 });
    });

    it('500 concurrent requests with one new token of a new user: one lookup', async () => {
      emulator.addUser({ username: `local-crowd-${platform}`, password: 'crowd-password' });
      const token = emulator.issueToken(`local-crowd-${platform}`);
      const answers = await Promise.all(Array.from({ length: 500 }, () => products(app, token)));
      expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([200]));
      expect(asked(emulator)).toEqual({ user: 1, serviceUser: 1 });
    });

    it('is not shared with another registration of the module', async () => {
      expect((await products(app, emulator.issueToken('viewer'))).status).toBe(200);
      emulator.resetCounters();
      expect((await products(other, emulator.issueToken('viewer'))).status).toBe(200);
      expect(asked(emulator)).toEqual({ user: 1, serviceUser: 1 });
    });

    it('the trade-off: a revoked new token of a known user is accepted without asking, until logout', async () => {
      const first = emulator.issueToken('auditor');
      expect((await products(app, first)).status).toBe(200);
      const revoked = emulator.issueToken('auditor');
      emulator.revokeToken(revoked);
      expect((await products(app, revoked)).status).toBe(200);
      expect(asked(emulator)).toEqual({ user: 1, serviceUser: 1 });
      // Logging out with any token of theirs forgets what was validated of the user.
      expect((await logout(app, first)).status).toBe(204);
      const another = emulator.issueToken('auditor');
      emulator.revokeToken(another);
      expect((await products(app, another)).status).toBe(401);
      expect(asked(emulator).user).toBe(2);
    });

    it('with knownUsers: false, a revoked new token is refused', async () => {
      const full = await startShopApp({
        syncPermissions: false,
        cache: { knownUsers: false },
        ...local(),
      });
      expect((await products(full, emulator.issueToken('outsider'))).status).toBe(200);
      const revoked = emulator.issueToken('outsider');
      emulator.revokeToken(revoked);
      expect((await products(full, revoked)).status).toBe(401);
      expect(asked(emulator).user).toBe(2);
    });
  });
});
