import type { ThrottlerStorage } from '@nestjs/throttler';
import type { SharedRedis } from './shared-redis.js';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * One hit, atomically, with the semantics of the in-process storage
 * (`BoundedThrottlerStorage`): a fixed window from the first hit; past the
 * limit, blocked for the block duration, during which nothing is counted; after
 * both, counting starts over. Times are Redis's own clock, so that replicas
 * whose clocks differ count alike. Returns hits, ms left in the window, ms
 * left blocked.
 */
const INCREMENT = `
local ttl, limit, block = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local saved = redis.call('HMGET', KEYS[1], 'hits', 'windowEndsAt', 'blockedUntil')
local hits, windowEndsAt, blockedUntil = tonumber(saved[1]), tonumber(saved[2]), tonumber(saved[3])
if hits == nil or (blockedUntil <= now and windowEndsAt <= now) then
  hits, windowEndsAt, blockedUntil = 0, now + ttl, 0
end
if blockedUntil <= now then
  hits = hits + 1
  if hits > limit then blockedUntil = now + block end
end
redis.call('HSET', KEYS[1], 'hits', hits, 'windowEndsAt', windowEndsAt, 'blockedUntil', blockedUntil)
redis.call('PEXPIRE', KEYS[1], math.max(1, math.max(windowEndsAt, blockedUntil) - now))
return {hits, windowEndsAt - now, blockedUntil - now}
`;

/**
 * The failed-login counters on Redis, shared by the replicas (a
 * `@nestjs/throttler` storage, updated atomically by one script). Every hit is
 * counted in the in-process `fallback` as well, and the stricter answer wins:
 * while Redis cannot answer, limits hold per replica, and a block set then is
 * not lifted when Redis comes back.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  constructor(
    private readonly redis: SharedRedis,
    private readonly fallback: ThrottlerStorage,
  ) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    // Counted here too: a block set while Redis was away still holds once it is back.
    const [answer, local] = await Promise.all([
      this.redis.run((client) =>
        client.eval(
          INCREMENT,
          1,
          this.redis.key('throttle', throttlerName, key),
          ttl,
          // Lua numbers are doubles: the largest safe integer stays exact.
          Math.min(limit, Number.MAX_SAFE_INTEGER),
          blockDuration,
        ),
      ),
      this.fallback.increment(key, ttl, limit, blockDuration, throttlerName),
    ]);
    if (!isRecord(answer)) return local;
    const [totalHits, windowLeftMs, blockLeftMs] = answer;
    const shared: ThrottlerStorageRecord = {
      totalHits,
      timeToExpire: Math.ceil(windowLeftMs / 1000),
      isBlocked: blockLeftMs > 0,
      timeToBlockExpire: Math.max(0, Math.ceil(blockLeftMs / 1000)),
    };
    // The stricter of the two: the replicas' count, or this replica's own.
    return {
      totalHits: Math.max(shared.totalHits, local.totalHits),
      timeToExpire: Math.max(shared.timeToExpire, local.timeToExpire),
      isBlocked: shared.isBlocked || local.isBlocked,
      timeToBlockExpire: Math.max(shared.timeToBlockExpire, local.timeToBlockExpire),
    };
  }
}

function isRecord(answer: unknown): answer is [number, number, number] {
  return Array.isArray(answer) && answer.length === 3 && answer.every(Number.isFinite);
}
