import { Transform } from 'class-transformer';
import { ValidateIf, ValidateNested } from 'class-validator';
import type { ServiceMetadata } from './auth-service.entities.js';
import { asDefinitionRules } from '../permissions/permission-definition.rules.js';
import {
  AsGiven,
  FalseOrNested,
  Milliseconds,
  Nested,
  NonEmptyString,
  NumberIn,
  Optional,
  Rule,
  WholeNumber,
} from '../options/option-rules.js';
import type { PermissionSchema, PermissionsClass } from '../permissions/index.js';

/** The OAuth client this service is registered as, for the authorization-code exchange. */
export class OAuthClientCredentials {
  @NonEmptyString()
  clientId!: string;

  @NonEmptyString()
  clientSecret!: string;
}

/**
 * How {@link AuthApi.asAdmin} gets a token of a service admin (or superadmin):
 * `{ username, password }` (the client logs in and caches the token), or
 * `{ token }`, a function asked on every `asAdmin()` call (the application owns
 * caching and renewal).
 */
export type AdminCredentials =
  { username: string; password: string } | { token: () => Promise<string> | string };

/** The rules of {@link AdminCredentials}; which of the two forms it is, is checked once it is valid. */
export class AdminCredentialsRules {
  @Optional()
  @NonEmptyString()
  username?: string;

  @Optional()
  @NonEmptyString()
  password?: string;

  @Optional()
  @AsGiven()
  @Rule(
    'function',
    (value) => typeof value === 'function',
    'must be a function returning the token',
  )
  token?: () => Promise<string> | string;
}

/** When to stop calling an auth-service that keeps failing. */
export class CircuitBreakerOptions {
  /**
   * Share of failed calls, over the last `windowMs`, that opens the circuit for
   * every caller (default 0.5, between 0 and 1).
   */
  @Rule(
    'rate',
    (v) => typeof v === 'number' && v > 0 && v < 1,
    'must be a number above 0 and below 1',
  )
  failureRate?: number = 0.5;

  /** The sliding window the failure rate is measured over, in ms (default 10000). */
  @Milliseconds({ aboveMin: true })
  windowMs?: number = 10_000;

  /** Calls within the window below which the rate does not count (default 10). */
  @WholeNumber({ min: 1 })
  minimumCalls?: number = 10;

  /**
   * Failed calls in a row, for one client address, that open the circuit for
   * that address alone (default 3). Its failures count towards the shared
   * circuit only until then, so one caller cannot open it for everyone.
   */
  @WholeNumber({ min: 1 })
  clientFailures?: number = 3;

  /** First pause before a probe is let through, in ms (default 250); it doubles after each failed probe… */
  @Milliseconds({ aboveMin: true })
  halfOpenAfterMs?: number = 250;

  /** …up to this, in ms (default 5000; at least `halfOpenAfterMs`). */
  @Milliseconds({ aboveMin: true })
  maxHalfOpenAfterMs?: number = 5_000;
}

/** Most an operation may take, retry included. */
export const MAX_TIMEOUT_MS = 120_000;

/**
 * Options of {@link AuthApi}, checked by its constructor (and by the module),
 * which throws an `ApexAuthOptionsError` naming every faulty option.
 *
 * @typeParam T - the metadata type: the permissions class, or a plain record
 */
export class AuthApiOptions<T extends object = ServiceMetadata> {
  /** Absolute http(s) URL of the auth-service, e.g. `http://auth:8000`; a trailing slash is tolerated. */
  @Rule('httpUrl', isHttpUrl, 'must be an absolute http(s) URL, e.g. http://auth-service:8000')
  baseUrl!: string;

  /**
   * This service's name at the auth-service (the `{service}` path segment), also
   * the realm of `WWW-Authenticate` and the default audience.
   */
  @NonEmptyString()
  @Rule(
    'quotable',
    // It goes into a quoted header parameter: a quote, a backslash or a control character would break out of it.
    (value) => typeof value !== 'string' || /^[^"\\\p{Cc}]*$/u.test(value),
    'must hold no quote, backslash or control character',
  )
  serviceName!: string;

  /** Needed by `exchangeCode` (and the module's `POST /auth/login/code`). */
  @Optional()
  @Nested(() => OAuthClientCredentials, '{ clientId, clientSecret }')
  oauthClient?: OAuthClientCredentials;

  /** Needed by `asAdmin` (and the module's permission sync). */
  @Optional()
  @Nested(() => AdminCredentialsRules, '{ username, password } or { token }')
  admin?: AdminCredentials;

  /** Time budget of one operation in milliseconds, retry included (default 5000, at most 120000). */
  @NumberIn({ min: 0, aboveMin: true, max: MAX_TIMEOUT_MS, unit: 'milliseconds' })
  timeoutMs?: number = 5_000;

  /**
   * Types user metadata: read through the schema (defaults filled in, unknown
   * keys dropped, an instance of the class). Absent: metadata is a plain
   * record of its string, number and boolean values.
   */
  @Optional()
  @Transform(({ obj, key }) => asDefinitionRules((obj as Record<string, unknown>)[key]), {
    toClassOnly: true,
  })
  // A class or a schema is the schema's to check; data is checked here, each definition by its rules.
  @ValidateIf((_object, value) => typeof value !== 'function' && !isSchema(value))
  @Rule('permissions', Array.isArray, 'must be a permissions class or an array of permissions')
  @ValidateNested({ each: true })
  permissions?: PermissionsClass<T> | PermissionSchema<T> | readonly object[];

  /**
   * Fail fast while the auth-service keeps failing (default on: more than half
   * of the calls of the last 10 s failed, or 3 in a row for one client
   * address); `false` turns it off.
   */
  @FalseOrNested(() => CircuitBreakerOptions, 'false or { failureRate, windowMs, … }')
  circuitBreaker?: CircuitBreakerOptions | false = new CircuitBreakerOptions();
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

function isSchema(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'definitions' in value;
}
