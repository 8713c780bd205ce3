import { ApexAuthOptionsError } from '../errors/index.js';
import { assertObjectOption, checkNumberOption } from '../errors/option-checks.js';
import { PermissionSchema } from '../permissions/index.js';
import type {
  AdminCredentials,
  AuthApiOptions,
  OAuthClientCredentials,
} from './auth-api.options.js';
import { plainMetadata, type MetadataMapper } from './auth-service.wire.js';
import type { CircuitBreakerSettings } from './circuit-breaker.js';

/** {@link AuthApiOptions} once checked, with defaults applied and copies of the credentials. */
export interface CheckedAuthApiOptions<T extends object> {
  /** Without a trailing slash. */
  baseUrl: string;
  serviceName: string;
  timeoutMs: number;
  oauthClient?: OAuthClientCredentials;
  admin?: AdminCredentials;
  metadata: MetadataMapper<T>;
  circuitBreaker: CircuitBreakerSettings | false;
}

const DEFAULT_TIMEOUT_MS = 5000;
const MAX_TIMEOUT_MS = 120_000;

/**
 * Checks the options once, at construction, so that a misconfiguration fails at
 * startup with the option's name rather than on the first request. Messages
 * never quote a value: it may be a secret (or a URL holding one).
 *
 * @throws ApexAuthOptionsError naming the first faulty option
 */
export function checkAuthApiOptions<T extends object>(
  options: AuthApiOptions<T>,
): CheckedAuthApiOptions<T> {
  assertObjectOption(options, 'options');
  const checked: CheckedAuthApiOptions<T> = {
    baseUrl: checkBaseUrl(options.baseUrl),
    serviceName: checkServiceName(options.serviceName),
    timeoutMs: checkTimeout(options.timeoutMs),
    metadata: metadataMapper(options.permissions),
    circuitBreaker: checkCircuitBreaker(options.circuitBreaker),
  };
  if (options.oauthClient !== undefined)
    checked.oauthClient = checkOAuthClient(options.oauthClient);
  if (options.admin !== undefined) checked.admin = checkAdmin(options.admin);
  return checked;
}

function checkBaseUrl(value: unknown): string {
  const problem = 'must be an absolute http(s) URL, e.g. http://auth-service:8000';
  if (typeof value !== 'string') throw new ApexAuthOptionsError('baseUrl', problem);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ApexAuthOptionsError('baseUrl', problem);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ApexAuthOptionsError('baseUrl', problem);
  }
  if (url.username !== '' || url.password !== '') {
    throw new ApexAuthOptionsError('baseUrl', 'must not hold credentials');
  }
  if (url.search !== '' || url.hash !== '') {
    throw new ApexAuthOptionsError('baseUrl', 'must not have a query or a fragment');
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function checkServiceName(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ApexAuthOptionsError('serviceName', 'must be a non-empty string');
  }
  if (value !== value.trim()) {
    throw new ApexAuthOptionsError('serviceName', 'must not start or end with whitespace');
  }
  if (value === '.' || value === '..') {
    // A URL parser resolves these (even percent-encoded) instead of sending them.
    throw new ApexAuthOptionsError('serviceName', 'must not be "." or ".."');
  }
  return value;
}

function checkTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_TIMEOUT_MS;
  return checkNumberOption(value, 'timeoutMs', {
    min: 0,
    aboveMin: true,
    max: MAX_TIMEOUT_MS,
    unit: 'milliseconds',
  });
}

function checkOAuthClient(value: unknown): OAuthClientCredentials {
  const client = checkObject(value, 'oauthClient');
  return {
    clientId: checkNonEmptyString(client['clientId'], 'oauthClient.clientId'),
    clientSecret: checkNonEmptyString(client['clientSecret'], 'oauthClient.clientSecret'),
  };
}

function checkAdmin(value: unknown): AdminCredentials {
  const admin = checkObject(value, 'admin');
  const hasPassword = 'username' in admin || 'password' in admin;
  if ('token' in admin) {
    if (hasPassword) {
      throw new ApexAuthOptionsError(
        'admin',
        'takes either { username, password } or { token }, not both',
      );
    }
    const token = admin['token'];
    if (typeof token !== 'function') {
      throw new ApexAuthOptionsError('admin.token', 'must be a function returning the token');
    }
    return { token: token as () => Promise<string> | string };
  }
  if (!hasPassword) {
    throw new ApexAuthOptionsError('admin', 'must be { username, password } or { token }');
  }
  return {
    username: checkNonEmptyString(admin['username'], 'admin.username'),
    password: checkNonEmptyString(admin['password'], 'admin.password'),
  };
}

function metadataMapper<T extends object>(
  permissions: AuthApiOptions<T>['permissions'],
): MetadataMapper<T> {
  // Without a schema T is the default ServiceMetadata: the plain record is what it promises.
  if (permissions === undefined) return plainMetadata as unknown as MetadataMapper<T>;
  const schema =
    permissions instanceof PermissionSchema ? permissions : PermissionSchema.from(permissions);
  return (stored) => schema.readMetadata(stored);
}

function checkObject(value: unknown, option: string): Record<string, unknown> {
  assertObjectOption(value, option);
  return value as Record<string, unknown>;
}

function checkNonEmptyString(value: unknown, option: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new ApexAuthOptionsError(option, 'must be a non-empty string');
  }
  return value;
}

const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerSettings = {
  failureRate: 0.5,
  windowMs: 10_000,
  minimumCalls: 10,
  clientFailures: 3,
  halfOpenAfterMs: 250,
  maxHalfOpenAfterMs: 5_000,
};

/**
 * Checks the `circuitBreaker` option and applies its defaults.
 *
 * @throws ApexAuthOptionsError naming the faulty option
 */
export function checkCircuitBreaker(value: unknown): CircuitBreakerSettings | false {
  if (value === false) return false;
  if (value === undefined) return DEFAULT_CIRCUIT_BREAKER;
  const breaker = checkObject(value, 'circuitBreaker');
  const settings = { ...DEFAULT_CIRCUIT_BREAKER, ...breaker } as Record<string, unknown>;
  const ms = { min: 0, aboveMin: true, unit: 'milliseconds' };
  const failureRate = settings['failureRate'];
  if (typeof failureRate !== 'number' || !(failureRate > 0 && failureRate < 1)) {
    throw new ApexAuthOptionsError(
      'circuitBreaker.failureRate',
      'must be a number above 0 and below 1',
    );
  }
  const checked: CircuitBreakerSettings = {
    failureRate,
    windowMs: checkNumberOption(settings['windowMs'], 'circuitBreaker.windowMs', ms),
    minimumCalls: checkNumberOption(settings['minimumCalls'], 'circuitBreaker.minimumCalls', {
      min: 1,
      integer: true,
    }),
    clientFailures: checkNumberOption(settings['clientFailures'], 'circuitBreaker.clientFailures', {
      min: 1,
      integer: true,
    }),
    halfOpenAfterMs: checkNumberOption(
      settings['halfOpenAfterMs'],
      'circuitBreaker.halfOpenAfterMs',
      ms,
    ),
    maxHalfOpenAfterMs: checkNumberOption(
      settings['maxHalfOpenAfterMs'],
      'circuitBreaker.maxHalfOpenAfterMs',
      ms,
    ),
  };
  if (checked.maxHalfOpenAfterMs < checked.halfOpenAfterMs) {
    throw new ApexAuthOptionsError(
      'circuitBreaker.maxHalfOpenAfterMs',
      'must be at least circuitBreaker.halfOpenAfterMs',
    );
  }
  return checked;
}
