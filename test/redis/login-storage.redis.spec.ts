import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoundedThrottlerStorage } from '@apex/nest-auth';
import { RedisThrottlerStorage } from '../../lib/redis/redis-throttler.storage.js';
import { SharedRedis } from '../../lib/redis/shared-redis.js';
import { startRedis, type RunningRedis } from '../fixtures/redis-server.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the failed-login storage on Redis', () => {
  let redis: RunningRedis;
  let shared: SharedRedis;
  beforeAll(async () => {
    redis = await startRedis();
    shared = await SharedRedis.connect(redis.url, 'apex-auth:test:');
    await shared.ready(2_000);
  });
  afterAll(async () => {
    await shared?.close();
    await redis?.stop();
  });

  it('counts as the in-process storage does: a window, then a block that counts nothing', async () => {
    const replicaA = new RedisThrottlerStorage(shared, new BoundedThrottlerStorage());
    const replicaB = new RedisThrottlerStorage(shared, new BoundedThrottlerStorage());
    const local = new BoundedThrottlerStorage();
    const hit = (storage: { increment: BoundedThrottlerStorage['increment'] }) =>
      storage.increment('user:x', 400, 2, 600, 'login');
    const seen: [unknown, unknown][] = [];
    // Spread over two replicas, counted once: the third hit passes the limit of 2.
    for (const storage of [replicaA, replicaB, replicaA, replicaB]) {
      const shared = await hit(storage);
      const alone = await hit(local);
      seen.push([
        { totalHits: shared.totalHits, isBlocked: shared.isBlocked },
        { totalHits: alone.totalHits, isBlocked: alone.isBlocked },
      ]);
    }
    for (const [shared, alone] of seen) expect(shared).toEqual(alone);
    expect(seen.map(([shared]) => shared)).toEqual([
      { totalHits: 1, isBlocked: false },
      { totalHits: 2, isBlocked: false },
      { totalHits: 3, isBlocked: true },
      { totalHits: 3, isBlocked: true },
    ]);
    // Past the window and the block, counting starts over, on every replica.
    await pause(700);
    expect(await hit(replicaB)).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('while Redis cannot answer, counts in process; a block set then holds once it is back', async () => {
    const storage = new RedisThrottlerStorage(shared, new BoundedThrottlerStorage());
    await redis.stop();
    try {
      await storage.increment('user:y', 60_000, 1, 60_000, 'login');
      const blocked = await storage.increment('user:y', 60_000, 1, 60_000, 'login');
      expect(blocked.isBlocked).toBe(true);
    } finally {
      await redis.restart();
    }
    await shared.ready(5_000);
    // Redis came back empty; this replica's own count still says blocked.
    expect((await storage.increment('user:y', 60_000, 1, 60_000, 'login')).isBlocked).toBe(true);
  });
});
