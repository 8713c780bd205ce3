import type { ApexAuthModuleOptions } from '@apex/nest-auth';
import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../fixtures/capturing-logger.js';
import { call, type Answer } from '../fixtures/http.js';
import { useShopEmulator } from '../fixtures/shop-suite.js';
import { PLATFORMS, type RunningApp } from '../fixtures/start-app.js';
import { craftToken, goodClaims, segment, sleep } from '../security/fixtures/security.js';

describe.each(PLATFORMS)('what operators see on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  const startShopApp = useShopEmulator(platform, {}, (started) => (emulator = started));
  const start = async (
    options: Partial<ApexAuthModuleOptions>,
  ): Promise<{ app: RunningApp; logger: CapturingLogger }> => {
    const logger = new CapturingLogger();
    const app = await startShopApp(
      { syncPermissions: false, timeoutMs: 300, ...options },
      { logger },
    );
    return { app, logger };
  };
  const products = (app: RunningApp, token: string, from?: string): Promise<Answer> =>
    call(`${app.url}/products`, { token, from });
  beforeEach(() => emulator.resetCounters());
  afterEach(() => emulator.clearFaults());

  it('upstream failures: one warn line per kind, naming the operation, the host and the reason', async () => {
    const { app, logger } = await start({ circuitBreaker: false });
    emulator.fail({ kind: 'status', status: 502 }, { endpoints: ['user'] });
    for (let i = 0; i < 10; i++)
      expect((await products(app, emulator.issueToken('editor'))).status).toBe(503);
    emulator.clearFaults();
    emulator.fail({ kind: 'hang' }, { endpoints: ['user'] });
    for (let i = 0; i < 3; i++)
      expect((await products(app, emulator.issueToken('editor'))).status).toBe(503);
    emulator.clearFaults();
    emulator.fail({ kind: 'status', status: 200, body: '{"id": 42}' }, { endpoints: ['user'] });
    for (let i = 0; i < 3; i++)
      expect((await products(app, emulator.issueToken('editor'))).status).toBe(503);

    const warnings = logger.apexAuth('warn');
    const origin = emulator.url;
    expect(
      warnings.filter((line) => line === `auth-service ${origin}: user failed (status 502)`),
    ).toHaveLength(1);
    expect(
      warnings.filter((line) => line === `auth-service ${origin}: user failed (timeout)`),
    ).toHaveLength(1);
    expect(
      warnings.filter((line) =>
        line.startsWith(`auth-service ${origin}: user failed: sent an invalid payload (user): `),
      ),
    ).toHaveLength(1);
  });

  it('the circuit opening and closing again', async () => {
    const { app, logger } = await start({
      circuitBreaker: { minimumCalls: 4, halfOpenAfterMs: 300, maxHalfOpenAfterMs: 300 },
    });
    emulator.fail({ kind: 'status', status: 503 }, { endpoints: ['user'] });
    for (let i = 0; i < 6; i++)
      await products(app, emulator.issueToken('editor'), `127.0.0.${20 + i}`);
    expect(logger.apexAuth('warn')).toContain(
      `auth-service ${emulator.url}: circuit of lookup calls opened: failing fast for 1 s, then probing`,
    );
    emulator.clearFaults();
    await sleep(350);
    expect((await products(app, emulator.issueToken('editor'), '127.0.0.30')).status).toBe(200);
    expect(logger.apexAuth('warn')).toContain(
      `auth-service ${emulator.url}: circuit of lookup calls closed again`,
    );
  });

  it('local refusals at debug, with the check that failed', async () => {
    const { app, logger } = await start({ jwt: { secret: emulator.hmacSecret! } });
    const refusals: [string, string][] = [
      [emulator.issueToken('editor', { ttlSeconds: -5 }), 'expired'],
      [`${emulator.issueToken('editor').slice(0, -3)}abc`, 'signature'],
      [emulator.issueToken('editor', { claims: { aud: 'billing' } }), 'audience'],
      [`${segment({ alg: 'none' })}.${segment(goodClaims('editor'))}.c2ln`, 'alg none'],
      [
        craftToken({ alg: 'HS512' }, goodClaims('editor'), emulator.hmacSecret!, 512),
        'algorithm not allowed',
      ],
    ];
    for (const [token] of refusals) expect((await products(app, token)).status).toBe(401);
    const debug = logger.apexAuth('debug');
    for (const [, detail] of refusals) expect(debug).toContain(`Token refused: ${detail}`);
  });

  it('remote mode: what is refused without asking is logged at debug too', async () => {
    const { app, logger } = await start({});
    expect((await products(app, emulator.issueToken('editor', { ttlSeconds: -5 }))).status).toBe(
      401,
    );
    expect(
      (await products(app, emulator.issueToken('editor', { claims: { aud: 'billing' } }))).status,
    ).toBe(401);
    expect(logger.apexAuth('debug')).toEqual(
      expect.arrayContaining(['Token refused: expired', 'Token refused: audience']),
    );
  });

  it('a key that does not match the auth-service: one warning after the first 20 tokens, and only one', async () => {
    const { app, logger } = await start({
      jwt: { secret: 'not-the-auth-services-secret-0123456789' },
    });
    const mismatch = (line: string) => line.includes('probably does not match');
    for (let i = 0; i < 19; i++)
      expect((await products(app, emulator.issueToken('editor'))).status).toBe(401);
    expect(logger.apexAuth('warn').filter(mismatch)).toHaveLength(0);
    for (let i = 0; i < 6; i++)
      expect((await products(app, emulator.issueToken('editor'))).status).toBe(401);
    expect(logger.apexAuth('warn').filter(mismatch)).toEqual([
      "The signatures of all of the first 20 tokens verified since startup were wrong: jwt.secret probably does not match the auth-service's signing key",
    ]);
    expect(emulator.requestCount('user')).toBe(0);
  });

  it('no such warning when the key fits', async () => {
    const { app, logger } = await start({ jwt: { secret: emulator.hmacSecret! } });
    for (let i = 0; i < 20; i++)
      await products(app, `${emulator.issueToken('editor').slice(0, -3)}abc`);
    await products(app, emulator.issueToken('editor'));
    // 20 bad signatures first: that alone is the pattern of a wrong key, so it warns...
    expect(logger.apexAuth('warn').some((line) => line.includes('probably does not match'))).toBe(
      true,
    );
    const { app: fitting, logger: quiet } = await start({ jwt: { secret: emulator.hmacSecret! } });
    await products(fitting, emulator.issueToken('editor'));
    for (let i = 0; i < 25; i++)
      await products(fitting, `${emulator.issueToken('editor').slice(0, -3)}abc`);
    // ...but one good signature among the first 20 rules it out for good.
    expect(quiet.apexAuth('warn').some((line) => line.includes('probably does not match'))).toBe(
      false,
    );
  });
});
