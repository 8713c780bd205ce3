import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { call, show, type Answer } from '../fixtures/http.js';
import {
  claimsFor,
  foreignRsaPrivateKey,
  signHs256,
  signRs256,
  unsignedToken,
} from '../fixtures/jwt.js';
import type { LoopbackServer } from '../fixtures/loopback.js';
import { startProxy } from '../fixtures/proxy.js';
import { useShopApp, useShopEmulator, type ShopAuthOverrides } from '../fixtures/shop-suite.js';
import { PLATFORMS, type RunningApp } from '../fixtures/start-app.js';
import { inMode, MODES } from '../fixtures/verification-modes.js';

/** Every upstream request but the JWKS (which local RS256 fetches at startup). */
function upstreamCalls(emulator: AuthServiceEmulator): number {
  const { jwks, ...rest } = emulator.requestCounts();
  void jwks;
  return Object.values(rest).reduce((sum, count) => sum + count, 0);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(PLATFORMS)('verification on %s', (platform) => {
  describe.each(Object.values(MODES))('$name', (mode) => {
    let emulator: AuthServiceEmulator;
    let app: RunningApp;
    let jwksAtStartup = 0;
    const products = (token: string): Promise<Answer> => call(`${app.url}/products`, { token });

    useShopApp(platform, inMode(mode, { syncPermissions: false }), (shop) => {
      ({ emulator, app } = shop);
      jwksAtStartup = emulator.requestCount('jwks');
    });
    beforeEach(() => emulator.resetCounters());

    it('a good token costs user + serviceUser the first time, nothing afterwards', async () => {
      const token = emulator.issueToken('editor');
      const first = await products(token);
      expect(first.status, show(first)).toBe(200);
      expect(first.body.username).toBe('editor');
      expect(emulator.requestCount('user')).toBe(1);
      expect(emulator.requestCount('serviceUser')).toBe(1);
      expect(upstreamCalls(emulator)).toBe(2);
      for (let i = 0; i < 3; i++) {
        const again = await products(token);
        expect(again.status, show(again)).toBe(200);
      }
      expect(upstreamCalls(emulator)).toBe(2);
      expect(emulator.requestCount('jwks')).toBe(0);
    });

    it('N concurrent first requests with one token make one lookup', async () => {
      const token = emulator.issueToken('viewer');
      const answers = await Promise.all(Array.from({ length: 12 }, () => products(token)));
      expect(answers.map((answer) => answer.status)).toEqual(Array(12).fill(200));
      expect(emulator.requestCount('user')).toBe(1);
      expect(emulator.requestCount('serviceUser')).toBe(1);
    });

    it('each token is a cache entry of its own', async () => {
      const viewer = await products(emulator.issueToken('viewer'));
      const editor = await products(emulator.issueToken('editor'));
      expect([viewer.body.username, editor.body.username]).toEqual(['viewer', 'editor']);
      // Both users were validated by the tests above: locally their new tokens are known users'
      // (no call); remotely the auth-service still judges each token.
      expect(emulator.requestCount('user')).toBe(mode.local ? 0 : 2);
      expect(emulator.requestCount('serviceUser')).toBe(0);
    });

    if (mode.local) {
      it('refuses bad tokens locally, with zero upstream calls', async () => {
        const good = emulator.issueToken('editor');
        const [header, payload, signature] = good.split('.') as [string, string, string];
        const otherPayload = emulator.issueToken('root').split('.')[1];
        const bad: [string, string, string][] = [
          ['tampered payload', `${header}.${otherPayload}.${signature}`, 'invalid token'],
          [
            'truncated signature',
            `${header}.${payload}.${signature.slice(0, -4)}`,
            'invalid token',
          ],
          ['expired', emulator.issueToken('editor', { ttlSeconds: -10 }), 'token expired'],
          ['unsigned (alg none)', unsignedToken(claimsFor('editor')), 'invalid token'],
          [
            'signed with a foreign HMAC key',
            signHs256(claimsFor('editor'), 'a-foreign-secret-of-at-least-32-bytes!'),
            'invalid token',
          ],
          [
            'signed with a foreign RSA key',
            signRs256(claimsFor('editor'), foreignRsaPrivateKey(), { kid: emulator.keyId }),
            'invalid token',
          ],
          ['without exp', emulator.signToken({ sub: 'editor' }), 'invalid token'],
        ];
        if (emulator.publicKeyPem !== undefined) {
          // Algorithm confusion: the public key used as an HMAC secret.
          bad.push([
            'HS256 with the public key as secret',
            signHs256(claimsFor('editor'), emulator.publicKeyPem, { kid: emulator.keyId }),
            'invalid token',
          ]);
        }
        for (const [what, token, reason] of bad) {
          const answer = await products(token);
          expect(answer.status, `${what}: ${show(answer)}`).toBe(401);
          expect(answer.body.message, what).toBe(reason);
        }
        expect(emulator.requestCounts()).toMatchObject({ user: 0, serviceUser: 0, metadata: 0 });
        expect(upstreamCalls(emulator)).toBe(0);
      });
    } else {
      it('asks the auth-service about a token it cannot verify, and refuses it', async () => {
        const good = emulator.issueToken('editor');
        const [header, , signature] = good.split('.') as [string, string, string];
        const otherPayload = emulator.issueToken('root').split('.')[1];
        const answer = await products(`${header}.${otherPayload}.${signature}`);
        expect(answer.status, show(answer)).toBe(401);
        expect(answer.body.message).toBe('invalid token');
        expect(emulator.requestCount('user')).toBe(1);
        // An expired token says so itself: no need to ask.
        const expired = await products(emulator.issueToken('editor', { ttlSeconds: -10 }));
        expect(expired.body.message).toBe('token expired');
        expect(emulator.requestCount('user')).toBe(1);
      });

      it('refuses a revoked token, and remembers the refusal for a while', async () => {
        const token = emulator.issueToken('editor');
        emulator.revokeToken(token);
        for (let i = 0; i < 3; i++) {
          const answer = await products(token);
          expect(answer.status, show(answer)).toBe(401);
          expect(answer.body.message).toBe('invalid token');
        }
        expect(emulator.requestCount('user')).toBe(1);
      });
    }

    if (mode.name.includes('JWKS')) {
      it('fetched the JWKS once at startup and not per token', async () => {
        expect(jwksAtStartup).toBe(1);
        for (const user of ['viewer', 'editor', 'admin'] as const) {
          expect((await products(emulator.issueToken(user))).status).toBe(200);
        }
        expect(emulator.requestCount('jwks')).toBe(0);
      });
    }
  });

  describe('cache settings', () => {
    let emulator: AuthServiceEmulator;
    const startShopApp = useShopEmulator(platform, {}, (started) => (emulator = started));
    beforeEach(() => emulator.resetCounters());

    async function start(overrides: ShopAuthOverrides): Promise<RunningApp> {
      const app = await startShopApp({ syncPermissions: false, ...overrides });
      emulator.resetCounters();
      return app;
    }

    it.each([
      ['local', true],
      ['remote', false],
    ])('cache: false asks the auth-service on every request (%s)', async (_name, local) => {
      const app = await start({
        cache: false,
        jwt: local ? { secret: emulator.hmacSecret! } : undefined,
      });
      const token = emulator.issueToken('editor');
      for (let i = 1; i <= 3; i++) {
        const answer = await call(`${app.url}/products`, { token });
        expect(answer.status, show(answer)).toBe(200);
        expect(emulator.requestCount('user')).toBe(i);
        expect(emulator.requestCount('serviceUser')).toBe(i);
      }
    });

    it('a cached user is looked up again after cache.ttlMs', async () => {
      const app = await start({ cache: { ttlMs: 400 } });
      const token = emulator.issueToken('editor');
      expect((await call(`${app.url}/products`, { token })).status).toBe(200);
      expect((await call(`${app.url}/products`, { token })).status).toBe(200);
      expect(emulator.requestCount('user')).toBe(1);
      await sleep(450);
      expect((await call(`${app.url}/products`, { token })).status).toBe(200);
      expect(emulator.requestCount('user')).toBe(2);
    });

    it('cache.maxEntries bounds the cache (least recently used goes first)', async () => {
      const app = await start({ cache: { maxEntries: 2 } });
      const [a, b, c] = (['viewer', 'editor', 'admin'] as const).map((u) => emulator.issueToken(u));
      for (const token of [a, b, a, c, a]) {
        expect((await call(`${app.url}/products`, { token })).status).toBe(200);
      }
      // a, b, (a cached), c evicts b, (a cached)
      expect(emulator.requestCount('user')).toBe(3);
      expect((await call(`${app.url}/products`, { token: b })).status).toBe(200);
      expect(emulator.requestCount('user')).toBe(4);
    });

    it('jwt.algorithms narrows what is accepted, locally', async () => {
      const app = await start({ jwt: { secret: emulator.hmacSecret!, algorithms: ['HS512'] } });
      const answer = await call(`${app.url}/products`, { token: emulator.issueToken('editor') });
      expect(answer.status, show(answer)).toBe(401);
      expect(answer.body.message).toBe('invalid token');
      expect(emulator.requestCount('user')).toBe(0);
    });

    it('a cached token is refused once it expires (local and remote)', async () => {
      const remote = await start({ jwt: undefined });
      const local = await start({ jwt: { secret: emulator.hmacSecret! } });
      // Valid for 0.6 to 1.6 s: long enough to be cached, short enough to wait out.
      const iat = Math.floor(Date.now() / 1000);
      const exp = Math.ceil((Date.now() + 600) / 1000);
      const token = emulator.signToken({ sub: 'editor', iat, exp, jti: `expiring-${platform}` });
      for (const app of [remote, local]) {
        expect((await call(`${app.url}/products`, { token })).status).toBe(200);
        expect((await call(`${app.url}/products`, { token })).status).toBe(200);
      }
      expect(emulator.requestCount('user')).toBe(2);
      await sleep(exp * 1000 - Date.now() + 50);
      for (const app of [remote, local]) {
        const answer = await call(`${app.url}/products`, { token });
        expect(answer.status, show(answer)).toBe(401);
        expect(answer.body.message).toBe('token expired');
      }
      expect(emulator.requestCount('user')).toBe(2);
    });
  });

  describe('coalescing behind a slow auth-service', () => {
    let emulator: AuthServiceEmulator;
    let proxy: LoopbackServer;
    const startShopApp = useShopEmulator(platform, {}, (started) => (emulator = started));
    beforeAll(async () => {
      proxy = await startProxy(emulator.url, { delayMs: 200 });
    });
    afterAll(async () => {
      await proxy?.stop();
    });

    it.each([
      ['local HS256', true],
      ['remote', false],
    ])('%s: 10 concurrent first requests with one token, one lookup', async (_name, local) => {
      const app = await startShopApp({
        baseUrl: proxy.url,
        syncPermissions: false,
        jwt: local ? { secret: emulator.hmacSecret! } : undefined,
      });
      emulator.resetCounters();
      const token = emulator.issueToken('editor');
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => call(`${app.url}/products`, { token })),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(200));
      expect(emulator.requestCount('user')).toBe(1);
      expect(emulator.requestCount('serviceUser')).toBe(1);
    });

    it('coalesces even with cache: false, and asks again for the next request', async () => {
      const app = await startShopApp({ baseUrl: proxy.url, syncPermissions: false, cache: false });
      emulator.resetCounters();
      const token = emulator.issueToken('viewer');
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => call(`${app.url}/products`, { token })),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(6).fill(200));
      expect(emulator.requestCount('user')).toBe(1);
      expect((await call(`${app.url}/products`, { token })).status).toBe(200);
      expect(emulator.requestCount('user')).toBe(2);
    });
  });

  describe('issuer and audience', () => {
    let emulator: AuthServiceEmulator;
    let app: RunningApp;
    useShopApp(
      platform,
      {
        emulator: { issuer: 'https://auth.apex.test', audience: 'shop' },
        auth: (emulator) => ({
          syncPermissions: false,
          jwt: { secret: emulator.hmacSecret! },
          issuer: 'https://auth.apex.test',
          audience: ['shop', 'shop-admin'],
        }),
      },
      (shop) => ({ emulator, app } = shop),
    );

    it('accepts a token with the configured iss and aud', async () => {
      const answer = await call(`${app.url}/products`, { token: emulator.issueToken('editor') });
      expect(answer.status, show(answer)).toBe(200);
      const other = await call(`${app.url}/products`, {
        token: emulator.issueToken('editor', { claims: { aud: 'shop-admin' } }),
      });
      expect(other.status, show(other)).toBe(200);
    });

    it.each([
      ['without iss', { iss: undefined }],
      ['with another iss', { iss: 'https://evil.test' }],
      ['without aud', { aud: undefined }],
      ['with another aud', { aud: 'billing' }],
    ])('refuses a token %s, without asking the auth-service', async (_what, claims) => {
      emulator.resetCounters();
      const answer = await call(`${app.url}/products`, {
        token: emulator.issueToken('editor', { claims }),
      });
      expect(answer.status, show(answer)).toBe(401);
      expect(answer.body.message).toBe('invalid token');
      expect(emulator.requestCount('user')).toBe(0);
    });
  });
});
