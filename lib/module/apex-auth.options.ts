import type {
  AdminCredentials,
  CircuitBreakerOptions,
  OAuthClientCredentials,
} from '../client/index.js';
import type { UserCacheSettings } from '../auth/authenticated-user.resolver.js';
import type { LookupLimit } from '../auth/lookup-budget.js';
import type { CircuitBreakerSettings } from '../client/circuit-breaker.js';
import type { JwtVerificationOptions } from '../jwt/jwt-verification.options.js';
import type { LocalJwtSettings } from '../jwt/local-jwt.strategy.js';
import type { TokenClaimsPolicy } from '../jwt/token-screen.js';
import type { LoginLimitSettings } from '../login-limits/login-attempt.limiter.js';
import type { LoginLimitsOptions } from '../login-limits/login-limits.options.js';
import type { PermissionSchema, PermissionsSource } from '../permissions/index.js';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ChangedPermissionPolicy } from '../client/permission-sync.js';

/** How the permission sync at startup runs, and what it does when it cannot complete. */
export interface PermissionSyncOptions {
  /** `'fail'` (default): the app does not start. `'warn'`: log it and start anyway. */
  onError?: 'fail' | 'warn';
  /** How long to keep retrying an unavailable auth-service, in ms (default 30000). */
  retryForMs?: number;
  /**
   * A changed permission when the auth-service has no in-place update:
   * `'keep'` (default) leaves it as it is upstream and logs a warning with
   * each differing field; `'recreate'` deletes and creates it, dropping every
   * user's value of it; `'fail'` stops the sync.
   */
  onChanged?: ChangedPermissionPolicy;
  /**
   * Delete permissions upstream that the schema no longer has (default
   * `true`, as apexauthlib did). With rolling deploys set it to `false` and
   * prune from the pipeline with `apex-auth permissions sync --prune`: an old
   * replica restarting mid-rollout would otherwise delete what the new version added.
   */
  deleteRemoved?: boolean;
  /** Log the plan (what the sync would change) and write nothing (default `false`). */
  dryRun?: boolean;
}

/** The cache of validated users (per token). */
export interface UserCacheOptions {
  /** How long a validated user is reused, in ms (default 60000; never past the token's `exp`). */
  ttlMs?: number;
  /** Most users kept (default 10000; the least recently used go first). */
  maxEntries?: number;
  /**
   * While the auth-service is unavailable, users validated before are still
   * served this long past `ttlMs`, in ms (default 300000; never past the
   * token's `exp`; `0` turns it off). A token revoked meanwhile keeps working
   * that long, but only while the auth-service cannot be asked.
   */
  staleIfErrorMs?: number;
}

/** How the login routes defend themselves. */
export interface LoginOptions {
  /** Limits on failed logins per username and per client address (on by default); `false` turns them off. */
  limits?: LoginLimitsOptions | false;
  /**
   * A refused login is answered no sooner than this after it arrived, in ms
   * (default 250), and no sooner than the slowest login the auth-service
   * answered in the last 15 minutes, so that response times do not tell an
   * unknown user from a wrong password.
   */
  minFailureMs?: number;
  /** The most a refusal is delayed by what was learned of the auth-service, in ms (default 2000). */
  maxFailureMs?: number;
}

/** How many new tokens of one client address the auth-service may refuse. */
export interface LookupLimitOptions {
  /**
   * New tokens whose lookup ends refused by the auth-service, per client
   * address and window (default 60); past it, new tokens from that address get
   * `429` without a lookup. Valid tokens cost nothing.
   */
  maxRefusedTokens?: number;
  /** The window, in ms (default 60000). */
  windowMs?: number;
}

/**
 * Options of {@link ApexAuthModule}, given to `forRoot()` or returned by the
 * `forRootAsync()` factory.
 *
 * @typeParam T - the permissions class
 */
