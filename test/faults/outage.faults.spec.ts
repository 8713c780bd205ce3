import { createServer, type Server } from 'node:net';
import type { ApexAuthModuleOptions } from '@apex/nest-auth';
import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../fixtures/capturing-logger.js';
import { call, show, type Answer } from '../fixtures/http.js';
import { useShopEmulator } from '../fixtures/shop-suite.js';
import { PLATFORMS, type RunningApp } from '../fixtures/start-app.js';
import { MODES } from '../fixtures/verification-modes.js';
import { expectUnauthorized, expectUnavailable, sleep } from '../security/fixtures/security.js';

const TTL_MS = 300;
const STALE_LOG = /serving users already validated past their cache lifetime/;

describe.each(PLATFORMS)('an outage of the auth-service on %s', (platform) => {
  describe.each([MODES.remote, MODES.localHs256])('$name', (mode) => {
    let emulator: AuthServiceEmulator;
    const startShopApp = useShopEmulator(
      platform,
      mode.emulator,
      (started) => (emulator = started),
    );
    const start = (
      options: Partial<ApexAuthModuleOptions>,
      logger?: CapturingLogger,
    ): Promise<RunningApp> =>
      startShopApp(
        { syncPermissions: false, jwt: mode.jwt(emulator), timeoutMs: 300, ...options },
        logger === undefined ? {} : { logger },
      );
    const products = (app: RunningApp, token: string): Promise<Answer> =>
      call(`${app.url}/products`, { token });
    beforeEach(() => emulator.resetCounters());
    afterEach(() => emulator.clearFaults());

    it('serves users already validated past their cache lifetime while it is down, and logs it once', async () => {
      const logger = new CapturingLogger();
      const app = await start({ cache: { ttlMs: TTL_MS, staleIfErrorMs: 60_000 } }, logger);
      const viewer = emulator.issueToken('viewer');
      const editor = emulator.issueToken('editor');
      for (const token of [viewer, editor]) expect((await products(app, token)).status).toBe(200);
      emulator.fail({ kind: 'status', status: 503 });
      await sleep(TTL_MS + 100);
      for (let i = 0; i < 3; i++) {
        for (const [token, username] of [
          [viewer, 'viewer'],
          [editor, 'editor'],
        ]) {
          const answer = await products(app, token);
          expect(answer.status, show(answer)).toBe(200);
          expect(answer.body.username).toBe(username);
        }
      }
      expect(logger.apexAuth('warn').filter((line) => STALE_LOG.test(line))).toHaveLength(1);
      // A token never validated before gets no such grace.
      expectUnavailable(await products(app, emulator.issueToken('admin')));

      // Back: the next use asks again, and refreshes the entry.
      emulator.clearFaults();
      emulator.resetCounters();
      await sleep(600); // past the circuit's pause
      expect((await products(app, viewer)).status).toBe(200);
      expect(emulator.requestCount('user')).toBe(1);
    });

    it('refuses, not serves, a stale token the auth-service refuses once it answers again', async () => {
      const app = await start({ cache: { ttlMs: TTL_MS, staleIfErrorMs: 60_000 } });
      const token = emulator.issueToken('viewer');
      expect((await products(app, token)).status).toBe(200);
      emulator.revokeToken(token);
      await sleep(TTL_MS + 100);
      expectUnauthorized(await products(app, token), 'invalid token');
    });

    it('with staleIfErrorMs: 0, a user whose entry ran out gets 503', async () => {
      const app = await start({ cache: { ttlMs: TTL_MS, staleIfErrorMs: 0 } });
      const token = emulator.issueToken('viewer');
      expect((await products(app, token)).status).toBe(200);
      emulator.fail({ kind: 'status', status: 503 });
      await sleep(TTL_MS + 100);
      expectUnavailable(await products(app, token));
    });

    it('never serves a token past its exp, whatever the grace', async () => {
      const app = await start({ cache: { ttlMs: TTL_MS, staleIfErrorMs: 60_000 } });
      const now = Math.floor(Date.now() / 1000);
      const token = emulator.signToken({ sub: 'viewer', iat: now, exp: now + 2, jti: 'short' });
      expect((await products(app, token)).status).toBe(200);
      emulator.fail({ kind: 'status', status: 503 });
      while (Date.now() < (now + 2) * 1000 + 50) await sleep(100);
      expectUnauthorized(await products(app, token), 'token expired');
    });
  });
});

describe.each(PLATFORMS)('an auth-service down for good on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  let dead: Server;
  let deadUrl = '';
  let connections = 0;
  const startShopApp = useShopEmulator(platform, {}, (started) => (emulator = started));
  beforeAll(async () => {
    // Every connection is accepted and reset at once: a service whose process is gone.
    dead = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const address = dead.address();
    deadUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(() => new Promise<void>((resolve) => dead.close(() => resolve())));

  it('trips the circuit within its first failures: then 503 at once, without trying to connect', async () => {
    const app = await startShopApp({
      baseUrl: deadUrl,
      syncPermissions: false,
      jwt: { secret: emulator.hmacSecret! },
    });
    const requests = (from: string) =>
      call(`${app.url}/products`, { token: emulator.issueToken('editor'), from });
    // Callers from a dozen addresses meet it, a few times each.
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 12; i++) expectUnavailable(await requests(`127.0.0.${10 + i}`));
    }
    const tried = connections;
    for (let i = 0; i < 40; i++) {
      const answer = await requests(`127.0.0.${30 + (i % 20)}`);
      expectUnavailable(answer);
    }
    // Open for everyone: at most a probe or two went out meanwhile.
    expect(connections - tried).toBeLessThanOrEqual(2);
  });
});
