import type { ApexAuthModuleOptions } from '@apex/nest-auth';
import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, show, type Answer } from '../fixtures/http.js';
import { OAUTH_CLIENT, PASSWORDS } from '../fixtures/seed.js';
import { useShopEmulator } from '../fixtures/shop-suite.js';
import { PLATFORMS, type RunningApp } from '../fixtures/start-app.js';
import { MODES } from '../fixtures/verification-modes.js';
import {
  expectUnauthorized,
  expectUnavailable,
  sleep,
  upstreamCalls,
} from '../security/fixtures/security.js';

const PAUSE_MS = 400;

describe.each(PLATFORMS)('circuit breaker on %s', (platform) => {
  describe.each([MODES.remote, MODES.localHs256])('$name', (mode) => {
    let emulator: AuthServiceEmulator;
    const startShopApp = useShopEmulator(platform, mode.emulator, (started) => {
      emulator = started;
    });
    const start = (overrides: Partial<ApexAuthModuleOptions> = {}): Promise<RunningApp> =>
      startShopApp({
        syncPermissions: false,
        oauthClient: OAUTH_CLIENT,
        jwt: mode.jwt(emulator),
        timeoutMs: 300,
        circuitBreaker: {
          minimumCalls: 4,
          clientFailures: 2,
          halfOpenAfterMs: PAUSE_MS,
          maxHalfOpenAfterMs: PAUSE_MS,
        },
        login: { minFailureMs: 0, maxFailureMs: 0 },
        ...overrides,
      });
    /** A new token of `user`, sent from the loopback address `from`. */
    const products = (app: RunningApp, from: string, token: string): Promise<Answer> =>
      call(`${app.url}/products`, { token, from });
    beforeEach(() => emulator.resetCounters());
    afterEach(() => emulator.clearFaults());

    it('one client whose lookups keep failing gets 503 at once; the others are still served', async () => {
      const app = await start();
      const cached = emulator.issueToken('viewer');
      expect((await products(app, '127.0.0.2', cached)).status).toBe(200);
      emulator.fail({ kind: 'status', status: 503 }, { endpoints: ['user'] });
      for (let i = 0; i < 2; i++) {
        expectUnavailable(await products(app, '127.0.0.2', emulator.issueToken('editor')));
      }
      emulator.resetCounters();

      const fast = await products(app, '127.0.0.2', emulator.issueToken('editor'));
      expectUnavailable(fast, '1');
      expect(upstreamCalls(emulator, [])).toBe(0);
      // What needs no auth-service is still judged, and the cache still answers.
      expectUnauthorized(await call(`${app.url}/products`, { from: '127.0.0.2' }), 'missing token');
      expectUnauthorized(
        await products(app, '127.0.0.2', emulator.issueToken('editor', { ttlSeconds: -10 })),
        'token expired',
      );
      const stillCached = await products(app, '127.0.0.2', cached);
      expect(stillCached.status, show(stillCached)).toBe(200);
      expect(upstreamCalls(emulator, [])).toBe(0);

      // Another client is not held to the first one's circuit: it asks, and is served.
      emulator.clearFaults();
      const other = await products(app, '127.0.0.3', emulator.issueToken('editor'));
      expect(other.status, show(other)).toBe(200);
      // The first one probes for itself once its pause is over.
      await sleep(PAUSE_MS + 50);
      const probe = await products(app, '127.0.0.2', emulator.issueToken('admin'));
      expect(probe.status, show(probe)).toBe(200);
    });

    it('failures from several clients open it for everyone; logins keep a circuit of their own', async () => {
      const app = await start();
      emulator.fail({ kind: 'status', status: 503 }, { endpoints: ['user'] });
      for (let i = 10; i < 14; i++) {
        expectUnavailable(await products(app, `127.0.0.${i}`, emulator.issueToken('editor')));
      }
      emulator.resetCounters();

      // A newcomer gets the open circuit: no upstream call.
      expectUnavailable(await products(app, '127.0.0.20', emulator.issueToken('editor')));
      expect(emulator.requestCount('user')).toBe(0);
      // Logins and code exchanges are not token lookups: they go on.
      const login = await call(`${app.url}/auth/login`, {
        method: 'POST',
        form: { username: 'editor', password: PASSWORDS.editor },
        from: '127.0.0.20',
      });
      expect(login.status, show(login)).toBe(200);
      const code = await call(`${app.url}/auth/login/code`, {
        method: 'POST',
        json: { code: emulator.issueCode(OAUTH_CLIENT.clientId, 'editor') },
      });
      expect(code.status, show(code)).toBe(200);

      // Healed, and the pause over: one probe goes through and closes it.
      emulator.clearFaults();
      await sleep(PAUSE_MS + 50);
      emulator.resetCounters();
      const probe = await products(app, '127.0.0.21', emulator.issueToken('editor'));
      expect(probe.status, show(probe)).toBe(200);
      expect(emulator.requestCount('user')).toBe(1);
      for (const user of ['admin', 'root'] as const) {
        const answer = await products(app, '127.0.0.22', emulator.issueToken(user));
        expect(answer.status, show(answer)).toBe(200);
      }
    });

    it('a failed probe opens it again at once', async () => {
      const app = await start();
      emulator.fail({ kind: 'status', status: 503 }, { endpoints: ['user'] });
      for (let i = 30; i < 34; i++) {
        expectUnavailable(await products(app, `127.0.0.${i}`, emulator.issueToken('editor')));
      }
      await sleep(PAUSE_MS + 50);
      emulator.resetCounters();
      // Still failing: the probe is let through, and fails.
      expectUnavailable(await products(app, '127.0.0.40', emulator.issueToken('editor')));
      expect(emulator.requestCount('user')).toBe(1);
      expectUnavailable(await products(app, '127.0.0.41', emulator.issueToken('editor')));
      expect(emulator.requestCount('user')).toBe(1);
    });

    it('is not opened by refusals: they show the auth-service is up', async () => {
      const app = await start({ login: { minFailureMs: 0, maxFailureMs: 0, limits: false } });
      for (let i = 0; i < 6; i++) {
        const revoked = emulator.issueToken('editor');
        emulator.revokeToken(revoked);
        expectUnauthorized(await products(app, `127.0.0.${50 + i}`, revoked), 'invalid token');
        const wrong = await call(`${app.url}/auth/login`, {
          method: 'POST',
          form: { username: 'root', password: `wrong-${i}` },
        });
        expect(wrong.status, show(wrong)).toBe(401);
      }
      const answer = await products(app, '127.0.0.60', emulator.issueToken('editor'));
      expect(answer.status, show(answer)).toBe(200);
    });
  });
});
