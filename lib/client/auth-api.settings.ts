import { ApexAuthOptionsError } from '../errors/index.js';
import { validateOptions } from '../options/validate-options.js';
import { PermissionSchema } from '../permissions/index.js';
import {
  AuthApiOptions,
  type AdminCredentials,
  type CircuitBreakerOptions,
  type OAuthClientCredentials,
} from './auth-api.options.js';
import { plainMetadata, type MetadataMapper } from './auth-service.wire.js';
import { isWellFormedText } from './client-arguments.js';

/** What an `AuthApi` runs with: its options checked, defaults applied, the schema built. */
export interface AuthApiSettings<T extends object> {
  readonly [SETTINGS]: true;
  /** Without a trailing slash. */
  readonly baseUrl: string;
  readonly serviceName: string;
  readonly timeoutMs: number;
  readonly oauthClient?: OAuthClientCredentials;
  readonly admin?: AdminCredentials;
  readonly metadata: MetadataMapper<T>;
  readonly circuitBreaker: Required<CircuitBreakerOptions> | false;
}

/** Marks settings made here, so that they are never checked twice. */
const SETTINGS = Symbol('apex-auth:auth-api-settings');

/** Whether a value is settings made by {@link authApiSettings} (not options to check). */
export function isAuthApiSettings<T extends object>(value: unknown): value is AuthApiSettings<T> {
  return typeof value === 'object' && value !== null && SETTINGS in value;
}

/**
 * The one way from `AuthApi` options to what it runs with, for the standalone
 * constructor and for the module alike: the option rules (at any depth, unknown
 * keys included), then what the rules cannot say on their own.
 *
 * @param checked - options already checked against their class (the module's), or plain ones
 * @throws ApexAuthOptionsError naming every faulty option
 */
export function authApiSettings<T extends object>(
  options: unknown,
  checked = false,
): AuthApiSettings<T> {
  const valid = checked
    ? (options as AuthApiOptions<T>)
    : validateOptions(AuthApiOptions<T>, options);
  return Object.freeze({
    [SETTINGS]: true as const,
    baseUrl: normalizedBaseUrl(valid.baseUrl),
    serviceName: checkedServiceName(valid.serviceName),
    timeoutMs: valid.timeoutMs!,
    ...(valid.oauthClient === undefined ? {} : { oauthClient: { ...valid.oauthClient } }),
    ...(valid.admin === undefined ? {} : { admin: checkedAdmin(valid.admin) }),
    metadata: metadataMapper(valid.permissions),
    circuitBreaker: checkedBreaker(valid.circuitBreaker!),
  });
}

/** The URL as requests are built from it; credentials, queries and fragments refused. */
function normalizedBaseUrl(value: string): string {
  const url = new URL(value);
  if (url.username !== '' || url.password !== '') {
    throw new ApexAuthOptionsError('baseUrl', 'must not hold credentials');
  }
  if (url.search !== '' || url.hash !== '') {
    throw new ApexAuthOptionsError('baseUrl', 'must not have a query or a fragment');
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function checkedServiceName(value: string): string {
  if (value.trim() === '')
    throw new ApexAuthOptionsError('serviceName', 'must be a non-empty string');
  if (value !== value.trim()) {
    throw new ApexAuthOptionsError('serviceName', 'must not start or end with whitespace');
  }
  if (value === '.' || value === '..') {
    // A URL parser resolves these (even percent-encoded) instead of sending them.
    throw new ApexAuthOptionsError('serviceName', 'must not be "." or ".."');
  }
  if (!isWellFormedText(value)) {
    // It goes into every service path, which cannot be percent-encoded with one.
    throw new ApexAuthOptionsError('serviceName', 'must not hold a lone UTF-16 surrogate');
  }
  return value;
}

function checkedAdmin(admin: AdminCredentials): AdminCredentials {
  const { username, password, token } = admin as Partial<
    Record<'username' | 'password', string> & { token: () => Promise<string> | string }
  >;
  if (token !== undefined) {
    if (username !== undefined || password !== undefined) {
      throw new ApexAuthOptionsError(
        'admin',
        'takes either { username, password } or { token }, not both',
      );
    }
    return { token };
  }
  if (username === undefined && password === undefined) {
    throw new ApexAuthOptionsError('admin', 'must be { username, password } or { token }');
  }
  if (username === undefined)
    throw new ApexAuthOptionsError('admin.username', 'must be a non-empty string');
  if (password === undefined)
    throw new ApexAuthOptionsError('admin.password', 'must be a non-empty string');
  return { username, password };
}

function checkedBreaker(
  breaker: CircuitBreakerOptions | false,
): Required<CircuitBreakerOptions> | false {
  if (breaker === false) return false;
  const settings = { ...breaker } as Required<CircuitBreakerOptions>;
  if (settings.maxHalfOpenAfterMs < settings.halfOpenAfterMs) {
    throw new ApexAuthOptionsError(
      'circuitBreaker.maxHalfOpenAfterMs',
      'must be at least circuitBreaker.halfOpenAfterMs',
    );
  }
  return Object.freeze(settings);
}

function metadataMapper<T extends object>(
  permissions: AuthApiOptions<T>['permissions'],
): MetadataMapper<T> {
  // Without a schema T is the default ServiceMetadata: the plain record is what it promises.
  if (permissions === undefined) return plainMetadata as unknown as MetadataMapper<T>;
  const schema =
    permissions instanceof PermissionSchema
      ? permissions
      : PermissionSchema.from(permissions as Parameters<typeof PermissionSchema.from<T>>[0]);
  return (stored) => schema.readMetadata(stored);
}
