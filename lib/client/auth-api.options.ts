import type { ServiceMetadata } from '../entities/index.js';
import type { PermissionSchema, PermissionsClass } from '../permissions/index.js';
import type { CircuitBreakerOptions } from './circuit-breaker.js';

/** The OAuth client this service is registered as, for the authorization-code exchange. */
export interface OAuthClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** An admin of the service, logged in with a password; the client caches the token it gets. */
export interface AdminPasswordCredentials {
  username: string;
  password: string;
}

/**
 * An admin token supplied by the application, asked for on every `asAdmin()`
 * call: the application owns caching and renewal.
 */
export interface AdminTokenProvider {
  token: () => Promise<string> | string;
}

/** How {@link AuthApi.asAdmin} gets a token of a service admin (or superadmin). */
export type AdminCredentials = AdminPasswordCredentials | AdminTokenProvider;

/**
 * Options of {@link AuthApi}. Checked by its constructor, which throws an
 * `ApexAuthOptionsError` naming the faulty option.
 *
 * @typeParam T - the metadata type: the permissions class, or a plain record
 */
export interface AuthApiOptions<T extends object = ServiceMetadata> {
  /** Absolute http(s) URL of the auth-service, e.g. `http://auth:8000`; a trailing slash is tolerated. */
  baseUrl: string;
  /** This service's name at the auth-service (the `{service}` path segment). */
  serviceName: string;
  /** Needed by `exchangeCode`. */
  oauthClient?: OAuthClientCredentials;
  /** Needed by `asAdmin`. */
  admin?: AdminCredentials;
  /**
   * Time budget of one operation in milliseconds, retry included
   * (default 5000, at most 120000).
   */
  timeoutMs?: number;
  /**
   * Types user metadata: read through the schema (defaults filled in, unknown
   * keys dropped, an instance of the class). Absent: metadata is a plain
   * record of its string, number and boolean values.
   */
  permissions?: PermissionsClass<T> | PermissionSchema<T>;
  /**
   * Fail fast while the auth-service keeps failing (default on: more than half
   * of the calls of the last 10 s failed, or 3 in a row for one client
   * address); `false` turns it off.
   */
  circuitBreaker?: CircuitBreakerOptions | false;
}
