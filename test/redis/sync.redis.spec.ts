import { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LoopbackServer } from '../fixtures/loopback.js';
import { startProxy } from '../fixtures/proxy.js';
import { startRedis, type RunningRedis } from '../fixtures/redis-server.js';
import { shopSeed } from '../fixtures/seed.js';
import { shopAuth, startApp, type RunningApp } from '../fixtures/start-app.js';

/** A write to the schema, as one replica sent it. */
interface Write {
  replica: number;
  what: string;
}

describe('three replicas syncing the schema at once', () => {
  let redis: RunningRedis;
  let emulator: AuthServiceEmulator;
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  afterAll(() => redis?.stop());

  /** Starts three replicas together, each behind a proxy that records its writes in order. */
  async function startThree(shared: boolean): Promise<Write[]> {
    emulator = await AuthServiceEmulator.start({ seed: shopSeed() });
    cleanup.push(() => emulator.stop());
    // Reads show the state of 300 ms before: without a lock, every replica sees an empty schema.
    emulator.setLatency({ permissions: 300, createPermission: 50 });
    const writes: Write[] = [];
    const proxies: LoopbackServer[] = await Promise.all(
      [0, 1, 2].map((replica) =>
        startProxy(emulator.url, {
          intercept: ({ method, path }) => {
            if (method !== 'GET' && path.includes('/permissions')) {
              writes.push({ replica, what: `${method} ${path}` });
            }
            return undefined;
          },
        }),
      ),
    );
    cleanup.push(() => Promise.all(proxies.map((proxy) => proxy.stop())).then(() => undefined));
    const apps: RunningApp[] = await Promise.all(
      proxies.map((proxy) =>
        startApp('express', shopAuth(proxy.url, shared ? { redis: redis.url } : {})),
      ),
    );
    cleanup.push(() => Promise.all(apps.map((app) => app.close())).then(() => undefined));
    return writes;
  }

  it('with Redis: one replica writes, the others find the work done', async () => {
    const writes = await startThree(true);
    expect(writes.length).toBe(4);
    expect(new Set(writes.map(({ replica }) => replica)).size).toBe(1);
    expect(emulator.permissionsOf('shop').map(({ name }) => name)).toEqual([
      'canView',
      'canEdit',
      'region',
      'maxDiscount',
    ]);
  });

  it('without it (the control): their writes interleave, and converge anyway', async () => {
    const writes = await startThree(false);
    expect(new Set(writes.map(({ replica }) => replica)).size).toBeGreaterThan(1);
    expect(writes.length).toBeGreaterThan(4);
    expect(emulator.permissionsOf('shop')).toHaveLength(4);
  });
});