// `any` by default: the module's options token is not generic, and a typed schema must fit it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface ApexAuthModuleOptions<T extends object = any> {
  /** Absolute http(s) URL of the auth-service, e.g. `http://auth-service:8000`. */
  baseUrl: string;
  /** This service's name at the auth-service. */
  serviceName: string;
  /**
   * The service's permission schema: a class with `@PermissionField()`
   * properties, or an array of permission definitions. Types
   * `@CurrentUser('metadata')` and is synced at startup.
   */
  permissions?: PermissionsSource<T>;
  /** How the module gets an admin token for the sync and `authApi.asAdmin()`. */
  admin?: AdminCredentials;
  /** This service's OAuth client, for `POST /auth/login/code`. */
  oauthClient?: OAuthClientCredentials;
  /**
   * Verify access tokens locally with this key. Without it every new token is
   * validated by the auth-service (then cached).
   */
  jwt?: JwtVerificationOptions;
  /**
   * This service's audiences. A token whose `aud` is present must name one of
   * them (RFC 7519 §4.1.3), in both verification modes. Default: the service
   * name, and tokens without `aud` pass; when set, `aud` is required too.
   */
  audience?: string | string[];
  /** Accepted `iss` values; when set, a token must carry one of them (both modes). */
  issuer?: string | string[];
  /**
   * Sync `permissions` to the auth-service at startup. Default: on when
   * `admin` and `permissions` are given.
   */
  syncPermissions?: boolean | PermissionSyncOptions;
  /** Time budget of one auth-service call in ms, retry included (default 5000). */
  timeoutMs?: number;
  /** The cache of validated users; `false` asks the auth-service on every request. */
  cache?: false | UserCacheOptions;
  /**
   * Bounds the auth-service lookups that made-up tokens cost: per client
   * address, at most 60 new tokens a minute may end refused (default); past
   * it, `429`. `false` turns it off.
   */
  lookupLimit?: false | LookupLimitOptions;
  /**
   * Fail fast while the auth-service keeps failing: `503` at once instead of
   * waiting out timeouts; cached tokens keep working. Default on; `false` turns it off.
   */
  circuitBreaker?: CircuitBreakerOptions | false;
  /**
   * How IPv6 client addresses are grouped for the login limits, the lookup
   * limit and the circuit breaker: by this prefix length (default 64, from 1 to 128).
   */
  ipv6PrefixLength?: number;
  /** Brute-force and enumeration defences of `POST /auth/login` and `/auth/login/code`. */
  login?: LoginOptions;
}

/**
 * Options that shape the module itself (which routes and guards exist), so
 * they are given next to `useFactory` in `forRootAsync()`, not by it.
 */
export interface ApexAuthModuleExtras {
  /** Guard every route of the app (`@Public()` opts out). Default `true`. */
  globalGuard?: boolean;
  /** Where `AuthController` is mounted (default `{ path: 'auth' }`); `false` mounts no routes. */
  controller?: false | { path?: string };
}

/** The options the module runs with: checked, defaults applied, keys imported. */
export interface ResolvedApexAuthOptions<T extends object = object> {
  readonly baseUrl: string;
  readonly serviceName: string;
  readonly schema?: PermissionSchema<T>;
  readonly admin?: AdminCredentials;
  readonly oauthClient?: OAuthClientCredentials;
  readonly jwt?: Readonly<Omit<LocalJwtSettings, 'watch'> & { keyOption: string }>;
  readonly claims: TokenClaimsPolicy;
  readonly sync: false | Readonly<Required<PermissionSyncOptions>>;
  readonly timeoutMs: number;
  readonly cache: false | Readonly<UserCacheSettings>;
  readonly lookupLimit: false | Readonly<LookupLimit>;
  readonly circuitBreaker: CircuitBreakerSettings | false;
  readonly ipv6PrefixLength: number;
  readonly login: {
    readonly limits: false | (LoginLimitSettings & { readonly storage?: ThrottlerStorage });
    readonly minFailureMs: number;
    readonly maxFailureMs: number;
  };
}
