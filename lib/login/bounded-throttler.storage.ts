import type { ThrottlerStorage } from '@nestjs/throttler';

interface Counter {
  hits: number;
  windowEndsAt: number;
  blockedUntil: number;
}

/** Counters kept at most; a flood of new usernames or addresses cannot grow memory past this. */
export const DEFAULT_MAX_COUNTERS = 100_000;
/** Once full, it is compacted to this share of the bound, so that compaction is rare. */
const COMPACT_TO = 0.9;

/**
 * The default storage of failed-login counters: in memory, per process,
 * fixed windows. Unlike `@nestjs/throttler`'s `ThrottlerStorageService` it
 * keeps no timer per hit and holds a bounded number of counters, so an
 * attacker trying many usernames cannot make it grow without end. When full it
 * lets go of expired counters first, then of running counters (least recently
 * touched first), and of active blocks last: a flood of new usernames or
 * addresses does not lift a lockout.
 */
export class BoundedThrottlerStorage implements ThrottlerStorage {
  private readonly counters = new Map<string, Counter>();

  constructor(
    private readonly maxCounters = DEFAULT_MAX_COUNTERS,
    private readonly now: () => number = Date.now,
  ) {}

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<{
    totalHits: number;
    timeToExpire: number;
    isBlocked: boolean;
    timeToBlockExpire: number;
  }> {
    const now = this.now();
    const id = `${throttlerName}:${key}`;
    let counter = this.counters.get(id);
    this.counters.delete(id);
    // While blocked nothing is counted; after the window, counting starts over.
    if (counter === undefined || (counter.blockedUntil <= now && counter.windowEndsAt <= now)) {
      counter = { hits: 0, windowEndsAt: now + ttl, blockedUntil: 0 };
    }
    if (counter.blockedUntil <= now) {
      counter.hits++;
      if (counter.hits > limit) counter.blockedUntil = now + blockDuration;
    }
    this.counters.set(id, counter);
    if (this.counters.size > this.maxCounters) this.compact(now);
    const isBlocked = counter.blockedUntil > now;
    return Promise.resolve({
      totalHits: counter.hits,
      timeToExpire: Math.ceil((counter.windowEndsAt - now) / 1000),
      isBlocked,
      timeToBlockExpire: isBlocked ? Math.ceil((counter.blockedUntil - now) / 1000) : 0,
    });
  }

  /** How many counters are held. */
  get size(): number {
    return this.counters.size;
  }

  private compact(now: number): void {
    const target = Math.floor(this.maxCounters * COMPACT_TO);
    const expired = (c: Counter): boolean => c.windowEndsAt <= now && c.blockedUntil <= now;
    const running = (c: Counter): boolean => c.blockedUntil <= now;
    // Map order is least recently touched first.
    for (const lettingGo of [expired, running, () => true]) {
      for (const [id, counter] of this.counters) {
        if (this.counters.size <= target) return;
        if (lettingGo(counter)) this.counters.delete(id);
      }
    }
  }
}
