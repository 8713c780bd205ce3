/**
 * One endpoint of the auth-service contract, as the emulator counts and faults it.
 *
 * `login` and `refresh` share `POST /auth/login`; a request is a `refresh` when its
 * form says `grant_type=refresh_token` (whether or not refresh tokens are enabled).
 * `jwks` is `GET /.well-known/jwks.json`.
 */
export type EmulatorEndpoint =
  | 'login'
  | 'refresh'
  | 'oauthToken'
  | 'user'
  | 'metadata'
  | 'serviceUser'
  | 'serviceUsers'
  | 'permissions'
  | 'createPermission'
  | 'updatePermission'
  | 'deletePermission'
  | 'jwks';

/**
 * How the emulator signs access tokens: a shared HMAC secret, or an RSA key pair
 * generated at start whose public half is served as a JWKS document.
 */
export type EmulatorSigning = { algorithm: 'HS256'; secret: string } | { algorithm: 'RS256' };

/**
 * How long the emulator holds its answers back, in ms: one number for every endpoint, or
 * a number per endpoint (`{ permissions: 400 }`; endpoints not named answer at once).
 * Each answer is computed when the request arrives and sent after the delay, so a slowed
 * read reports the state as it was when read.
 */
export type EmulatorLatency = number | Partial<Record<EmulatorEndpoint, number>>;

/** Options of `AuthServiceEmulator.start()`. Every field is optional. */
export interface AuthServiceEmulatorOptions {
  /** Port to listen on. Default `0`: a random free port (read it from `url`). */
  port?: number;
  /** Interface to listen on. Default `'127.0.0.1'`. */
  host?: string;
  /** Token signing. Default: HS256 with a random 32-byte secret, exposed as `hmacSecret`. */
  signing?: EmulatorSigning;
  /** Lifetime of issued access tokens, in seconds (a positive integer). Default `3600`. */
  tokenTtlSeconds?: number;
  /** When set, issued tokens carry it as the `iss` claim. */
  issuer?: string;
  /** When set, issued tokens carry it as the `aud` claim. */
  audience?: string;
  /**
   * Offer the optional `PUT /services/{service}/permissions/{id}` endpoint (10).
   * Default `false`: it answers `405 {"detail":"Method Not Allowed"}`, like a deployment without it
   * (such requests are still counted, and faulted, as `updatePermission`).
   */
  permissionUpdate?: boolean;
  /**
   * Offer the optional refresh-token grant (11) and put `refresh_token` and `expires_in`
   * into token responses. Default `false`.
   */
  refreshTokens?: boolean;
  /**
   * Assign permission ids as incrementing integers, as some deployments do.
   * Default `false`: ids are string UUIDs.
   */
  integerPermissionIds?: boolean;
  /**
   * Slows answers, to reproduce races and timeouts (default `0`); changed at run time with
   * `setLatency()`.
   */
  latencyMs?: EmulatorLatency;
  /** Initial data, applied in order: users, then services, then clients. */
  seed?: EmulatorSeed;
}

/** Initial data of an emulator. Services refer to users, so users are created first. */
export interface EmulatorSeed {
  /** Users to create. */
  users?: EmulatorUserSeed[];
  /** Services to create, with their admins, permission schema and user metadata. */
  services?: EmulatorServiceSeed[];
  /** OAuth clients to register (for the authorization-code exchange). */
  clients?: EmulatorClientSeed[];
}

/** A user to create. Text fields default to `''`. */
export interface EmulatorUserSeed {
  /** The user's id. Default: a random UUID. */
  id?: string;
  /** Unique, non-empty login name; also the `sub` claim of the user's tokens. */
  username: string;
  /** Non-empty clear-text password; the emulator stores only a salted hash of it. */
  password: string;
  /** `first_name` on the wire. */
  firstName?: string;
  /** `last_name` on the wire. */
  lastName?: string;
  /** `email` on the wire. */
  email?: string;
  /** `phone_number` on the wire. */
  phoneNumber?: string;
  /** Superadmin across all services (`is_admin` on the wire). Default `false`. */
  isAdmin?: boolean;
}

