import type { LoggerService } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { UserCacheSettings } from '../verification/token-verifier.js';
import type { LookupLimit } from '../verification/lookup-budget.js';
import { authApiSettings, type AuthApiSettings } from '../client/auth-api.settings.js';
import { checkSyncableSchema } from '../client/permission-plan.js';
import { ApexAuthOptionsError, type OptionProblem } from '../errors/index.js';
import { JwksKeySource, type JwksFetcher } from '../verification/jwks-key-source.js';
import { type JwtKeySource, StaticJwtKey } from '../verification/jwt-keys.js';
import type { TokenClaimsPolicy } from '../verification/token-screen.js';
import type { LoginLimitSettings } from '../login/login-attempt.limiter.js';
import type { RedisConnection } from '../redis/redis-source.js';
import { validateOptions } from '../options/validate-options.js';
import { PermissionSchema } from '../permissions/index.js';
import type { RpcTokenExtractor } from '../transports/rpc-caller.js';
import {
  ApexAuthModuleOptions,
  EXTRA_KEYS,
  PermissionSyncOptions,
  type FailedLoginLimit,
  type JwtVerificationOptions,
} from './apex-auth.options.js';

/** Refused tokens are remembered this long at most, and this many. */
const MAX_NEGATIVE_TTL_MS = 5_000;
const MAX_NEGATIVE_ENTRIES = 1_000;
/** The delay of refusals learned from the auth-service is capped here, unless the floor is higher. */
const DEFAULT_MAX_FAILURE_MS = 1_000;

/** What the module runs with: its options checked once, defaults applied, keys imported. */
export interface ApexAuthSettings<T extends object = object> {
  /** What its `AuthApi` runs with (base URL, service name, credentials, timeout, breaker). */
  readonly api: AuthApiSettings<T>;
  readonly serviceName: string;
  readonly schema?: PermissionSchema<T>;
  readonly jwt?: {
    readonly keys: JwtKeySource;
    /** The option that holds the key, for messages (`jwt.secret`). */
    readonly keyOption: string;
    readonly clockToleranceSeconds: number;
  };
  readonly claims: TokenClaimsPolicy;
  readonly sync: false | Readonly<Required<PermissionSyncOptions>>;
  readonly cache: false | Readonly<UserCacheSettings>;
  readonly lookupLimit: false | Readonly<LookupLimit>;
  readonly ipv6PrefixLength: number;
  readonly strategyName: string;
  /** State shared by replicas; `false`: everything in process. */
  readonly redis: false | { readonly connection: RedisConnection; readonly keyPrefix: string };
  /** The app's rpc token extractor; absent, rpc contexts are denied. */
  readonly rpcToken?: RpcTokenExtractor;
  /** The handshake query parameter that may carry a WebSocket client's token; absent, none does. */
  readonly wsTokenQuery?: string;
  readonly login: {
    readonly limits: false | (LoginLimitSettings & { readonly storage?: ThrottlerStorage });
    readonly minFailureMs: number;
    readonly maxFailureMs: number;
  };
}

/** What making the settings needs from the module. */
export interface SettingsContext {
  /** The fetcher of the JWKS document (the module's HTTP client, with the client's timeout and circuits). */
  jwksFetcher: (jwksUri: URL, api: AuthApiSettings<object>) => JwksFetcher;
  logger: LoggerService;
  /** What was wrong with the extras, reported with the options' problems. */
  extrasProblems?: readonly OptionProblem[];
}

/**
 * The options checked by their class, reported in one error with what was
 * wrong with the extras; an extra among the options is named as one.
 */
