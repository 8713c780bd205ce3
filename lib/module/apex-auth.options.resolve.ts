import type { LoggerService } from '@nestjs/common';
import { DEFAULT_IPV6_PREFIX_LENGTH } from '../auth/client-address.js';
import { checkCircuitBreaker } from '../client/auth-api.options.check.js';
import { ApexAuthOptionsError } from '../errors/index.js';
import { assertObjectOption, checkNumberOption } from '../errors/option-checks.js';
import { JwksKeySource, type JwksFetcher } from '../jwt/jwks-key-source.js';
import type { JwtKeySource } from '../jwt/jwt-key-source.js';
import type { JwtVerificationOptions } from '../jwt/jwt-verification.options.js';
import { StaticJwtKey } from '../jwt/static-jwt-key.js';
import type { TokenClaimsPolicy } from '../jwt/token-screen.js';
import { checkSyncableSchema } from '../client/permission-plan.js';
import { isChangedPermissionPolicy } from '../client/permission-sync.js';
import { PermissionSchema } from '../permissions/index.js';
import { resolveLoginOptions } from '../login-limits/login-options.resolve.js';
import type { ApexAuthModuleOptions, ResolvedApexAuthOptions } from './apex-auth.options.js';

/** RFC 8725 allows leeway for clock skew, not for accepting stale tokens. */
export const MAX_CLOCK_TOLERANCE_SECONDS = 300;
const DEFAULT_SYNC_RETRY_MS = 30_000;
const DEFAULT_CACHE = {
  ttlMs: 60_000,
  maxEntries: 10_000,
  negativeTtlMs: 5_000,
  negativeMaxEntries: 1_000,
  staleIfErrorMs: 300_000,
};
const DEFAULT_LOOKUP_LIMIT = { maxRefusedTokens: 60, windowMs: 60_000 };
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
  assertObjectOption(options, 'options');
  const schema =
    options.permissions === undefined ? undefined : PermissionSchema.from(options.permissions);
  const jwt = options.jwt === undefined ? undefined : resolveJwt(options.jwt, context);
  return Object.freeze({
    baseUrl: options.baseUrl,
    serviceName: options.serviceName,
    schema,
    admin: options.admin,
    oauthClient: options.oauthClient,
    jwt,
    claims: resolveClaims(options, jwt?.clockToleranceSeconds ?? 0),
    sync: resolveSync(options, schema),
    timeoutMs: options.timeoutMs ?? 5000,
    cache: resolveCache(options.cache),
    lookupLimit: resolveLookupLimit(options.lookupLimit),
    circuitBreaker: checkCircuitBreaker(options.circuitBreaker),
    ipv6PrefixLength: checkNumberOption(
      options.ipv6PrefixLength ?? DEFAULT_IPV6_PREFIX_LENGTH,
      'ipv6PrefixLength',
      { min: 1, max: 128, integer: true },
    ),
    login: resolveLoginOptions(options.login),
  });
}

/** The claims rules of both modes; the audience is this service's name unless configured. */
function resolveClaims(
  options: ApexAuthModuleOptions,
  clockToleranceSeconds: number,
): TokenClaimsPolicy {
  const audiences = checkClaim(options.audience, 'audience');
  const issuers = checkClaim(options.issuer, 'issuer');
  return Object.freeze({
    audiences: audiences ?? [options.serviceName],
    audienceRequired: audiences !== undefined,
    ...(issuers === undefined ? {} : { issuers }),
    clockToleranceSeconds,
  });
}

