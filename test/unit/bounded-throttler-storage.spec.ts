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

  it('holds a bounded number of counters: expired ones go first, then running counters, blocks last', async () => {
    let now = 0;
    const storage = new BoundedThrottlerStorage(10, () => now);
    const blocked = ['blocked-1', 'blocked-2', 'blocked-3'];
    // Blocked for a minute, and touched first: the least recently used of all.
    for (const key of blocked) await storage.increment(key, 1000, 0, 60_000, 'n');
    await storage.increment('short', 10, 5, 10, 'n');
    now = 20; // 'short' has expired
    for (let i = 0; i < 6; i++) await storage.increment(`running-${i}`, 1000, 5, 1000, 'n');
    expect(storage.size).toBe(10);

    // One more: the expired counter goes first, then the oldest running ones, never a block.
    await storage.increment('new', 1000, 5, 1000, 'n');
    expect(storage.size).toBeLessThanOrEqual(10);
    expect(await storage.increment('short', 10, 5, 10, 'n')).toMatchObject({ totalHits: 1 });

    // A flood of new keys lifts no lockout.
    for (let i = 0; i < 1000; i++) await storage.increment(`flood-${i}`, 1000, 5, 1000, 'n');
    expect(storage.size).toBeLessThanOrEqual(10);
    for (const key of blocked) {
      expect(await storage.increment(key, 1000, 100, 60_000, 'n'), key).toMatchObject({
        isBlocked: true,
      });
    }
  });

  it('gives up blocks, least recently touched first, only when nothing else is left', async () => {
    const storage = new BoundedThrottlerStorage(4, () => 0);
    for (let i = 0; i < 6; i++) await storage.increment(`blocked-${i}`, 1000, 0, 60_000, 'n');
    expect(storage.size).toBeLessThanOrEqual(4);
    expect(await storage.increment('blocked-5', 1000, 100, 60_000, 'n')).toMatchObject({
      isBlocked: true,
    });
    expect(await storage.increment('blocked-0', 1000, 100, 60_000, 'n')).toMatchObject({
      isBlocked: false,
    });
  });
});