/** A service to create. Users it names (by username or id) must already exist. */
export interface EmulatorServiceSeed {
  /** Unique, non-empty service name: the `{service}` path segment. */
  name: string;
  /** The service admins, as usernames or user ids. */
  admins?: string[];
  /** The service's permission schema, in order. */
  permissions?: EmulatorPermissionSeed[];
  /** Stored metadata per user; the key is a username or a user id. */
  metadata?: Record<string, Record<string, unknown>>;
}

/**
 * One permission of a service's schema. It is validated like a `POST` body
 * (values must match `type`; `default` must match `type` and be one of `values` when those are given).
 */
export interface EmulatorPermissionSeed {
  /**
   * The permission's id. Default: a new one. With `integerPermissionIds`, an id made of
   * digits only is stored as an integer.
   */
  id?: string;
  /** Non-empty name, unique within the service: the key in users' metadata. */
  name: string;
  /** Human label. Default: the name. */
  label?: string;
  /** Description. Default `''`. */
  description?: string;
  /** Type of the value. */
  type: 'string' | 'integer' | 'boolean';
  /** Allowed values: strings for `string`, integers for `integer`, none for `boolean`. Default `[]`. */
  values?: string[] | number[];
  /** Value assumed when a user's metadata lacks this permission. */
  default: string | number | boolean;
}

/** An OAuth client to register. */
export interface EmulatorClientSeed {
  /** Unique, non-empty client id. */
  clientId: string;
  /** Non-empty clear-text secret; the emulator stores only a salted hash of it. */
  clientSecret: string;
}

/**
 * A failure the emulator produces instead of handling a request.
 *
 * - `status`: answer with that status (200-599). `body` defaults to
 *   `{"detail": "<reason phrase>"}`, `contentType` to `application/json`; `headers` are added last.
 * - `hang`: never answer; the connection stays open until `AuthServiceEmulator.stop()`.
 * - `reset`: destroy the connection without any response.
 */
export type EmulatorFault =
  | {
      kind: 'status';
      status: number;
      body?: string;
      contentType?: string;
      headers?: Record<string, string>;
    }
  | { kind: 'hang' }
  | { kind: 'reset' };

/** Which requests a fault applies to. */
export interface EmulatorFaultOptions {
  /**
   * The endpoints the fault applies to (non-empty). Default: every endpoint. Requests that
   * reach no endpoint (an unknown path, or a known path with a method it does not serve)
   * are never faulted nor counted.
   */
  endpoints?: EmulatorEndpoint[];
  /** How many requests the fault applies to before it is used up (a positive integer). Default: until cleared. */
  times?: number;
}

/** A user record as the real service sends it (snake_case), including the hash it leaks. */
export interface WireUser {
  /** The user's id. */
  id: string;
  /** The login name. */
  username: string;
  /** First name. */
  first_name: string;
  /** Last name. */
  last_name: string;
  /** E-mail address. */
  email: string;
  /** Phone number. */
  phone_number: string;
  /** Superadmin across all services. */
  is_admin: boolean;
  /** Salted password hash (`scrypt$<salt>$<hash>`); the library must never pass it on. */
  hashed_password: string;
}

/** One permission of a service's schema, as the real service sends it. */
export interface WirePermission {
  /** A UUID string, or an integer when `integerPermissionIds` is on. */
  id: string | number;
  /** Unique name within the service: the key in users' metadata. */
  name: string;
  /** Human label. */
  label: string;
  /** Description. */
  description: string;
  /** Type of the value. */
  type: 'string' | 'integer' | 'boolean';
  /** Allowed values; `[]` for boolean or when any value is allowed. */
  values: string[] | number[];
  /** Value assumed when a user's metadata lacks this permission. */
  default: string | number | boolean;
}