function validModuleOptions(
  options: unknown,
  extrasProblems: readonly OptionProblem[] = [],
): ApexAuthModuleOptions {
  let problems: readonly OptionProblem[] = [];
  let valid: ApexAuthModuleOptions | undefined;
  try {
    valid = validateOptions(ApexAuthModuleOptions, options);
  } catch (error) {
    if (!(error instanceof ApexAuthOptionsError)) throw error;
    problems = error.problems;
  }
  const extras: readonly string[] = EXTRA_KEYS;
  const reported = new Set(extrasProblems.map(({ option }) => option));
  const all = [
    ...extrasProblems,
    // A misspelt extra was named by the extras' check already, with the likely one.
    ...problems
      .filter(({ option }) => !reported.has(option))
      .map((each) =>
        // Returned by a forRootAsync factory, it comes too late: the module's shape is decided before.
        extras.includes(each.option)
          ? {
              option: each.option,
              problem:
                'shapes the module, so it goes next to useFactory in forRootAsync(), not in what the factory returns',
            }
          : each,
      ),
  ];
  if (all.length > 0 || valid === undefined) throw new ApexAuthOptionsError(all);
  return valid;
}

/**
 * Checks the module options once, at startup, and turns them into what the
 * module runs with. The caller's object is never modified.
 *
 * @throws ApexAuthOptionsError naming every faulty option the rules find (or
 *   the first one the checks that need several options at once find)
 */
export function apexAuthSettings(options: unknown, context: SettingsContext): ApexAuthSettings {
  const valid = validModuleOptions(options, context.extrasProblems);
  const api = authApiSettings<object>(valid, true);
  const schema =
    valid.permissions === undefined ? undefined : PermissionSchema.from(valid.permissions);
  const jwt = valid.jwt === undefined ? undefined : jwtSettings(valid.jwt, api, context);
  const login = valid.login!;
  const limits = login.limits!;
  const loginSettings: ApexAuthSettings['login'] = {
    limits:
      limits === false
        ? false
        : {
            perUsername: limitOf(limits.perUsername!),
            perIp: limitOf(limits.perIp!),
            ...(limits.storage === undefined ? {} : { storage: limits.storage }),
          },
    minFailureMs: login.minFailureMs!,
    maxFailureMs: refusalCap(login.minFailureMs!, login.maxFailureMs),
  };
  return Object.freeze({
    api,
    serviceName: api.serviceName,
    schema,
    jwt,
    claims: claimsPolicy(valid, jwt?.clockToleranceSeconds ?? 0),
    sync: syncSettings(valid, schema),
    cache:
      valid.cache === false
        ? false
        : {
            ...(valid.cache as Required<NonNullable<typeof valid.cache>>),
            negativeTtlMs: Math.min(MAX_NEGATIVE_TTL_MS, valid.cache!.ttlMs!),
            negativeMaxEntries: Math.min(MAX_NEGATIVE_ENTRIES, valid.cache!.maxEntries!),
          },
    lookupLimit:
      valid.lookupLimit === false ? false : { ...(valid.lookupLimit as Required<LookupLimit>) },
    ipv6PrefixLength: valid.ipv6PrefixLength!,
    strategyName: valid.strategyName!,
    redis:
      valid.redis === undefined
        ? false
        : {
            connection: valid.redis,
            keyPrefix: valid.redisKeyPrefix ?? `apex-auth:${api.serviceName}:`,
          },
    ...(valid.rpcToken === undefined ? {} : { rpcToken: valid.rpcToken }),
    ...(valid.wsTokenQuery === undefined ? {} : { wsTokenQuery: valid.wsTokenQuery }),
    login: loginSettings,
  });
}

function limitOf(limit: FailedLoginLimit | false): Required<FailedLoginLimit> | false {
  return limit === false ? false : ({ ...limit } as Required<FailedLoginLimit>);
}

function refusalCap(minFailureMs: number, maxFailureMs: number | undefined): number {
  if (maxFailureMs === undefined) return Math.max(DEFAULT_MAX_FAILURE_MS, minFailureMs);
  if (maxFailureMs < minFailureMs) {
    throw new ApexAuthOptionsError('login.maxFailureMs', 'must be at least login.minFailureMs');
  }
  return maxFailureMs;
}

