import type { ThrottlerStorage } from '@nestjs/throttler';

/** One limit on failed logins. */
export interface FailedLoginLimit {
  /** Failures allowed within `windowMs`; after that, attempts are refused for `blockMs`. */
  maxFailures: number;
  windowMs: number;
  /** How long a blocked username or address gets `429`, in ms. */
  blockMs: number;
}

/**
 * Limits on failed logins against brute force, counted per username and per
 * client address. Blocked callers get `429` with `Retry-After`.
 */
export interface LoginLimitsOptions {
  /** Default: 5 failures in 15 minutes block the username for 15 minutes. `false`: no limit. */
  perUsername?: FailedLoginLimit | false;
  /** Default: 20 failures in 15 minutes block the address for 15 minutes. `false`: no limit. */
  perIp?: FailedLoginLimit | false;
  /**
   * Where counters live: any `@nestjs/throttler` storage, so that replicas
   * can share them (for example a Redis one). Default: in memory, per process,
   * at most 100 000 counters ({@link BoundedThrottlerStorage}).
   */
  storage?: ThrottlerStorage;
}
