import type { ThrottlerStorage } from '@nestjs/throttler';
import { AuthApiOptions } from '../client/auth-api.options.js';
import type { ChangedPermissionPolicy } from '../client/permission-sync.js';
import {
  AsGiven,
  Bool,
  BooleanOrNested,
  FalseOrNested,
  Milliseconds,
  Nested,
  NonEmptyString,
  NumberIn,
  OneOf,
  Optional,
  Rule,
  StringOrList,
  Text,
  WholeNumber,
} from '../options/option-rules.js';
import type { PermissionsSource } from '../permissions/index.js';
import type { RedisConnection } from '../redis/redis-source.js';
import type { RpcTokenExtractor } from '../transports/rpc-caller.js';

/** JWS algorithms the module can verify. `none` is not one of them. */
export type JwtAlgorithm =
  | 'HS256'
  | 'HS384'
  | 'HS512'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512';

/** RFC 8725 allows leeway for clock skew, not for accepting stale tokens. */
export const MAX_CLOCK_TOLERANCE_SECONDS = 300;

const moved = (option: string) =>
  Rule(
    'moved',
    () => false,
    `has moved: use the top-level \`${option}\` option, which applies in both verification modes`,
  );

/**
 * Local verification of access tokens: bad tokens are refused without asking
 * the auth-service. Exactly one key source: `secret`, `publicKey` or `jwksUri`.
 */
export class JwtVerificationOptions {
  // Their lengths and contents are the key import's to judge, with a message that says why.

  /** Shared HMAC secret of the auth-service, at least 32 bytes. */
  @Optional()
  @Text()
  secret?: string;

  /** SPKI PEM of the auth-service's RSA (≥ 2048 bits) or EC key. */
  @Optional()
  @Text('must be a PEM string')
  publicKey?: string;

  /** URL of the auth-service's JWKS document. */
  @Optional()
  @Text('must be an absolute http(s) URL')
  jwksUri?: string;

  /**
   * Accepted algorithms. Default: `HS256` with a `secret` (what the
   * auth-service issues; RFC 8725 §3.1: one algorithm per key), every
   * algorithm of the key's kind with `publicKey` or `jwksUri`. Must fit the
   * key: HMAC only with `secret`, RSA/EC only with `publicKey` or `jwksUri`.
   */
  @Optional()
  @Rule(
    'algorithms',
    (value) =>
      Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string'),
    'must be a non-empty array',
  )
  algorithms?: JwtAlgorithm[];

  /** Leeway for `exp` and `nbf`, in seconds (default 0, at most 300). */
  @NumberIn({ min: 0, max: MAX_CLOCK_TOLERANCE_SECONDS, unit: 'seconds' })
  clockToleranceSeconds?: number = 0;

  /** @deprecated The top-level `audience` option took its place. */
  @Optional()
  @moved('audience')
  audience?: never;

  /** @deprecated The top-level `issuer` option took its place. */
  @Optional()
  @moved('issuer')
  issuer?: never;
}

/** How the permission sync at startup runs, and what it does when it cannot complete. */
export class PermissionSyncOptions {
  /** `'fail'` (default): the app does not start. `'warn'`: log it and start anyway. */
  @OneOf(['fail', 'warn'])
  onError?: 'fail' | 'warn' = 'fail';

  /** How long to keep retrying an unavailable auth-service, in ms (default 30000). */
  @Milliseconds()
  retryForMs?: number = 30_000;

  /**
   * A changed permission when the auth-service has no in-place update:
   * `'keep'` (default) leaves it as it is upstream and logs a warning with
   * each differing field; `'recreate'` deletes and creates it, dropping every
   * user's value of it; `'fail'` stops the sync.
   */
  @OneOf(['keep', 'recreate', 'fail'])
  onChanged?: ChangedPermissionPolicy = 'keep';

  /**
   * Delete permissions upstream that the schema no longer has (default
   * `true`, as apexauthlib did). With rolling deploys set it to `false` and
   * prune from the pipeline with `apex-auth permissions sync --prune`: an old
   * replica restarting mid-rollout would otherwise delete what the new version added.
   */
  @Bool()
  deleteRemoved?: boolean = true;