/** The claims rules of both modes; the audience is this service's name unless configured. */
function claimsPolicy(
  options: ApexAuthModuleOptions,
  clockToleranceSeconds: number,
): TokenClaimsPolicy {
  const list = (value: string | string[] | undefined): string[] | undefined =>
    value === undefined ? undefined : Array.isArray(value) ? [...value] : [value];
  const audiences = list(options.audience);
  const issuers = list(options.issuer);
  return Object.freeze({
    audiences: audiences ?? [options.serviceName],
    audienceRequired: audiences !== undefined,
    ...(issuers === undefined ? {} : { issuers }),
    clockToleranceSeconds,
  });
}

function jwtSettings(
  jwt: JwtVerificationOptions,
  api: AuthApiSettings<object>,
  context: SettingsContext,
): NonNullable<ApexAuthSettings['jwt']> {
  const sources = (['secret', 'publicKey', 'jwksUri'] as const).filter(
    (key) => jwt[key] !== undefined,
  );
  if (sources.length !== 1) {
    throw new ApexAuthOptionsError(
      'jwt',
      sources.length === 0
        ? 'needs one key source: secret, publicKey or jwksUri'
        : `takes one key source, not ${sources.join(' and ')}: an HMAC secret and a public key at once would let either kind of token in`,
    );
  }
  let keys: JwtKeySource;
  if (jwt.secret !== undefined) keys = StaticJwtKey.fromSecret(jwt.secret, jwt.algorithms);
  else if (jwt.publicKey !== undefined)
    keys = StaticJwtKey.fromPublicKeyPem(jwt.publicKey, jwt.algorithms);
  else {
    const url = jwksUrl(jwt.jwksUri!);
    keys = new JwksKeySource(url, context.jwksFetcher(url, api), jwt.algorithms, context.logger);
  }
  return {
    keys,
    keyOption: `jwt.${sources[0]}`,
    clockToleranceSeconds: jwt.clockToleranceSeconds!,
  };
}

function jwksUrl(uri: string): URL {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new ApexAuthOptionsError('jwt.jwksUri', 'must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ApexAuthOptionsError('jwt.jwksUri', 'must be an absolute http(s) URL');
  }
  return url;
}

function syncSettings(
  options: ApexAuthModuleOptions,
  schema: PermissionSchema | undefined,
): ApexAuthSettings['sync'] {
  const setting = options.syncPermissions ?? (options.admin !== undefined && schema !== undefined);
  if (setting === false) return false;
  if (schema === undefined) {
    throw new ApexAuthOptionsError(
      'syncPermissions',
      'is on, but there is no `permissions` schema to sync',
    );
  }
  if (options.admin === undefined) {
    throw new ApexAuthOptionsError(
      'syncPermissions',
      'is on, but `admin` is not set: the sync needs an admin token',
    );
  }
  checkSyncableSchema(schema.definitions, 'permissions');
  // `true` is every default: the class's own.
  const { onError, retryForMs, onChanged, deleteRemoved, dryRun } =
    setting === true ? new PermissionSyncOptions() : setting;
  return Object.freeze({
    onError,
    retryForMs,
    onChanged,
    deleteRemoved,
    dryRun,
  } as Required<PermissionSyncOptions>);
}

/** Injection token of the settings the module runs with (its options checked, keys imported). */
export const APEX_AUTH_SETTINGS = Symbol('apex-auth:settings');
/** Injection token of the `@nestjs/throttler` storage that counts failed logins. */
export const APEX_AUTH_LOGIN_STORAGE = Symbol('apex-auth:login-storage');
/** Injection token of the connection to Redis (`undefined` without the `redis` option). */
export const APEX_AUTH_REDIS = Symbol('apex-auth:redis');
/** Injection token of the lock that lets one replica sync at a time (`undefined` without Redis). */
export const APEX_AUTH_SYNC_LOCK = Symbol('apex-auth:sync-lock');
