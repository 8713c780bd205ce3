import { Logger, type LoggerService } from '@nestjs/common';

/** At most one line per kind of failure in this interval. */
export const UPSTREAM_LOG_INTERVAL_MS = 10_000;

/**
 * The operator's view of what goes wrong upstream: one `warn` line per kind of
 * failure (say `user: timeout`) and interval, with the number of like ones it
 * stands for, so that an outage under load is visible without flooding the
 * logs. Lines are built by the callers from our own error messages (operation,
 * status, reason) and the auth-service's origin: never a token, a password, a
 * header or a body.
 */
export class UpstreamFailureLog {
  private readonly kinds = new Map<string, { loggedAt: number; folded: number }>();

  /**
   * @param origin - the auth-service's origin (`http://auth:8000`), named in every line
   */
  constructor(
    readonly origin: string,
    private readonly logger: Pick<LoggerService, 'warn'> = new Logger('ApexAuth'),
    private readonly now: () => number = Date.now,
  ) {}

  /** Logs a failure of one kind, unless one of that kind was logged within the interval. */
  warn(kind: string, message: string): void {
    const now = this.now();
    const seen = this.kinds.get(kind);
    if (seen !== undefined && now - seen.loggedAt < UPSTREAM_LOG_INTERVAL_MS) {
      seen.folded++;
      return;
    }
    const folded =
      seen !== undefined && seen.folded > 0
        ? ` (and ${seen.folded} more like it since the last such line)`
        : '';
    this.kinds.set(kind, { loggedAt: now, folded: 0 });
    this.logger.warn(`auth-service ${this.origin}: ${message}${folded}`);
  }
}
