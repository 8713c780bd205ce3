import { Inject, Injectable, Logger, Optional, type OnModuleInit } from '@nestjs/common';
import {
  APEX_AUTH_SETTINGS,
  APEX_AUTH_SYNC_LOCK,
  type ApexAuthSettings,
} from '../module/apex-auth.settings.js';
import { AuthApi, type PermissionSyncResult } from '../client/index.js';
import {
  describePlan,
  describeSyncEvent,
  summarizePlan,
  summarizeSync,
} from '../client/permission-sync.describe.js';
import type { PermissionSyncEvent } from '../client/permission-sync.js';
import { isUpstreamFailure, PermissionSyncError, safeErrorMessage } from '../errors/index.js';

/**
 * Lets one replica sync at a time (with `redis`); the others wait for it
 * until `waitUntil` (epoch ms), then sync anyway.
 */
export interface SyncLock {
  runExclusive<T>(waitUntil: number, work: () => Promise<T>): Promise<T>;
}

const FIRST_RETRY_DELAY_MS = 250;
/** A startup still waiting for the auth-service says so this soon. */
const FIRST_NEWS_AFTER_MS = 2_000;
const MAX_RETRY_DELAY_MS = 5_000;

/**
 * Brings the auth-service's permission schema of this service in line with
 * the `permissions` option when the module starts (when `syncPermissions` is
 * on), logging one line per change and a summary; with `dryRun` it logs the
 * plan and writes nothing. An unavailable auth-service is retried with backoff
 * for `syncPermissions.retryForMs` (a retry compares anew, so a sync that
 * stopped halfway is finished); then the app fails to start, or with
 * `onError: 'warn'` logs it and serves requests anyway.
 */
@Injectable()
export class PermissionSyncService implements OnModuleInit {
  private readonly logger = new Logger('ApexAuth');

  constructor(
    private readonly authApi: AuthApi,
    @Inject(APEX_AUTH_SETTINGS) private readonly settings: ApexAuthSettings,
    @Optional() @Inject(APEX_AUTH_SYNC_LOCK) private readonly lock?: SyncLock,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.settings.sync) {
      await this.sync();
      return;
    }
    this.logger.log(`Permission sync of "${this.settings.serviceName}" is off: ${this.whyOff()}`);
  }

  private whyOff(): string {
    if (this.settings.schema === undefined) return 'there is no `permissions` schema to sync';
    if (this.settings.api.admin === undefined) {
      return 'no `admin` is set (the sync needs an admin token); the schema upstream is left as it is';
    }
    return 'syncPermissions is false';
  }

  /**
   * Syncs now (or, with `dryRun`, logs the plan), with the retry policy of the options.
   *
   * @returns what changed; `undefined` for a dry run, or when it failed under `onError: 'warn'`
   */
  async sync(): Promise<PermissionSyncResult | undefined> {
    const { schema, sync, serviceName } = this.settings;
    if (schema === undefined || !sync) return undefined;
    const prefix = `Permission sync of "${serviceName}"`;
    // Where it failed, for the failures: the origin only, never a path or credentials.
    const upstream = `auth-service at ${new URL(this.settings.api.baseUrl).origin}`;
    const deadline = Date.now() + sync.retryForMs;
    // A hanging auth-service gives no failure to report for a while: say it is still waited for.
    const stillWaiting = setTimeout(() => {
      this.logger.warn(
        `${prefix}: no answer yet from the ${upstream}; still trying for up to ${Math.round(sync.retryForMs / 1000)} s`,
      );
    }, FIRST_NEWS_AFTER_MS);
    try {
      const run = () => this.attempts(prefix, upstream, deadline);
      return await (this.lock === undefined ? run() : this.lock.runExclusive(deadline, run));
    } finally {
      clearTimeout(stillWaiting);
    }
  }

  private async attempts(
    prefix: string,
    upstream: string,
    deadline: number,
  ): Promise<PermissionSyncResult | undefined> {
    const { schema, sync, serviceName } = this.settings;
    if (schema === undefined || !sync) return undefined;
    for (let delay = FIRST_RETRY_DELAY_MS; ; delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS)) {
      try {
        const admin = await this.authApi.asAdmin();
        if (sync.dryRun) {
          const plan = await admin.planPermissions(schema.definitions, {
            deleteRemoved: sync.deleteRemoved,
          });
          for (const line of describePlan(plan, sync.onChanged))
            this.logger.log(`${prefix} (dry run): ${line}`);
          this.logger.log(`${summarizePlan(serviceName, plan)} (dry run: nothing written)`);
          return undefined;
        }
        const result = await admin.updatePermissions(schema.definitions, {
          onChanged: sync.onChanged,
          deleteRemoved: sync.deleteRemoved,
          onEvent: (event) => this.logEvent(prefix, event),
        });
        this.logger.log(summarizeSync(serviceName, result));
        return result;
      } catch (error) {
        if (worthRetrying(error) && Date.now() + delay < deadline) {
          this.logger.warn(
            `${prefix}: ${safeErrorMessage(error)} (${upstream}); retrying in ${delay} ms`,
          );
          await new Promise((resolve) => setTimeout(resolve, delay));
          continue;
        }
        const message = `${prefix} failed: ${safeErrorMessage(error)} (${upstream})`;
        if (sync.onError === 'fail') throw new Error(message, { cause: error });
        this.logger.error(`${message}; serving requests with the schema the auth-service has`);
        return undefined;
      }
    }
  }

  private logEvent(prefix: string, event: PermissionSyncEvent): void {
    const line = `${prefix}: ${describeSyncEvent(event)}`;
    // A warning where users lost values, or where the schema upstream and the code still disagree.
    const warn =
      event.kind === 'replaced' ||
      event.kind === 'deleted' ||
      event.kind === 'outdated' ||
      (event.kind === 'kept' && event.duplicate);
    if (warn) {
      this.logger.warn(line);
    } else {
      this.logger.log(line);
    }
  }
}

/** Worth another try: the auth-service may come back, and a rerun finishes a half-done sync. */
function worthRetrying(error: unknown): boolean {
  return isUpstreamFailure(error instanceof PermissionSyncError ? error.cause : error);
}