  /** Log the plan (what the sync would change) and write nothing (default `false`). */
  @Bool()
  dryRun?: boolean = false;
}

/** The cache of validated users (per token). */
export class UserCacheOptions {
  /** How long a validated user is reused, in ms (default 60000; never past the token's `exp`). */
  @Milliseconds({ aboveMin: true })
  ttlMs?: number = 60_000;

  /** Most users kept (default 10000; the least recently used go first). */
  @WholeNumber({ min: 1 })
  maxEntries?: number = 10_000;

  /**
   * While the auth-service is unavailable, users validated before are still
   * served this long past `ttlMs`, in ms (default 300000; never past the
   * token's `exp`; `0` turns it off). A token revoked meanwhile keeps working
   * that long, but only while the auth-service cannot be asked.
   */
  @Milliseconds()
  staleIfErrorMs?: number = 300_000;

  /**
   * Most memory the cached users may take, in bytes, as estimated from each
   * entry's JSON size (default 32 MiB); the least recently used go first, and a
   * user larger than this is not cached at all. Bounds each of the two caches
   * (per token, per known user) next to `maxEntries`.
   */
  @WholeNumber({ min: 1 })
  maxBytes?: number = 32 * 2 ** 20;

  /**
   * Reuse what was validated of a user for their new tokens, for `ttlMs` after
   * it was asked (default `true`). Local mode: a new token whose signature
   * holds, of a user (issuer and subject) validated within `ttlMs`, costs no
   * upstream call. Remote mode: the auth-service still judges every new token
   * (`GET /auth/user`), but the user's record in this service is reused by
   * user id (one call instead of two). The trade-off: a user disabled, or
   * whose permissions changed, at the auth-service is seen no sooner than
   * `ttlMs` after they were last asked about, even with a new token; `false`
   * asks about every new token in full.
   */
  @Bool()
  knownUsers?: boolean = true;
}

/** How many new tokens of one client address the auth-service may refuse. */
export class LookupLimitOptions {
  /**
   * New tokens whose lookup ends refused by the auth-service, per client
   * address and window (default 60); past it, new tokens from that address get
   * `429` without a lookup. Valid tokens cost nothing.
   */
  @WholeNumber({ min: 1 })
  maxRefusedTokens?: number = 60;

  /** The window, in ms (default 60000). */
  @Milliseconds({ aboveMin: true })
  windowMs?: number = 60_000;
}

const FIFTEEN_MINUTES = 15 * 60_000;

/** One limit on failed logins. */
export class FailedLoginLimit {
  /** Failures allowed within `windowMs`; after that, attempts are refused for `blockMs`. */
  @WholeNumber({ min: 1 })
  maxFailures?: number = 5;

  /** The window failures are counted in, in ms (default 15 minutes). */
  @Milliseconds({ aboveMin: true })
  windowMs?: number = FIFTEEN_MINUTES;

  /** How long a blocked username or address gets `429`, in ms (default 15 minutes). */
  @Milliseconds({ aboveMin: true })
  blockMs?: number = FIFTEEN_MINUTES;
}

/** The limit per client address: more failures, for the many users behind one address. */
export class FailedLoginLimitPerAddress extends FailedLoginLimit {
  override maxFailures?: number = 20;
}

/**
 * Limits on failed logins against brute force, counted per username and per
 * client address. Blocked callers get `429` with `Retry-After`.
 */
export class LoginLimitsOptions {
  /** Default: 5 failures in 15 minutes block the username for 15 minutes. `false`: no limit. */
  @FalseOrNested(() => FailedLoginLimit, 'false or { maxFailures, windowMs, blockMs }')
  perUsername?: FailedLoginLimit | false = new FailedLoginLimit();

