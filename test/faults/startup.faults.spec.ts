import { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../fixtures/capturing-logger.js';
import { call, show } from '../fixtures/http.js';
import { shopSeed } from '../fixtures/seed.js';
import { PLATFORMS, shopAuth, startApp, type RunningApp } from '../fixtures/start-app.js';
import { deadPort, eventually, expectUnavailable } from '../security/fixtures/security.js';

const RETRY_FOR_MS = 500;
const TIMEOUT_MS = 300;
/** Time Nest needs to start an app here, on top of what the module waits for. */
const MARGIN_MS = 1000;

describe.each(PLATFORMS)('startup against an unhealthy auth-service on %s', (platform) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** Starts the app, timing it. */
  async function timedStart(
    ...args: Parameters<typeof startApp>
  ): Promise<{ app: RunningApp; elapsed: number }> {
    const started = performance.now();
    const app = await startApp(...args);
    const elapsed = performance.now() - started;
    cleanup.push(() => app.close());
    return { app, elapsed };
  }

  it("sync with onError 'warn' and a dead auth-service: starts in time, then authenticates once it is up", async () => {
    const port = await deadPort();
    const logger = new CapturingLogger();
    const { app, elapsed } = await timedStart(
      platform,
      shopAuth(`http://127.0.0.1:${port}`, {
        syncPermissions: { onError: 'warn', retryForMs: RETRY_FOR_MS },
        timeoutMs: TIMEOUT_MS,
      }),
      { logger },
    );
    expect(elapsed).toBeLessThan(RETRY_FOR_MS + TIMEOUT_MS + MARGIN_MS);
    expect(logger.apexAuth('error').join('\n')).toMatch(
      /Permission sync of "shop" failed: auth-service unavailable .*serving requests/,
    );

    // The auth-service comes up where it was expected.
    const emulator = await AuthServiceEmulator.start({ port, seed: shopSeed() });
    cleanup.push(() => emulator.stop());
    const answer = await call(`${app.url}/products`, { token: emulator.issueToken('editor') });
    expect(answer.status, show(answer)).toBe(200);
    expect(answer.body.username).toBe('editor');
  });

  it("sync with onError 'warn' and a hanging auth-service: starts in time, then authenticates once it answers", async () => {
    const emulator = await AuthServiceEmulator.start({ seed: shopSeed() });
    cleanup.push(() => emulator.stop());
    emulator.fail({ kind: 'hang' });
    const { app, elapsed } = await timedStart(
      platform,
      shopAuth(emulator.url, {
        syncPermissions: { onError: 'warn', retryForMs: RETRY_FOR_MS },
        timeoutMs: TIMEOUT_MS,
        circuitBreaker: false,
      }),
    );
    expect(elapsed).toBeLessThan(RETRY_FOR_MS + TIMEOUT_MS + MARGIN_MS);
    const token = emulator.issueToken('viewer');
    expectUnavailable(await call(`${app.url}/products`, { token }));
    emulator.clearFaults();
    const answer = await call(`${app.url}/products`, { token });
    expect(answer.status, show(answer)).toBe(200);
  });

  it("sync with onError 'fail' and a hanging auth-service: fails to start, in time", async () => {
    const emulator = await AuthServiceEmulator.start({ seed: shopSeed() });
    cleanup.push(() => emulator.stop());
    emulator.fail({ kind: 'hang' });
    const started = performance.now();
    await expect(
      startApp(
        platform,
        shopAuth(emulator.url, {
          syncPermissions: { onError: 'fail', retryForMs: RETRY_FOR_MS },
          timeoutMs: TIMEOUT_MS,
        }),
      ),
    ).rejects.toThrow(/Permission sync of "shop" failed: auth-service unavailable/);
    expect(performance.now() - started).toBeLessThan(RETRY_FOR_MS + TIMEOUT_MS + MARGIN_MS);
  });

  it('a hanging JWKS at startup: starts in time, answers 503 until the JWKS answers, then 200', async () => {
    const emulator = await AuthServiceEmulator.start({
      seed: shopSeed(),
      signing: { algorithm: 'RS256' },
    });
    cleanup.push(() => emulator.stop());
    emulator.fail({ kind: 'hang' }, { endpoints: ['jwks'] });
    const logger = new CapturingLogger();
    const { app, elapsed } = await timedStart(
      platform,
      shopAuth(emulator.url, {
        syncPermissions: false,
        timeoutMs: TIMEOUT_MS,
        jwt: { jwksUri: emulator.jwksUri },
      }),
      { logger },
    );
    expect(elapsed).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    expect(logger.apexAuth('warn').join('\n')).toMatch(/JWKS not loaded at startup/);
    const token = emulator.issueToken('editor');
    for (let i = 0; i < 3; i++) {
      expectUnavailable(await call(`${app.url}/products`, { token }));
    }
    expect(emulator.requestCount('user')).toBe(0);

    emulator.clearFaults();
    await eventually(async () => (await call(`${app.url}/products`, { token })).status === 200, {
      timeoutMs: 3000,
      intervalMs: 100,
    });
    // Retried on demand, but not once per request.
    expect(emulator.requestCount('jwks')).toBeLessThanOrEqual(5);
  });

  it('a JWKS nobody listens for at startup: starts, answers 503, then 200 once it is up', async () => {
    const port = await deadPort();
    const { app, elapsed } = await timedStart(
      platform,
      shopAuth(`http://127.0.0.1:${port}`, {
        syncPermissions: false,
        timeoutMs: TIMEOUT_MS,
        jwt: { jwksUri: `http://127.0.0.1:${port}/.well-known/jwks.json` },
      }),
    );
    expect(elapsed).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    const emulator = await AuthServiceEmulator.start({
      port,
      seed: shopSeed(),
      signing: { algorithm: 'RS256' },
    });
    cleanup.push(() => emulator.stop());
    const token = emulator.issueToken('editor');
    await eventually(
      async () => {
        const answer = await call(`${app.url}/products`, { token });
        // Never a 401 meanwhile: the token is not at fault.
        expect([200, 503], show(answer)).toContain(answer.status);
        return answer.status === 200;
      },
      { timeoutMs: 3000, intervalMs: 100 },
    );
  });
});
