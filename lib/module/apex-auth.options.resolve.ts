import type { LoggerService } from '@nestjs/common';
import { ApexAuthOptionsError } from '../errors/index.js';
import { JwksKeySource, type JwksFetcher } from '../jwt/jwks-key-source.js';
import type { JwtKeySource } from '../jwt/jwt-key-source.js';
import type { JwtVerificationOptions } from '../jwt/jwt-verification.options.js';
import type { LocalJwtClaims } from '../jwt/local-jwt.strategy.js';
import { StaticJwtKey } from '../jwt/static-jwt-key.js';
import { PermissionSchema } from '../permissions/index.js';
import type { FailedLoginLimit } from '../login-limits/login-limits.options.js';
import type { ApexAuthModuleOptions, ResolvedApexAuthOptions } from './apex-auth.options.js';

/** RFC 8725 allows leeway for clock skew, not for accepting stale tokens. */
export const MAX_CLOCK_TOLERANCE_SECONDS = 300;
const DEFAULT_SYNC_RETRY_MS = 30_000;
const DEFAULT_CACHE = {
  ttlMs: 60_000,
  maxEntries: 10_000,
  negativeTtlMs: 5_000,
  negativeMaxEntries: 1_000,
};
/** A refused token is remembered this long at most. */
const MAX_NEGATIVE_TTL_MS = 5_000;

/** What resolving the options needs from the module. */
export interface OptionsResolutionContext {
  /** Fetches a JWKS document from a URL (the module's HTTP client, with its timeout). */
  fetchJwks: (uri: URL) => Promise<unknown>;
  logger: LoggerService;
}

/**
 * Checks the module options once, at startup, and turns them into what the
 * module runs with: defaults applied, the permission schema built, keys
 * imported as `KeyObject`s. The caller's object is never modified.
 * (`baseUrl`, `serviceName`, `timeoutMs`, `admin` and `oauthClient` are
 * checked again, with the same messages, by the `AuthApi` they configure.)
 *
 * @throws ApexAuthOptionsError naming the first faulty option
 */
export function resolveApexAuthOptions(
  options: ApexAuthModuleOptions,
  context: OptionsResolutionContext,
): ResolvedApexAuthOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ApexAuthOptionsError('options', 'must be an object');
  }
  const schema =
    options.permissions === undefined ? undefined : PermissionSchema.from(options.permissions);
  return Object.freeze({
    baseUrl: options.baseUrl,
    serviceName: options.serviceName,
    schema,
    admin: options.admin,
    oauthClient: options.oauthClient,
    jwt: options.jwt === undefined ? undefined : resolveJwt(options.jwt, context),
    sync: resolveSync(options, schema),
    timeoutMs: options.timeoutMs ?? 5000,
    cache: resolveCache(options.cache),
    circuitBreaker: options.circuitBreaker,
    login: resolveLogin(options.login),
  });
}

function resolveJwt(
  jwt: JwtVerificationOptions,
  context: OptionsResolutionContext,
): { keys: JwtKeySource; claims: LocalJwtClaims } {
  if (typeof jwt !== 'object' || jwt === null) {
    throw new ApexAuthOptionsError('jwt', 'must be an object');
  }
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
  else keys = new JwksKeySource(jwksFetcher(jwt.jwksUri, context), jwt.algorithms, context.logger);
  return {
    keys,
    claims: {
      issuer: checkClaim(jwt.issuer, 'jwt.issuer'),
      audience: checkClaim(jwt.audience, 'jwt.audience'),
      clockToleranceSeconds: checkTolerance(jwt.clockToleranceSeconds),
    },
  };
}

function jwksFetcher(uri: unknown, context: OptionsResolutionContext): JwksFetcher {
  let url: URL;
  try {
    url = new URL(uri as string);
  } catch {
    throw new ApexAuthOptionsError('jwt.jwksUri', 'must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ApexAuthOptionsError('jwt.jwksUri', 'must be an absolute http(s) URL');
  }
  return () => context.fetchJwks(url);
}

function checkClaim(value: unknown, option: string): string | string[] | undefined {
  if (value === undefined) return undefined;
  const values = Array.isArray(value) ? value : [value];
  if (values.length === 0 || values.some((v) => typeof v !== 'string' || v === '')) {
    throw new ApexAuthOptionsError(option, 'must be a non-empty string or array of them');
  }
  return value as string | string[];
}

function checkTolerance(value: unknown): number {
  if (value === undefined) return 0;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    value > MAX_CLOCK_TOLERANCE_SECONDS
  ) {
    throw new ApexAuthOptionsError(
      'jwt.clockToleranceSeconds',
      `must be a number of seconds from 0 to ${MAX_CLOCK_TOLERANCE_SECONDS}`,
    );
  }
  return value;
}

