import { Redis } from 'ioredis';
import { ApexAuthModule, ApexAuthOptionsError } from '@apex/nest-auth';
import { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../fixtures/capturing-logger.js';
import { call, show } from '../fixtures/http.js';
import { startRedis, type RunningRedis } from '../fixtures/redis-server.js';
import { shopSeed } from '../fixtures/seed.js';
import { shopAuth, shopOptions, startApp, type RunningApp } from '../fixtures/start-app.js';

const PASSWORD = 'the-redis-password-9';

describe('Redis failing', () => {
  let redis: RunningRedis;
  let emulator: AuthServiceEmulator;
  let apps: RunningApp[] = [];

  beforeAll(async () => {
    redis = await startRedis({ password: PASSWORD });
    emulator = await AuthServiceEmulator.start({ seed: shopSeed() });
  });
  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
    emulator.clearFaults();
    emulator.resetCounters();
    await redis.flush();
  });
  afterAll(async () => {
    await emulator?.stop();
    await redis?.stop();
  });

  async function replica(logger = new CapturingLogger()) {
    const app = await startApp('express', shopAuth(emulator.url, { redis: redis.url }), {
      logger,
    });
    apps.push(app);
    return { app, logger };
  }

  it('stopped mid-run: valid tokens 200, bad ones 401, 503 only when the auth-service fails; back, sharing resumes', async () => {
    // One logger for both: Nest's loggers outside a request log through the last app's.
    const { app: a, logger } = await replica();
    const { app: b } = await replica(logger);
    const cached = emulator.issueToken('editor');
    expect((await call(`${a.url}/products`, { token: cached })).status).toBe(200);

    await redis.stop();
    // Already validated: served in process. New: looked up at the auth-service, by each replica.
    expect((await call(`${a.url}/products`, { token: cached })).status).toBe(200);
    const fresh = emulator.issueToken('viewer');
    const answers = [
      await call(`${a.url}/products`, { token: fresh }),
      await call(`${b.url}/products`, { token: fresh }),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect((await call(`${b.url}/products`, { token: 'a.b.c' })).status).toBe(401);
    const revoked = emulator.issueToken('viewer', { ttlSeconds: 600 });
    emulator.revokeToken(revoked);
    expect((await call(`${a.url}/products`, { token: revoked })).status).toBe(401);
    // Logins still work, counted in process.
    const wrong = await call(`${a.url}/auth/login`, {
      method: 'POST',
      json: { username: 'viewer', password: 'wrong' },
    });
    expect(wrong.status, show(wrong)).toBe(401);
    emulator.fail({ kind: 'status', status: 500 }, { endpoints: ['user'] });
    const down = await call(`${a.url}/products`, { token: emulator.issueToken('admin') });
    expect(down.status, show(down)).toBe(503);
    emulator.clearFaults();

    // One line per outage and replica.
    const warnings = logger.apexAuth('warn').filter((line) => line.startsWith('Redis at'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^Redis at 127\.0\.0\.1:\d+ unavailable \(/);

    await redis.restart();
    // Sharing resumes by itself within seconds: a token validated on A is served by B.
    await until(() => logger.apexAuth('log').some((line) => line.includes('is back')), 5_000);
    emulator.resetCounters();
    const after = emulator.issueToken('editor');
    expect((await call(`${a.url}/products`, { token: after })).status).toBe(200);
    await until(async () => {
      const answer = await call(`${b.url}/products`, { token: after });
      return answer.status === 200;
    }, 5_000);
    expect(emulator.requestCount('user')).toBe(1);
    expect(logger.lines.map((line) => line.message).join('\n')).not.toContain(PASSWORD);
  }, 30_000);

  it('down at startup: the app starts, says so, and serves from the auth-service', async () => {
    await redis.stop();
    try {
      const { app, logger } = await replica();
      const token = emulator.issueToken('viewer');
      expect((await call(`${app.url}/products`, { token })).status).toBe(200);
      expect((await call(`${app.url}/products`, { token })).status).toBe(200);
      expect(emulator.requestCount('user')).toBe(1);
      expect(logger.apexAuth('warn').some((line) => line.startsWith('Redis at'))).toBe(true);
      expect(logger.lines.map((line) => line.message).join('\n')).not.toContain(PASSWORD);
    } finally {
      await redis.restart();
    }
  });

  it('slow: a request is answered while Redis is busy, without waiting for it', async () => {
    const { app } = await replica();
    const admin = new Redis(redis.url);
    try {
      // Redis answers nothing for 2 s.
      let slept = false;
      const sleeping = admin.call('DEBUG', 'SLEEP', '2').then(() => (slept = true));
      await new Promise((resolve) => setTimeout(resolve, 50));
      const answer = await call(`${app.url}/products`, { token: emulator.issueToken('editor') });
      expect(answer.status, show(answer)).toBe(200);
      expect(slept).toBe(false);
      await sleeping;
    } finally {
      await admin.quit();
    }
  });

  it("uses the app's own ioredis client, and leaves it open when the app closes", async () => {
    const client = new Redis(redis.url);
    try {
      const app = await startApp('express', shopAuth(emulator.url, { redis: client }));
      const token = emulator.issueToken('viewer');
      expect((await call(`${app.url}/products`, { token })).status).toBe(200);
      await app.close();
      expect(client.status).toBe('ready');
      expect((await client.keys('apex-auth:shop:user:*')).length).toBe(1);
    } finally {
      await client.quit();
    }
  });

  it('refuses a redis option that is no Redis URL, without quoting it', async () => {
    for (const redisOption of ['http://u:secret-1@127.0.0.1:6379', 'redis//nope', 42, []]) {
      const failure = await startApp(
        'express',
        ApexAuthModule.forRoot({
          ...shopOptions(emulator.url),
          redis: redisOption as never,
        }),
      ).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ApexAuthOptionsError);
      expect((failure as Error).message).toBe(
        'redis: must be a redis:// or rediss:// URL, ioredis options or an ioredis client',
      );
    }
  });
});

async function until(condition: () => boolean | Promise<boolean>, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
