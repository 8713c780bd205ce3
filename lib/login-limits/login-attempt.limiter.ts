import { createHash } from 'node:crypto';
import { ThrottlerException, type ThrottlerStorage } from '@nestjs/throttler';
import type { FailedLoginLimit } from './login-limits.options.js';

/** The limits in force, after defaults. */
export interface LoginLimitSettings {
  perUsername: FailedLoginLimit | false;
  perIp: FailedLoginLimit | false;
}

const THROTTLER_NAME = 'apex-auth-login';
/** A check adds a hit to the block marker; it must not linger. */
const CHECK_HIT_TTL_MS = 1;

/** `429` for a blocked login, with the seconds to wait. */
export class TooManyLoginAttemptsException extends ThrottlerException {
  constructor(readonly retryAfterSeconds: number) {
    super('too many failed login attempts; try again later');
  }
}

/**
 * Counts failed logins per username and per client address in a
 * `@nestjs/throttler` storage, and refuses further attempts once a limit is
 * passed. The storage only offers `increment`, so a block is kept under a
 * marker key of its own, and checking it adds a hit to the marker only, never
 * to the failures.
 *
 * Usernames are stored hashed: a shared storage (Redis) then holds no list of
 * who tried to log in.
 */
export class LoginAttemptLimiter {
  /** @param storage - absent only when both limits are off */
  constructor(
    private readonly storage: ThrottlerStorage | undefined,
    private readonly settings: LoginLimitSettings,
  ) {}

  /** @throws TooManyLoginAttemptsException while the username or address is blocked */
  async assertAllowed(username: string | undefined, ip: string | undefined): Promise<void> {
    const storage = this.storage;
    if (storage === undefined) return;
    for (const [key, limit] of this.keys(username, ip)) {
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
  }

  /** Counts one failure; blocks what passed its limit. */
  async recordFailure(username: string | undefined, ip: string | undefined): Promise<void> {
    const storage = this.storage;
    if (storage === undefined) return;
    for (const [key, limit] of this.keys(username, ip)) {
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

  private keys(username: string | undefined, ip: string | undefined): [string, FailedLoginLimit][] {
    const keys: [string, FailedLoginLimit][] = [];
    const { perUsername, perIp } = this.settings;
    if (perUsername && typeof username === 'string' && username !== '') {
      keys.push([`apex-auth:login:user:${hash(username.trim().toLowerCase())}`, perUsername]);
    }
    if (perIp && typeof ip === 'string' && ip !== '')
      keys.push([`apex-auth:login:ip:${ip}`, perIp]);
    return keys;
  }
}

function hash(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}
