import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { SyncLock } from '../sync/permission-sync.service.js';
import type { SharedRedis } from './shared-redis.js';

/** The lock lives this long unless renewed: a replica that dies mid-sync frees it soon. */
const LEASE_MS = 10_000;
const RENEW_EVERY_MS = 3_000;
const POLL_INTERVAL_MS = 250;
/** A Redis still connecting at startup is given this long before the sync runs unlocked. */
const CONNECT_WAIT_MS = 2_000;

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * One permission sync at a time per service across replicas: a lock in Redis
 * with a bounded lifetime, renewed while its sync runs. The others wait for
 * it, then compare anew (and find the work done). Without Redis, or past the
 * wait, a sync runs unlocked: it converges by itself all the same.
 */
export class RedisSyncLock implements SyncLock {
  private readonly logger = new Logger('ApexAuth');

  constructor(
    private readonly redis: SharedRedis,
    private readonly now: () => number = Date.now,
  ) {}

  async runExclusive<T>(waitUntil: number, work: () => Promise<T>): Promise<T> {
    const lock = this.redis.key('sync-lock');
    const nonce = randomUUID();
    await this.redis.ready(Math.min(CONNECT_WAIT_MS, Math.max(0, waitUntil - this.now())));
    let held = false;
    for (;;) {
      const taken = await this.redis.run((client) => client.set(lock, nonce, 'PX', LEASE_MS, 'NX'));
      if (taken === 'OK') {
        held = true;
        break;
      }
      // Redis cannot say: run unlocked rather than not at all.
      if (taken === undefined) break;
      if (this.now() + POLL_INTERVAL_MS >= waitUntil) {
        this.logger.warn(
          'Permission sync: another replica held the sync lock for the whole wait; syncing without it',
        );
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
    if (!held) return work();
    const renewal = setInterval(() => {
      void this.redis.run((client) => client.eval(RENEW, 1, lock, nonce, LEASE_MS));
    }, RENEW_EVERY_MS);
    try {
      return await work();
    } finally {
      clearInterval(renewal);
      await this.redis.run((client) => client.eval(RELEASE, 1, lock, nonce));
    }
  }
}
