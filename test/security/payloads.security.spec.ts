import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, show } from '../fixtures/http.js';
import type { LoopbackServer } from '../fixtures/loopback.js';
import { startProxy } from '../fixtures/proxy.js';
import { useShopEmulator } from '../fixtures/shop-suite.js';
import { PLATFORMS } from '../fixtures/start-app.js';
import { MODES } from '../fixtures/verification-modes.js';
import { expectUnauthorized, expectUnavailable } from './fixtures/security.js';

type Jwk = Record<string, unknown>;

describe.each(PLATFORMS)('JWKS keys published for something else, on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  let proxy: LoopbackServer;
  /** What the proxy does to each key of the emulator's JWKS. */
  let reshape: (key: Jwk) => Jwk = (key) => key;
  const start = useShopEmulator(platform, { signing: { algorithm: 'RS256' } }, (started) => {
    emulator = started;
  });
  beforeAll(async () => {
    proxy = await startProxy(emulator.url, {
      intercept: async (request) => {
        if (request.path !== '/.well-known/jwks.json') return undefined;
        const document = (await (await fetch(emulator.jwksUri)).json()) as { keys: Jwk[] };
        return { status: 200, body: JSON.stringify({ keys: document.keys.map(reshape) }) };
      },
    });
  });
  afterAll(() => proxy.stop());

  it.each<[string, (key: Jwk) => Jwk, number]>([
    ['key_ops without verify', (key) => ({ ...key, key_ops: ['sign'] }), 401],
    ['key_ops that is not a list', (key) => ({ ...key, key_ops: 'verify' }), 401],
    ['use: enc', (key) => ({ ...key, use: 'enc' }), 401],
    ['key_ops with verify', (key) => ({ ...key, key_ops: ['verify'] }), 200],
    ['use: sig', (key) => ({ ...key, use: 'sig' }), 200],
  ])('%s: answers %s', async (_what, change, status) => {
    reshape = change;
    const app = await start({
      syncPermissions: false,
      jwt: { jwksUri: `${proxy.url}/.well-known/jwks.json` },
    });
    const answer = await call(`${app.url}/products`, { token: emulator.issueToken('editor') });
    if (status === 401) expectUnauthorized(answer, 'invalid token');
    else expect(answer.status, show(answer)).toBe(200);
  });
});

describe.each(PLATFORMS)('a service user record of someone else, on %s', (platform) => {
  describe.each([MODES.remote, MODES.localHs256])('$name', (mode) => {
    let emulator: AuthServiceEmulator;
    let proxy: LoopbackServer;
    const start = useShopEmulator(platform, mode.emulator, (started) => (emulator = started));
    beforeAll(async () => {
      // The auth-service answers GET /services/shop/users/{viewer} with the admin's record.
      proxy = await startProxy(emulator.url, {
        intercept: async (request) => {
          if (!request.path.startsWith('/services/shop/users/')) return undefined;
          return { status: 200, body: JSON.stringify({ data: { user: await adminRecord() } }) };
        },
      });
    });
    afterAll(() => proxy.stop());
    /** The admin's service record, as the emulator itself gives it. */
    const adminRecord = async (): Promise<unknown> => {
      const token = emulator.issueToken('admin');
      const me = (await (
        await fetch(`${emulator.url}/auth/user`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { id: string };
      const record = (await (
        await fetch(`${emulator.url}/services/shop/users/${me.id}`, {
          headers: { authorization: `Bearer ${token}` },
        })
      ).json()) as { data: { user: unknown } };
      return record.data.user;
    };

    it('is a payload error (503), never that user’s rights', async () => {
      const app = await start({
        baseUrl: proxy.url,
        syncPermissions: false,
        jwt: mode.jwt(emulator),
      });
      const answer = await call(`${app.url}/admin/users-as-admin`, {
        token: emulator.issueToken('viewer'),
      });
      expectUnavailable(answer);
      const mine = await call(`${app.url}/products/mine`, { token: emulator.issueToken('viewer') });
      expectUnavailable(mine);
      expect(mine.text).not.toContain('apac');
    });
  });
});
