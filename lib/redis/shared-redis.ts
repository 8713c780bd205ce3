import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis, RedisOptions } from 'ioredis';
import { ApexAuthOptionsError } from '../errors/index.js';
import type { RedisClientLike, RedisConnection } from './redis-source.js';

/** No request waits for Redis longer than this: past it, the answer comes from in-process state. */
export const REDIS_COMMAND_BUDGET_MS = 100;
/** How soon a lost connection is tried again, at the latest: sharing resumes within seconds. */
const MAX_RECONNECT_DELAY_MS = 1_000;

/**
 * The module's connection to Redis: state that replicas share, and never a
 * dependency a request waits on for long. Every command has a budget of
 * {@link REDIS_COMMAND_BUDGET_MS}; one that fails, times out or finds the
 * connection down resolves to `undefined`, and the caller falls back to its
 * in-process state. No command is queued while the connection is down (a queue
 * would replay stale writes and hold requests). One `warn` line per outage, one
 * `log` line when it is back; never the URL's credentials.
 */
export class SharedRedis implements OnApplicationShutdown {
  private readonly logger = new Logger('ApexAuth');
  private down = false;
  private subscriber?: Redis;

  private constructor(
    readonly client: Redis,
    private readonly owned: boolean,
    private readonly prefix: string,
    /** Where it is, for logs: host and port only. */
    readonly where: string,
  ) {
    client.on('error', (error: Error) => this.markDown(reasonOf(error)));
    client.on('end', () => this.markDown('connection closed'));
    client.on('ready', () => this.markUp());
  }

  /**
   * Connects (or adopts the app's client). `ioredis` is loaded here, only when the
   * option is set.
   *
   * @throws ApexAuthOptionsError when `ioredis` is not installed or the URL is not a Redis URL
   */
  static async connect(source: RedisConnection, prefix: string): Promise<SharedRedis> {
    let RedisClient: typeof Redis;
    try {
      ({ Redis: RedisClient } = await import('ioredis'));
    } catch {
      throw new ApexAuthOptionsError(
        'redis',
        'needs the ioredis package (an optional peer dependency): npm install ioredis',
      );
    }
    if (isRedisClient(source)) {
      // The app's client, as it configured it (its own offline queue, if any, is bounded by the budget).
      const client = source as unknown as Redis;
      return new SharedRedis(client, false, prefix, whereOf(client.options));
    }
    const options: RedisOptions = {
      // Fail at once while disconnected rather than queue: the callers fall back.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      retryStrategy: (times: number) => Math.min(100 * times, MAX_RECONNECT_DELAY_MS),
    };
    const client =
      typeof source === 'string'
        ? new RedisClient(source, options)
        : new RedisClient({ ...options, ...(source as RedisOptions) });
    return new SharedRedis(client, true, prefix, whereOf(client.options));
  }

  /** A key or channel of this module registration: under its prefix. */
  key(...parts: string[]): string {
    return `${this.prefix}${parts.join(':')}`;
  }

  /**
   * Runs `command` within the budget. `undefined` when Redis cannot answer in
   * time: the caller's fallback decides, never a failure of the request.
   */
  async run<T>(command: (client: Redis) => Promise<T>): Promise<T | undefined> {
    if (this.client.status !== 'ready') return undefined;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), REDIS_COMMAND_BUDGET_MS);
    });
    try {
      const answer = await Promise.race([command(this.client), late]);
      if (answer === 'late') {
        this.markDown(`no answer within ${REDIS_COMMAND_BUDGET_MS} ms`);
        return undefined;
      }
      this.markUp();
      return answer;
    } catch (error) {
      this.markDown(reasonOf(error));
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once the connection is ready, or after `withinMs` regardless. */
  async ready(withinMs: number): Promise<boolean> {
    if (this.client.status === 'ready') return true;
    return new Promise((resolve) => {
      const done = (ready: boolean): void => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        resolve(ready);
      };
      const onReady = (): void => done(true);
      const timer = setTimeout(() => done(false), withinMs);
      this.client.on('ready', onReady);
    });
  }

  /**
   * Calls `handler` with every message published on `channel`, on a connection
   * of its own (a subscribed connection takes no other commands); ioredis
   * subscribes again after a reconnection.
   */
  async subscribe(channel: string, handler: (message: string) => void): Promise<void> {
    this.subscriber ??= this.client.duplicate({ enableOfflineQueue: true });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (from: string, message: string) => {
      if (from === channel) handler(message);
    });
    // Not awaited past the budget: a Redis that is down at startup does not hold the app up.
    void this.subscriber.subscribe(channel).catch(() => undefined);
    await Promise.resolve();
  }

  /** Publishes `message` on `channel`; `false` when Redis could not take it. */
  async publish(channel: string, message: string): Promise<boolean> {
    return (await this.run((client) => client.publish(channel, message))) !== undefined;
  }

  /** Nest's shutdown hook: the connections close with the app. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  /** Closes the connections it opened; the app's own client is left to the app. */
  async close(): Promise<void> {
    const quit = (client: Redis): Promise<unknown> =>
      client.quit().catch(() => client.disconnect());
    await Promise.all([
      this.subscriber === undefined ? undefined : quit(this.subscriber),
      this.owned ? quit(this.client) : undefined,
    ]);
  }

  private markDown(reason: string): void {
    if (this.down) return;
    this.down = true;
    this.logger.warn(
      `Redis at ${this.where} unavailable (${reason}): serving from in-process state and the ` +
        'auth-service; login limits count per replica until it is back',
    );
  }

  private markUp(): void {
    if (!this.down) return;
    this.down = false;
    this.logger.log(`Redis at ${this.where} is back: state is shared again`);
  }
}

function isRedisClient(source: RedisConnection): source is RedisClientLike {
  return typeof source === 'object' && typeof (source as RedisClientLike).duplicate === 'function';
}

/** Host and port (or socket path), never credentials. */
function whereOf(options: RedisOptions): string {
  if (options.path !== undefined) return options.path;
  return `${options.host ?? '127.0.0.1'}:${options.port ?? 6379}`;
}

/** A short reason: an error's code or its class, never its message (it may quote a command). */
function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : 'unknown error';
}
