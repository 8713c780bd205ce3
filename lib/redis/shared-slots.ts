import type { ReleaseSlot } from '../login/keyed-slots.js';
import type { SharedAttemptSlots } from '../login/login-attempt.limiter.js';
import type { SharedRedis } from './shared-redis.js';

/** How often an attempt waiting for a slot held on another replica asks again. */
const POLL_INTERVAL_MS = 50;

/** Takes a slot if fewer than the limit are held; the slots of a dead replica expire with the lease. */
const ACQUIRE = `
local held = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if held > tonumber(ARGV[1]) then redis.call('DECR', KEYS[1]) return 0 end
return 1
`;
const RELEASE = `
local held = redis.call('DECR', KEYS[1])
if held <= 0 then redis.call('DEL', KEYS[1]) end
return held
`;

/**
 * Login attempts under way per username and per address, counted across the
 * replicas, so that a burst of parallel guesses spread over them cannot pass
 * a limit before its failures are counted. Slots are leased: a replica that
 * dies holding some frees them when the lease runs out. While Redis cannot
 * answer, each replica's own slots are the only bound.
 */
export class RedisAttemptSlots implements SharedAttemptSlots {
  constructor(
    private readonly redis: SharedRedis,
    /** How long a slot may be held: an attempt's whole time budget, refusal delay included. */
    private readonly leaseMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async acquire(key: string, limit: number, wait: boolean): Promise<ReleaseSlot | undefined> {
    const slots = this.redis.key('attempts', key);
    const until = this.now() + this.leaseMs;
    for (;;) {
      const taken = await this.redis.run((client) =>
        client.eval(ACQUIRE, 1, slots, limit, this.leaseMs),
      );
      if (taken === undefined) return () => undefined;
      if (taken === 1) return this.releaser(slots);
      if (!wait || this.now() + POLL_INTERVAL_MS >= until) return undefined;
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
  }

  private releaser(slots: string): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      void this.redis.run((client) => client.eval(RELEASE, 1, slots));
    };
  }
}
