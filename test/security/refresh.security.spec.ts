import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../fixtures/capturing-logger.js';
import { call, show } from '../fixtures/http.js';
import { PASSWORDS } from '../fixtures/seed.js';
import { useShopApp } from '../fixtures/shop-suite.js';
import { PLATFORMS, type RunningApp } from '../fixtures/start-app.js';

/**
 * Refresh tokens are credentials: whatever becomes of a refresh, none appears in an
 * answer other than the token response, nor in any log line at any level (the file's
 * leak sweep searches for every token the emulator issued, refresh tokens included).
 */
describe.each(PLATFORMS)('refresh tokens stay secret on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  let app: RunningApp;
  const logger = new CapturingLogger();
  useShopApp(
    platform,
    {
      emulator: { refreshTokens: true },
      auth: () => ({ syncPermissions: false, timeoutMs: 500, circuitBreaker: false }),
      app: { logger },
    },
    (shop) => ({ emulator, app } = shop),
  );
  afterEach(() => emulator.clearFaults());
  const refreshTokenOf = async (): Promise<string> => {
    const login = await call(`${app.url}/auth/login`, {
      method: 'POST',
      json: { username: 'viewer', password: PASSWORDS.viewer },
    });
    expect(login.status, show(login)).toBe(200);
    return login.body.refresh_token as string;
  };
  const refresh = (token: string) =>
    call(`${app.url}/auth/refresh`, { method: 'POST', form: { refresh_token: token } });

  it('a refresh that succeeds, is reused, fails upstream, times out or is unsupported', async () => {
    const token = await refreshTokenOf();
    expect((await refresh(token)).status).toBe(200);
    expect((await refresh(token)).status).toBe(401);

    const failing = await refreshTokenOf();
    emulator.fail({ kind: 'status', status: 500 }, { endpoints: ['refresh'], times: 1 });
    expect((await refresh(failing)).status).toBe(503);
    emulator.fail({ kind: 'hang' }, { endpoints: ['refresh'], times: 1 });
    expect((await refresh(failing)).status).toBe(503);
    emulator.fail({ kind: 'reset' }, { endpoints: ['refresh'], times: 1 });
    expect((await refresh(failing)).status).toBe(503);
    emulator.fail(
      {
        kind: 'status',
        status: 422,
        body: JSON.stringify({ detail: [{ loc: ['body'], msg: failing }] }),
      },
      { endpoints: ['refresh'], times: 1 },
    );
    const unsupported = await refresh(failing);
    expect(unsupported.status, show(unsupported)).toBe(501);

    // The upstream failures were logged, by kind, without the token.
    const warnings = logger.apexAuth('warn').join('\n');
    expect(warnings).toContain('refresh');
    expect(warnings).not.toContain(failing);
  });
});
