/**
 * An ioredis client of the app's (`new Redis(…)` of `ioredis` ≥ 5): typed by
 * what the module relies on, so that apps without ioredis compile against the
 * module's types.
 */
export interface RedisClientLike {
  readonly status: string;
  duplicate(...args: never[]): unknown;
  quit(): Promise<unknown>;
}

/**
 * What the `redis` option takes: a `redis://` or `rediss://` URL (user and
 * password in it, if any), ioredis connection options (passed to `new Redis()`
 * as given), or an ioredis client the app already has.
 */
export type RedisConnection = string | Record<string, unknown> | RedisClientLike;
