import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../fixtures/http.js';
import type { LoopbackServer } from '../fixtures/loopback.js';
import { startProxy } from '../fixtures/proxy.js';
import { shopSeed } from '../fixtures/seed.js';
import { useShopEmulator } from '../fixtures/shop-suite.js';
import { PLATFORMS, type RunningApp } from '../fixtures/start-app.js';
import { median, sleep } from './fixtures/security.js';

const HASHING_MS = 450;
const TRIES = 30;
const KNOWN = new Set((shopSeed().users ?? []).map((user) => user.username));

describe.each(PLATFORMS)('login refusals and timing on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  let slowForKnownUsers: LoopbackServer;
  let app: RunningApp;
  const startShopApp = useShopEmulator(platform, {}, (started) => (emulator = started));
  beforeAll(async () => {
    // An auth-service that answers an unknown user at once and hashes 450 ms for a known one.
    slowForKnownUsers = await startProxy(emulator.url, {
      intercept: async (request) => {
        if (request.method !== 'POST' || request.path !== '/auth/login') return undefined;
        const username = new URLSearchParams(request.body).get('username') ?? '';
        if (!KNOWN.has(username)) {
          return { status: 401, body: '{"detail":"Incorrect username or password"}' };
        }
        await sleep(HASHING_MS);
        return undefined;
      },
    });
    app = await startShopApp({
      baseUrl: slowForKnownUsers.url,
      syncPermissions: false,
      login: { limits: false },
    });
  });
  afterAll(() => slowForKnownUsers.stop());

  /** How long a refused login takes, from the caller's side. */
  const timedRefusal = async (username: string): Promise<number> => {
    const started = performance.now();
    const answer = await call(`${app.url}/auth/login`, {
      method: 'POST',
      form: { username, password: 'not-the-password' },
    });
    expect(answer.status).toBe(401);
    return performance.now() - started;
  };

  it('do not tell an unknown username from a wrong password, although the auth-service does', async () => {
    // Warm up both paths; the first known user's refusal teaches the module the hashing time.
    await timedRefusal('editor');
    await timedRefusal('nobody-warm-up');
    const wrongPassword: number[] = [];
    const unknownUser: number[] = [];
    // In rounds of ten at once, both kinds interleaved, so that load hits both alike.
    for (let round = 0; round < TRIES / 5; round++) {
      const timings = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          i % 2 === 0 ? timedRefusal('editor') : timedRefusal(`nobody-${round}-${i}`),
        ),
      );
      timings.forEach((ms, i) => (i % 2 === 0 ? wrongPassword : unknownUser).push(ms));
    }
    const [a, b] = [median(wrongPassword), median(unknownUser)];
    expect(wrongPassword).toHaveLength(TRIES);
    expect(Math.abs(a - b), `medians ${a.toFixed(1)} vs ${b.toFixed(1)} ms`).toBeLessThan(20);
    // Every refusal waited at least the floor (login.minFailureMs, default 250).
    expect(Math.min(...wrongPassword, ...unknownUser)).toBeGreaterThanOrEqual(249);
  });
});