  /** Default: 20 failures in 15 minutes block the address for 15 minutes. `false`: no limit. */
  @FalseOrNested(() => FailedLoginLimitPerAddress, 'false or { maxFailures, windowMs, blockMs }')
  perIp?: FailedLoginLimit | false = new FailedLoginLimitPerAddress();

  /**
   * Where counters live: any `@nestjs/throttler` storage, so that replicas
   * can share them (for example a Redis one). Default: in memory, per process,
   * at most 100 000 counters (`BoundedThrottlerStorage`).
   */
  @Optional()
  @AsGiven()
  @Rule(
    'throttlerStorage',
    (value) => typeof (value as { increment?: unknown } | null)?.increment === 'function',
    'must be a @nestjs/throttler ThrottlerStorage',
  )
  storage?: ThrottlerStorage;
}

/** Past this, a delay of refusals would be a denial of service of its own. */
const MAX_FAILURE_DELAY_MS = 5_000;

/** How the login routes defend themselves. */
export class LoginOptions {
  /** Limits on failed logins per username and per client address (on by default); `false` turns them off. */
  @FalseOrNested(() => LoginLimitsOptions, 'false or { perUsername, perIp, storage }')
  limits?: LoginLimitsOptions | false = new LoginLimitsOptions();

  /**
   * A refused login is answered no sooner than this after it arrived, in ms
   * (default 250), and no sooner than nine in ten successful logins of the
   * last 15 minutes took, so that response times do not tell an unknown user
   * from a wrong password.
   */
  @Milliseconds({ max: MAX_FAILURE_DELAY_MS })
  minFailureMs?: number = 250;

  /**
   * The most a refusal waits, in ms (default 1000, or `minFailureMs` when
   * higher); also what it waits until five successful logins were seen.
   */
  @Optional()
  @Milliseconds({ max: MAX_FAILURE_DELAY_MS })
  maxFailureMs?: number;
}

/**
 * Options of {@link ApexAuthModule}, given to `forRoot()` or returned by the
 * `forRootAsync()` factory. Checked once, at startup: every faulty option,
 * unknown keys included, stops the app with an `ApexAuthOptionsError`.
 *
 * @typeParam T - the permissions class
 */