function resolveSync(
  options: ApexAuthModuleOptions,
  schema: PermissionSchema | undefined,
): ResolvedApexAuthOptions['sync'] {
  const setting = options.syncPermissions ?? (options.admin !== undefined && schema !== undefined);
  if (setting === false) return false;
  if (setting !== true && (typeof setting !== 'object' || setting === null)) {
    throw new ApexAuthOptionsError(
      'syncPermissions',
      'must be a boolean or { onError, retryForMs }',
    );
  }
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
  const { onError = 'fail', retryForMs = DEFAULT_SYNC_RETRY_MS } = setting === true ? {} : setting;
  if (onError !== 'fail' && onError !== 'warn') {
    throw new ApexAuthOptionsError('syncPermissions.onError', "must be 'fail' or 'warn'");
  }
  if (typeof retryForMs !== 'number' || !Number.isFinite(retryForMs) || retryForMs < 0) {
    throw new ApexAuthOptionsError(
      'syncPermissions.retryForMs',
      'must be a number of milliseconds ≥ 0',
    );
  }
  return Object.freeze({ onError, retryForMs });
}

function resolveCache(cache: ApexAuthModuleOptions['cache']): ResolvedApexAuthOptions['cache'] {
  if (cache === false) return false;
  if (cache === undefined) return DEFAULT_CACHE;
  if (typeof cache !== 'object' || cache === null) {
    throw new ApexAuthOptionsError('cache', 'must be false or { ttlMs, maxEntries }');
  }
  const ttlMs = cache.ttlMs ?? DEFAULT_CACHE.ttlMs;
  const maxEntries = cache.maxEntries ?? DEFAULT_CACHE.maxEntries;
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new ApexAuthOptionsError('cache.ttlMs', 'must be a number of milliseconds above 0');
  }
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new ApexAuthOptionsError('cache.maxEntries', 'must be a whole number ≥ 1');
  }
  return {
    ttlMs,
    maxEntries,
    negativeTtlMs: Math.min(MAX_NEGATIVE_TTL_MS, ttlMs),
    negativeMaxEntries: Math.min(DEFAULT_CACHE.negativeMaxEntries, maxEntries),
  };
}

const FIFTEEN_MINUTES = 15 * 60_000;
const DEFAULT_LOGIN_LIMITS = {
  perUsername: { maxFailures: 5, windowMs: FIFTEEN_MINUTES, blockMs: FIFTEEN_MINUTES },
  perIp: { maxFailures: 20, windowMs: FIFTEEN_MINUTES, blockMs: FIFTEEN_MINUTES },
};
const DEFAULT_MIN_FAILURE_MS = 250;
/** Past this, a floor would be a denial of service of its own. */
const MAX_MIN_FAILURE_MS = 5_000;

function resolveLogin(login: ApexAuthModuleOptions['login']): ResolvedApexAuthOptions['login'] {
  if (login !== undefined && (typeof login !== 'object' || login === null)) {
    throw new ApexAuthOptionsError('login', 'must be an object');
  }
  const { limits = {}, minFailureMs = DEFAULT_MIN_FAILURE_MS } = login ?? {};
  if (
    typeof minFailureMs !== 'number' ||
    !Number.isFinite(minFailureMs) ||
    minFailureMs < 0 ||
    minFailureMs > MAX_MIN_FAILURE_MS
  ) {
    throw new ApexAuthOptionsError(
      'login.minFailureMs',
      `must be a number of milliseconds from 0 to ${MAX_MIN_FAILURE_MS}`,
    );
  }
  if (limits === false) return { limits: false, minFailureMs };
  if (typeof limits !== 'object' || limits === null) {
    throw new ApexAuthOptionsError(
      'login.limits',
      'must be false or { perUsername, perIp, storage }',
    );
  }
  const storage = limits.storage;
  if (
    storage !== undefined &&
    typeof (storage as { increment?: unknown }).increment !== 'function'
  ) {
    throw new ApexAuthOptionsError(
      'login.limits.storage',
      'must be a @nestjs/throttler ThrottlerStorage',
    );
  }
  return {
    limits: {
      perUsername: resolveLimit(
        limits.perUsername,
        DEFAULT_LOGIN_LIMITS.perUsername,
        'login.limits.perUsername',
      ),
      perIp: resolveLimit(limits.perIp, DEFAULT_LOGIN_LIMITS.perIp, 'login.limits.perIp'),
      storage,
    },
    minFailureMs,
  };
}

function resolveLimit(
  limit: FailedLoginLimit | false | undefined,
  defaults: FailedLoginLimit,
  option: string,
): FailedLoginLimit | false {
  if (limit === false) return false;
  if (limit === undefined) return defaults;
  if (typeof limit !== 'object' || limit === null)
    throw new ApexAuthOptionsError(option, 'must be false or { maxFailures, windowMs, blockMs }');
  const resolved = { ...defaults, ...limit };
  if (!Number.isSafeInteger(resolved.maxFailures) || resolved.maxFailures < 1) {
    throw new ApexAuthOptionsError(`${option}.maxFailures`, 'must be a whole number ≥ 1');
  }
  for (const key of ['windowMs', 'blockMs'] as const) {
    if (
      typeof resolved[key] !== 'number' ||
      !Number.isFinite(resolved[key]) ||
      resolved[key] <= 0
    ) {
      throw new ApexAuthOptionsError(
        `${option}.${key}`,
        'must be a number of milliseconds above 0',
      );
    }
  }
  return resolved;
}
