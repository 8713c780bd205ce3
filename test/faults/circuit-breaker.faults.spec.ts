import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, show, type Answer } from '../fixtures/http.js';
import { OAUTH_CLIENT, PASSWORDS } from '../fixtures/seed.js';
import { useShopApp } from '../fixtures/shop-suite.js';
import { PLATFORMS, type RunningApp } from '../fixtures/start-app.js';
import { inMode, MODES } from '../fixtures/verification-modes.js';
import {
  expectUnauthorized,
  expectUnavailable,
  sleep,
  upstreamCalls,
} from '../security/fixtures/security.js';

const RESET_AFTER_MS = 500;

describe.each(PLATFORMS)('circuit breaker on %s', (platform) => {
  describe.each([MODES.remote, MODES.localHs256])('$name', (mode) => {
    const { local } = mode;
    let emulator: AuthServiceEmulator;
    let app: RunningApp;
    const products = (token: string): Promise<Answer> => call(`${app.url}/products`, { token });

    useShopApp(
      platform,
      inMode(mode, {
        syncPermissions: false,
        oauthClient: OAUTH_CLIENT,
        timeoutMs: 300,
        circuitBreaker: { failureThreshold: 2, resetAfterMs: RESET_AFTER_MS },
        login: { minFailureMs: 0 },
      }),
      (shop) => ({ emulator, app } = shop),
    );
    beforeEach(() => emulator.resetCounters());
    afterEach(() => emulator.clearFaults());

    /** Two failing lookups in a row: the threshold. */
    async function openTheCircuit(): Promise<void> {
      emulator.fail({ kind: 'status', status: 503 });
      for (let i = 0; i < 2; i++) expectUnavailable(await products(emulator.issueToken('editor')));
      emulator.resetCounters();
    }

    it('opens after two failures: 503 at once with zero upstream requests; cached tokens keep working; a probe closes it', async () => {
      const cached = emulator.issueToken('viewer');
      expect((await products(cached)).status).toBe(200);
      await openTheCircuit();

      const started = performance.now();
      const fast = await products(emulator.issueToken('editor'));
      expect(performance.now() - started).toBeLessThan(150);
      expectUnavailable(fast, '1');
      const login = await call(`${app.url}/auth/login`, {
        method: 'POST',
        form: { username: 'editor', password: PASSWORDS.editor },
      });
      expectUnavailable(login);
      const code = await call(`${app.url}/auth/login/code`, {
        method: 'POST',
        json: { code: emulator.issueCode(OAUTH_CLIENT.clientId, 'editor') },
      });
      expectUnavailable(code);
      expect(upstreamCalls(emulator, [])).toBe(0);

      // What needs no auth-service is still judged: 401, not 503.
      expectUnauthorized(await call(`${app.url}/products`), 'missing token');
      expectUnauthorized(
        await products(emulator.issueToken('editor', { ttlSeconds: -10 })),
        'token expired',
      );
      if (local) {
        const forged = `${emulator.issueToken('editor').slice(0, -2)}xx`;
        expectUnauthorized(await products(forged), 'invalid token');
      }

      // Meanwhile, the cache answers for tokens it knows.
      for (let i = 0; i < 3; i++) {
        const answer = await products(cached);
        expect(answer.status, show(answer)).toBe(200);
        expect(answer.body.username).toBe('viewer');
      }
      expect(upstreamCalls(emulator, [])).toBe(0);

      // Healed, and the pause over: one probe goes through and closes it.
      emulator.clearFaults();
      await sleep(RESET_AFTER_MS + 50);
      const probe = await products(emulator.issueToken('editor'));
      expect(probe.status, show(probe)).toBe(200);
      expect(emulator.requestCount('user')).toBe(1);
      for (const user of ['admin', 'root'] as const) {
        const answer = await products(emulator.issueToken(user));
        expect(answer.status, show(answer)).toBe(200);
      }
    });

    it('is not opened by refusals: they show the auth-service is up', async () => {
      for (let i = 0; i < 4; i++) {
        const revoked = emulator.issueToken('editor');
        emulator.revokeToken(revoked);
        expectUnauthorized(await products(revoked), 'invalid token');
        const wrong = await call(`${app.url}/auth/login`, {
          method: 'POST',
          form: { username: 'root', password: `wrong-${i}` },
        });
        expect(wrong.status, show(wrong)).toBe(401);
      }
      const answer = await products(emulator.issueToken('editor'));
      expect(answer.status, show(answer)).toBe(200);
    });

    if (!local) {
      // Last: it leaves the circuit open.
      it('a failed probe opens it again at once', async () => {
        await openTheCircuit();
        await sleep(RESET_AFTER_MS + 50);
        // Still failing: the probe is let through, and fails.
        expectUnavailable(await products(emulator.issueToken('editor')));
        expect(emulator.requestCount('user')).toBeGreaterThanOrEqual(1);
        emulator.resetCounters();
        expectUnavailable(await products(emulator.issueToken('editor')));
        expect(upstreamCalls(emulator, [])).toBe(0);
      });
    }
  });
});