// `any` by default: the module's options token is not generic, and a typed schema must fit it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export class ApexAuthModuleOptions<T extends object = any> extends AuthApiOptions<T> {
  /**
   * The service's permission schema: a class with `@PermissionField()`
   * properties, or an array of permission definitions. Types
   * `@CurrentUser('metadata')` and is synced at startup.
   */
  declare permissions?: PermissionsSource<T>;

  /**
   * Verify access tokens locally with this key. Without it every new token is
   * validated by the auth-service (then cached).
   */
  @Optional()
  @Nested(() => JwtVerificationOptions, '{ secret }, { publicKey } or { jwksUri }')
  jwt?: JwtVerificationOptions;

  /**
   * This service's audiences. A token whose `aud` is present must name one of
   * them (RFC 7519 §4.1.3), in both verification modes. Default: the service
   * name, and tokens without `aud` pass; when set, `aud` is required too.
   */
  @Optional()
  @StringOrList()
  audience?: string | string[];

  /** Accepted `iss` values; when set, a token must carry one of them (both modes). */
  @Optional()
  @StringOrList()
  issuer?: string | string[];

  /**
   * Sync `permissions` to the auth-service at startup. Default: on when
   * `admin` and `permissions` are given.
   */
  @Optional()
  @BooleanOrNested(
    () => PermissionSyncOptions,
    'a boolean or { onError, retryForMs, onChanged, deleteRemoved, dryRun }',
  )
  syncPermissions?: boolean | PermissionSyncOptions;

  /** The cache of validated users; `false` asks the auth-service on every request. */
  @FalseOrNested(
    () => UserCacheOptions,
    'false or { ttlMs, maxEntries, staleIfErrorMs, maxBytes, knownUsers }',
  )
  cache?: UserCacheOptions | false = new UserCacheOptions();

  /**
   * Bounds the auth-service lookups that made-up tokens cost: per client
   * address, at most 60 new tokens a minute may end refused (default); past
   * it, `429`. `false` turns it off.
   */
  @FalseOrNested(() => LookupLimitOptions, 'false or { maxRefusedTokens, windowMs }')
  lookupLimit?: LookupLimitOptions | false = new LookupLimitOptions();

  /**
   * How IPv6 client addresses are grouped for the login limits, the lookup
   * limit and the circuit breaker: by this prefix length (default 64, from 1 to 128).
   */
  @WholeNumber({ min: 1, max: 128 })
  ipv6PrefixLength?: number = 64;

  /** Brute-force and enumeration defences of `POST /auth/login` and `/auth/login/code`. */
  @Nested(() => LoginOptions, '{ limits, minFailureMs, maxFailureMs }')
  login?: LoginOptions = new LoginOptions();

  /**
   * The name the module's Passport strategy is registered under (default
   * `'apex-auth'`), for `AuthGuard('apex-auth')` of `@nestjs/passport`. Two
   * registrations alive in one process under one name never share it: the
   * name is withdrawn from Passport (with a warning) until one of them stops.
   */
  @NonEmptyString()
  strategyName?: string = 'apex-auth';

  /**
   * Opts the app's microservice (rpc) transport in: returns the raw token a
   * message carries (with or without `Bearer `), or `undefined` when it has
   * none, e.g. `(context) => context.switchToRpc().getData()?.token`. Then
   * message handlers are guarded with the same verification and rules as
   * routes, and a refusal is an `RpcException`. Without it (the default),
   * every rpc message the guard sees is denied.
   */
  @Optional()
  @AsGiven()
  @Rule(
    'function',
    (value) => typeof value === 'function',
    'must be a function (context) => string | undefined',
  )
  rpcToken?: RpcTokenExtractor;

  /**
   * The query parameter of a WebSocket handshake that may carry the token, for
   * clients that can send neither a header nor socket.io's `auth` (a browser's
   * `WebSocket`). Off by default: URLs end up in access logs.
   */
  @Optional()
  @NonEmptyString()
  wsTokenQuery?: string;
  /**
   * Share state between replicas in Redis: validated users, refused tokens,
   * logouts, failed-login counters and the startup sync's lock. A `redis://`
   * or `rediss://` URL, ioredis options, or an ioredis client of the app's
   * (`ioredis` ≥ 5, an optional peer, loaded only when this is set). Absent:
   * everything stays in process.
   */
  @Optional()
  @Rule(
    'redis',
    isRedisConnection,
    'must be a redis:// or rediss:// URL, ioredis options or an ioredis client',
  )
  @AsGiven()
  redis?: RedisConnection;

  /** What every Redis key and channel of this module starts with (default `apex-auth:<serviceName>:`). */
  @Optional()
  @NonEmptyString()
  redisKeyPrefix?: string;
}

function isRedisConnection(value: unknown): boolean {
  if (typeof value === 'string') {
    try {
      const { protocol } = new URL(value);
      return protocol === 'redis:' || protocol === 'rediss:';
    } catch {
      return false;
    }
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Options that shape the module itself (which routes and guards exist, where it
 * is visible), so they are given next to `useFactory` in `forRootAsync()`, not by it.
 */
export interface ApexAuthModuleExtras {
  /** Register the module globally, so feature modules need not import it (default `true`). */
  isGlobal?: boolean;
  /** Guard every route of the app (`@Public()` opts out). Default `true`. */
  globalGuard?: boolean;
  /**
   * Where `AuthController` is mounted (default `{ path: 'auth' }`); `false`
   * mounts no routes (mount a subclass of your own instead). `codeExchange`
   * mounts `POST <path>/login/code`: by default when `forRoot` is given an
   * `oauthClient`; with `forRootAsync`, say `true` (and give it an `oauthClient`).
   */
  controller?: false | { path?: string; codeExchange?: boolean };
}

/** The keys of {@link ApexAuthModuleExtras}. */
export const EXTRA_KEYS = ['isGlobal', 'globalGuard', 'controller'] as const;
