import { createHash } from 'node:crypto';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { TooManyRequestsException } from '../auth/http-refusals.js';
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
 * counted: a burst of parallel guesses would escape the limit. Attempts in
 * flight are therefore capped (per process) at the limit itself.
 */
export class LoginAttemptLimiter {
  /** Attempts under way per key, in this process. */
  private readonly inFlight = new Map<string, number>();

  /** @param storage - absent only when both limits are off */
  constructor(
    private readonly storage: ThrottlerStorage | undefined,
    private readonly settings: LoginLimitSettings,
  ) {}

  /**
   * Admits one attempt.
   *
   * @param client - the client's grouped address (`clientKey`)
   * @returns a function to call once the attempt is over (after `recordFailure` when it failed)
   * @throws TooManyLoginAttemptsException while the username or address is blocked, or
   *   while as many attempts as its limit allows failures are already under way
   */
  async assertAllowed(
    username: string | undefined,
    client: string | undefined,
  ): Promise<() => void> {
    const storage = this.storage;
    if (storage === undefined) return () => undefined;
    const keys = this.keys(username, client);
    // Reserved before the first await, so that parallel attempts see each other.
    if (keys.some(([key, limit]) => (this.inFlight.get(key) ?? 0) >= limit.maxFailures)) {
      throw new TooManyLoginAttemptsException(1);
    }
    for (const [key] of keys) this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      for (const [key] of keys) {
        const left = (this.inFlight.get(key) ?? 1) - 1;
        if (left > 0) this.inFlight.set(key, left);
        else this.inFlight.delete(key);
      }
    };
    try {
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
  ): [string, FailedLoginLimit][] {
    const keys: [string, FailedLoginLimit][] = [];
    const { perUsername, perIp } = this.settings;
    const folded = typeof username === 'string' ? foldUsername(username) : '';
    if (perUsername && folded !== '') {
      keys.push([`apex-auth:login:user:${hash(folded)}`, perUsername]);
    }
    if (perIp && typeof client === 'string' && client !== '') {
      keys.push([`apex-auth:login:ip:${client}`, perIp]);
    }
    return keys;
  }
}

/**
 * A username as an auth-service that normalises usernames may see it: NFKC
 * (fullwidth and compatibility forms become their plain letters), case-folded
 * (upper then lower case, so that `ß` and `SS` meet too), NFKC again, trimmed.
 * Variants an attacker could send to get a fresh counter share one.
 */
export function foldUsername(username: string): string {
  return username.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC').trim();
}

function hash(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}
