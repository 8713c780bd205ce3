import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { APEX_AUTH_RESOLVED_OPTIONS } from '../apex-auth.constants.js';
import { AuthApi, type PermissionSyncResult } from '../client/index.js';
import {
  ApexAuthOptionsError,
  AuthServiceError,
  AuthServicePayloadError,
  AuthServiceUnavailableError,
} from '../errors/index.js';
import type { ResolvedApexAuthOptions } from '../module/apex-auth.options.js';

const FIRST_RETRY_DELAY_MS = 250;
const MAX_RETRY_DELAY_MS = 5_000;

/**
 * Brings the auth-service's permission schema of this service in line with
 * the `permissions` option when the module starts (when `syncPermissions` is
 * on). An unavailable auth-service is retried with backoff for
 * `syncPermissions.retryForMs`; then the app fails to start, or with
 * `onError: 'warn'` logs it and serves requests anyway.
 */
@Injectable()
export class PermissionSyncService implements OnModuleInit {
  private readonly logger = new Logger('ApexAuth');

  constructor(
    private readonly authApi: AuthApi,
    @Inject(APEX_AUTH_RESOLVED_OPTIONS) private readonly options: ResolvedApexAuthOptions,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.options.sync) await this.sync();
  }

  /**
   * Syncs now, with the retry policy of the options.
   *
   * @returns what changed, or `undefined` when it failed under `onError: 'warn'`
   */
  async sync(): Promise<PermissionSyncResult | undefined> {
    const { schema, sync, serviceName } = this.options;
    if (schema === undefined || !sync) return undefined;
    const deadline = Date.now() + sync.retryForMs;
    for (let delay = FIRST_RETRY_DELAY_MS; ; delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS)) {
      try {
        const admin = await this.authApi.asAdmin();
        const result = await admin.updatePermissions(schema.definitions);
        this.logger.log(describeSync(serviceName, result));
        return result;
      } catch (error) {
        if (isTransient(error) && Date.now() + delay < deadline) {
          this.logger.warn(
            `Permission sync of "${serviceName}": ${describeError(error)}; retrying in ${delay} ms`,
          );
          await new Promise((resolve) => setTimeout(resolve, delay));
          continue;
        }
        const message = `Permission sync of "${serviceName}" failed: ${describeError(error)}`;
        if (sync.onError === 'fail') throw new Error(message, { cause: error });
        this.logger.error(`${message}; serving requests with the schema the auth-service has`);
        return undefined;
      }
    }
  }
}

function isTransient(error: unknown): boolean {
  return error instanceof AuthServiceUnavailableError || error instanceof AuthServicePayloadError;
}

/** Our own errors' messages are safe to log; anything else is named, not quoted. */
function describeError(error: unknown): string {
  if (error instanceof AuthServiceError || error instanceof ApexAuthOptionsError)
    return error.message;
  return error instanceof Error ? `unexpected ${error.name}` : 'unexpected error';
}

function describeSync(serviceName: string, result: PermissionSyncResult): string {
  const part = (label: string, names: string[]): string | undefined =>
    names.length > 0 ? `${label} ${names.join(', ')}` : undefined;
  const changes = [
    part('created', result.created),
    part('updated', result.updated),
    part('replaced', result.replaced),
    part('deleted', result.deleted),
  ].filter((change) => change !== undefined);
  const unchanged = `${result.unchanged.length} unchanged`;
  return `Permissions of "${serviceName}" synced: ${[...changes, unchanged].join('; ')}`;
}
