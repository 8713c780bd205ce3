import { BoundedThrottlerStorage } from '@apex/nest-auth';
import { describe, expect, it } from 'vitest';

describe('BoundedThrottlerStorage', () => {
  it('counts hits in a fixed window and blocks past the limit for the block duration', async () => {
    let now = 0;
    const storage = new BoundedThrottlerStorage(10, () => now);
    const hit = () => storage.increment('k', 1000, 2, 5000, 'n');
    expect(await hit()).toEqual({
      totalHits: 1,
      timeToExpire: 1,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
    await hit();
    expect(await hit()).toMatchObject({ totalHits: 3, isBlocked: true, timeToBlockExpire: 5 });
    now = 2000; // the window is over, the block is not: no counting while blocked
    expect(await hit()).toMatchObject({ totalHits: 3, isBlocked: true, timeToBlockExpire: 3 });
    now = 5000;
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('keeps throttler names and keys apart', async () => {
    const storage = new BoundedThrottlerStorage(10, () => 0);
    await storage.increment('k', 1000, 0, 1000, 'a');
    expect(await storage.increment('k', 1000, 5, 1000, 'b')).toMatchObject({
      totalHits: 1,
      isBlocked: false,
    });
    expect(await storage.increment('other', 1000, 5, 1000, 'a')).toMatchObject({
      totalHits: 1,
      isBlocked: false,
    });
  });

  it('holds a bounded number of counters: expired ones go first, then the least recently touched', async () => {
    let now = 0;
    const storage = new BoundedThrottlerStorage(3, () => now);
    await storage.increment('blocked', 1000, 0, 60_000, 'n'); // blocked for a minute
    await storage.increment('short', 10, 5, 10, 'n');
    await storage.increment('old', 1000, 5, 1000, 'n');
    now = 20; // 'short' has expired
    await storage.increment('new', 1000, 5, 1000, 'n');
    expect(storage.size).toBe(3);
    expect(await storage.increment('blocked', 1000, 100, 60_000, 'n')).toMatchObject({
      isBlocked: true,
    });
    for (let i = 0; i < 100; i++) await storage.increment(`flood-${i}`, 1000, 5, 1000, 'n');
    expect(storage.size).toBe(3);
  });
});
