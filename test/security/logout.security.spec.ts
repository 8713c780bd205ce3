import { TokenVerifier } from '@apex/nest-auth';
import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { call, show, type Answer } from '../fixtures/http.js';
import { PASSWORDS } from '../fixtures/seed.js';
import { useShopApp } from '../fixtures/shop-suite.js';
import { PLATFORMS, type RunningApp } from '../fixtures/start-app.js';
import { inMode, MODES } from '../fixtures/verification-modes.js';
import { expectUnauthorized } from './fixtures/security.js';

describe.each(PLATFORMS)('logout on %s', (platform) => {
  describe.each([MODES.remote, MODES.localHs256])('$name', (mode) => {
    let emulator: AuthServiceEmulator;
    let app: RunningApp;
    let resolver: TokenVerifier;
    const products = (token: string): Promise<Answer> => call(`${app.url}/products`, { token });
    const logout = (token?: string): Promise<Answer> =>
      call(`${app.url}/auth/logout`, { method: 'POST', token });
    const loginAs = async (user: 'editor' | 'viewer'): Promise<string> => {
      const answer = await call(`${app.url}/auth/login`, {
        method: 'POST',
        form: { username: user, password: PASSWORDS[user] },
      });
      expect(answer.status, show(answer)).toBe(200);
      return answer.body.access_token as string;
    };
    const cachedUsernames = (): string[] => resolver.cachedUsers().map((user) => user.username);

    useShopApp(platform, inMode(mode, { syncPermissions: false }), (shop) => {
      ({ emulator, app } = shop);
      resolver = app.app.get(TokenVerifier);
    });
    beforeEach(() => emulator.resetCounters());

    it('evicts the token: a revoked token served from the cache is refused after logout', async () => {
      const token = await loginAs('editor');
      expect((await products(token)).status).toBe(200);
      expect(resolver.cached(token)?.username).toBe('editor');
      expect(cachedUsernames()).toContain('editor');
      // Revoked upstream (a stolen token reported): the cache still vouches for it...
      emulator.revokeToken(token);
      const cached = await products(token);
      expect(cached.status, show(cached)).toBe(200);
      expect(emulator.requestCount('user')).toBe(1);
      // ...until its owner logs out.
      const out = await logout(token);
      expect(out.status, show(out)).toBe(204);
      expect(out.text).toBe('');
      expect(resolver.cached(token)).toBeUndefined();
      expect(cachedUsernames()).not.toContain('editor');
      expectUnauthorized(await products(token), 'invalid token');
      expect(emulator.requestCount('user')).toBe(2);
    });

    it('asks the auth-service again for a logged-out token that is still valid', async () => {
      const token = await loginAs('viewer');
      expect((await products(token)).status).toBe(200);
      expect(emulator.requestCount('user')).toBe(1);
      expect((await logout(token)).status).toBe(204);
      expect((await products(token)).status).toBe(200);
      expect(emulator.requestCount('user')).toBe(2);
    });

    it("evicts only the caller's token, not other sessions of the same user", async () => {
      const [first, second] = [await loginAs('editor'), await loginAs('editor')];
      expect(first).not.toBe(second);
      expect((await products(first)).status).toBe(200);
      expect((await products(second)).status).toBe(200);
      expect((await logout(first)).status).toBe(204);
      expect(resolver.cached(first)).toBeUndefined();
      expect(resolver.cached(second)?.username).toBe('editor');
    });

    it('needs a valid token', async () => {
      expectUnauthorized(await logout(), 'missing token');
      expectUnauthorized(await logout('not.a.jwt'), 'invalid token');
      const expired = emulator.issueToken('editor', { ttlSeconds: -5 });
      expectUnauthorized(await logout(expired), 'token expired');
    });
  });
});