function resolveJwt(
  jwt: JwtVerificationOptions,
  context: OptionsResolutionContext,
): { keys: JwtKeySource; keyOption: string; clockToleranceSeconds: number } {
  assertObjectOption(jwt, 'jwt');
  for (const moved of ['audience', 'issuer'] as const) {
    if (Object.hasOwn(jwt, moved)) {
      throw new ApexAuthOptionsError(
        `jwt.${moved}`,
        `has moved: use the top-level \`${moved}\` option, which applies in both verification modes`,
      );
    }
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
    keyOption: `jwt.${sources[0]}`,
    clockToleranceSeconds: checkTolerance(jwt.clockToleranceSeconds),
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

function checkClaim(value: unknown, option: string): string[] | undefined {
  if (value === undefined) return undefined;
  const values: unknown[] = Array.isArray(value) ? value : [value];
  if (values.length === 0 || values.some((v) => typeof v !== 'string' || v === '')) {
    throw new ApexAuthOptionsError(option, 'must be a non-empty string or array of them');
  }
  return values as string[];
}

function checkTolerance(value: unknown): number {
  if (value === undefined) return 0;
  return checkNumberOption(value, 'jwt.clockToleranceSeconds', {
    min: 0,
    max: MAX_CLOCK_TOLERANCE_SECONDS,
    unit: 'seconds',
  });
}

function resolveSync(
  options: ApexAuthModuleOptions,
  schema: PermissionSchema | undefined,
): ResolvedApexAuthOptions['sync'] {
  const setting = options.syncPermissions ?? (options.admin !== undefined && schema !== undefined);
  if (setting === false) return false;
  if (setting !== true) {
    assertObjectOption(
      setting,
      'syncPermissions',
      'a boolean or { onError, retryForMs, onChanged, deleteRemoved, dryRun }',
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
  checkSyncableSchema(schema.definitions, 'permissions');
  const {
    onError = 'fail',
    retryForMs = DEFAULT_SYNC_RETRY_MS,
    onChanged = 'keep',
    deleteRemoved = true,
    dryRun = false,
  } = setting === true ? {} : setting;
  if (onError !== 'fail' && onError !== 'warn') {
    throw new ApexAuthOptionsError('syncPermissions.onError', "must be 'fail' or 'warn'");
  }
  if (!isChangedPermissionPolicy(onChanged)) {
    throw new ApexAuthOptionsError(
      'syncPermissions.onChanged',
      "must be 'keep', 'recreate' or 'fail'",
    );
  }
  return Object.freeze({
    onError,
    retryForMs: checkNumberOption(retryForMs, 'syncPermissions.retryForMs', {
      min: 0,
      unit: 'milliseconds',
    }),
    onChanged,
    deleteRemoved: checkBooleanOption(deleteRemoved, 'syncPermissions.deleteRemoved'),
    dryRun: checkBooleanOption(dryRun, 'syncPermissions.dryRun'),
  });
}

function checkBooleanOption(value: unknown, option: string): boolean {
  if (typeof value !== 'boolean') throw new ApexAuthOptionsError(option, 'must be true or false');
  return value;
}

function resolveCache(cache: ApexAuthModuleOptions['cache']): ResolvedApexAuthOptions['cache'] {
  if (cache === false) return false;
  if (cache === undefined) return DEFAULT_CACHE;
  assertObjectOption(cache, 'cache', 'false or { ttlMs, maxEntries }');
  const ttlMs = checkNumberOption(cache.ttlMs ?? DEFAULT_CACHE.ttlMs, 'cache.ttlMs', {
    min: 0,
    aboveMin: true,
    unit: 'milliseconds',
  });
  const maxEntries = checkNumberOption(
    cache.maxEntries ?? DEFAULT_CACHE.maxEntries,
    'cache.maxEntries',
    {
      min: 1,
      integer: true,
    },
  );
  const staleIfErrorMs = checkNumberOption(
    cache.staleIfErrorMs ?? DEFAULT_CACHE.staleIfErrorMs,
    'cache.staleIfErrorMs',
    { min: 0, unit: 'milliseconds' },
  );
  return {
    ttlMs,
    maxEntries,
    negativeTtlMs: Math.min(MAX_NEGATIVE_TTL_MS, ttlMs),
    negativeMaxEntries: Math.min(DEFAULT_CACHE.negativeMaxEntries, maxEntries),
    staleIfErrorMs,
  };
}

function resolveLookupLimit(
  limit: ApexAuthModuleOptions['lookupLimit'],
): ResolvedApexAuthOptions['lookupLimit'] {
  if (limit === false) return false;
  if (limit === undefined) return DEFAULT_LOOKUP_LIMIT;
  assertObjectOption(limit, 'lookupLimit', 'false or { maxRefusedTokens, windowMs }');
  return {
    maxRefusedTokens: checkNumberOption(
      limit.maxRefusedTokens ?? DEFAULT_LOOKUP_LIMIT.maxRefusedTokens,
      'lookupLimit.maxRefusedTokens',
      { min: 1, integer: true },
    ),
    windowMs: checkNumberOption(
      limit.windowMs ?? DEFAULT_LOOKUP_LIMIT.windowMs,
      'lookupLimit.windowMs',
      {
        min: 0,
        aboveMin: true,
        unit: 'milliseconds',
      },
    ),
  };
}
