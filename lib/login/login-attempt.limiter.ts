import type { ThrottlerStorage } from '@nestjs/throttler';
import { sha256 } from '../auth/digest.js';
import { TooManyRequestsException } from '../auth/http-refusals.js';
import { KeyedSlots, type ReleaseSlot } from './keyed-slots.js';
import type { FailedLoginLimit as FailedLoginLimitOptions } from '../module/apex-auth.options.js';

/** One limit on failed logins, defaults applied. */
type FailedLoginLimit = Required<FailedLoginLimitOptions>;

/** The limits in force, after defaults. */
export interface LoginLimitSettings {
  perUsername: FailedLoginLimit | false;
  perIp: FailedLoginLimit | false;
}

const THROTTLER_NAME = 'apex-auth-login';
/** A check adds a hit to the block marker; it must not linger. */
const CHECK_HIT_TTL_MS = 1;

/** `429` for a blocked login, with the seconds to wait. */
export class TooManyLoginAttemptsException extends TooManyRequestsException {
  constructor(retryAfterSeconds: number) {
    super('too many failed login attempts; try again later', retryAfterSeconds);
  }
}

/** Attempts under way, counted across replicas (Redis). */
export interface SharedAttemptSlots {
  /**
   * Takes one of `limit` slots of `key`, across replicas; when all are held,
   * waits for one (`wait`) or gives `undefined` (refused). When the shared
   * count cannot be reached, a slot that bounds nothing (each replica's own
   * slots still do).
   */
  acquire(key: string, limit: number, wait: boolean): Promise<ReleaseSlot | undefined>;
}

/**
 * Counts failed logins per username and per client address in a
 * `@nestjs/throttler` storage, and refuses further attempts once a limit is
 * passed. The storage only offers `increment`, so a block is kept under a
 * marker key of its own, and checking it adds a hit to the marker only, never
 * to the failures.
 *
 * Usernames are counted as the auth-service may match them: Unicode NFKC,
 * case-folded and trimmed (`Sam`, ` sam ` and `ｓａｍ` share one counter), and
 * stored hashed: a shared storage (Redis) then holds no list of who tried to
 * log in. Client addresses come grouped (`clientKey`: IPv6 per /64).
 *
 * A failure is only counted once the auth-service has answered, so attempts
 * that run at the same time would all pass the check before any of them is
 * counted: a burst of parallel guesses would escape the limit. So no more
 * attempts per key run at once (per process, and across replicas with
 * `redis`) than the limit allows failures:
 * further ones for a username are refused, and further ones from an address
 * wait their turn and are checked when it comes (many honest users behind one
 * address are only delayed).
 */
export class LoginAttemptLimiter {
  /** Attempts under way per key, in this process. */
  private readonly inFlight = new KeyedSlots();

  /**
   * @param storage - absent only when both limits are off
   * @param shared - attempts under way on every replica (with `redis`)
   */
  constructor(
    private readonly storage: ThrottlerStorage | undefined,
    private readonly settings: LoginLimitSettings,
    private readonly shared?: SharedAttemptSlots,
  ) {}

  /**
   * Admits one attempt.
   *
   * @param client - the client's grouped address (`clientKey`)
   * @returns a function to call once the attempt is over (after `recordFailure` when it failed)
   * @throws TooManyLoginAttemptsException while the username or address is blocked, or
   *   when as many attempts as its limit allows failures are already waiting their turn
   */
  async assertAllowed(
    username: string | undefined,
    client: string | undefined,
  ): Promise<() => void> {
    const storage = this.storage;
    if (storage === undefined) return () => undefined;
    const keys = this.keys(username, client);
    const releases: (() => void)[] = [];
    const release = (): void => {
      for (const each of releases.splice(0)) each();
    };
    try {
      // At most as many attempts at once as may fail. One username has no business logging in
      // in parallel: the others are refused; one address may be many users: they wait their turn.
      for (const [key, limit, kind] of keys) {
        const slot = await this.inFlight.acquire(
          key,
          limit.maxFailures,
          kind === 'username' ? 0 : limit.maxFailures,
        );
        if (slot === undefined) throw new TooManyLoginAttemptsException(1);
        releases.push(slot);
        if (this.shared !== undefined) {
          // The same bound across replicas: one burst spread over them counts as one.
          const shared = await this.shared.acquire(key, limit.maxFailures, kind === 'address');
          if (shared === undefined) throw new TooManyLoginAttemptsException(1);
          releases.push(shared);
        }
      }
      for (const [key, limit] of keys) {
        const marker = await storage.increment(
          `${key}:blocked`,
          CHECK_HIT_TTL_MS,
          Number.MAX_SAFE_INTEGER,
          limit.blockMs,
          THROTTLER_NAME,
        );
        if (marker.isBlocked) {
          throw new TooManyLoginAttemptsException(Math.max(1, marker.timeToBlockExpire));
        }
      }
    } catch (error) {
      release();
      throw error;
    }
    return release;
  }

  /** Counts one failure; blocks what passed its limit. */
  async recordFailure(username: string | undefined, client: string | undefined): Promise<void> {
    const storage = this.storage;
    if (storage === undefined) return;
    for (const [key, limit] of this.keys(username, client)) {
      const failures = await storage.increment(
        `${key}:failures`,
        limit.windowMs,
        limit.maxFailures,
        limit.blockMs,
        THROTTLER_NAME,
      );
      if (failures.totalHits >= limit.maxFailures || failures.isBlocked) {
        // limit 0: this one hit sets the marker's block for blockMs.
        await storage.increment(`${key}:blocked`, limit.blockMs, 0, limit.blockMs, THROTTLER_NAME);
      }
    }
  }

  private keys(
    username: string | undefined,
    client: string | undefined,
  ): [string, FailedLoginLimit, 'username' | 'address'][] {
    const keys: [string, FailedLoginLimit, 'username' | 'address'][] = [];
    const { perUsername, perIp } = this.settings;
    const folded = typeof username === 'string' ? foldUsername(username) : '';
    if (perUsername && folded !== '') {
      keys.push([`apex-auth:login:user:${sha256(folded)}`, perUsername, 'username']);
    }
    if (perIp && typeof client === 'string' && client !== '') {
      keys.push([`apex-auth:login:ip:${client}`, perIp, 'address']);
    }
    return keys;
  }
}

/**
 * A username as an auth-service that normalises usernames may see it: NFKC
 * (fullwidth and compatibility forms become their plain letters), case-folded
 * (upper then lower case, so that `ß` and `SS` meet too), and stripped of what
 * Python's `str.strip()` strips (JavaScript's `trim()` keeps U+001C–U+001F and
 * U+0085), over and over until nothing changes (`ẞ` folds to `ß` first, and
 * only then to `ss`). Variants an attacker could send to get a fresh counter
 * share one.
 */
export function foldUsername(username: string): string {
  let folded = username;
  for (let previous = ''; folded !== previous;) {
    previous = folded;
    folded = folded
      .normalize('NFKC')
      .toUpperCase()
      .toLowerCase()
      .normalize('NFKC')
      .replace(STRIPPED_AT_ENDS, '');
  }
  return folded;
}

// eslint-disable-next-line no-control-regex -- these are the characters it strips
const STRIPPED_AT_ENDS = /^[\s\u001c-\u001f\u0085]+|[\s\u001c-\u001f\u0085]+$/gu;
