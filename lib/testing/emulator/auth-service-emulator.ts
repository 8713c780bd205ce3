import { issueAccessToken } from './auth.js';
import { resolveOptions } from './config.js';
import type { EmulatorContext } from './context.js';
import { RequestCounters } from './counters.js';
import { FaultRegistry } from './faults.js';
import { IssuedTokens, EmulatorTokens } from './tokens.js';
import type {
  AuthServiceEmulatorOptions,
  EmulatorClientSeed,
  EmulatorEndpoint,
  EmulatorFault,
  EmulatorFaultOptions,
  EmulatorLatency,
  EmulatorPermissionSeed,
  EmulatorServiceSeed,
  EmulatorUserSeed,
  WirePermission,
  WireUser,
} from './options.js';
import { ResponseLatency } from './latency.js';
import { createRequestListener, type PipelineParts } from './pipeline.js';
import { isEndpoint } from './router.js';
import { EmulatorHttpServer } from './server.js';
import { EmulatorState } from './state.js';

/**
 * An in-process emulator of the auth-service HTTP contract: a real HTTP server on a
 * loopback port that issues real signed JWTs. Start one per test file (or per test),
 * seed it, point the code under test at {@link AuthServiceEmulator.url}, and stop it
 * when done.
 *
 * Seeding methods take users as a username or an id, and throw on unknown references or
 * duplicates: a broken fixture fails where it is written.
 *
 * @example
 * ```ts
 * const emulator = await AuthServiceEmulator.start({
 *   seed: {
 *     users: [{ username: 'alice', password: 'secret' }],
 *     services: [{ name: 'billing', admins: ['alice'] }],
 *   },
 * });
 * const token = emulator.issueToken('alice');
 * // ... exercise code that calls `${emulator.url}/auth/user` ...
 * await emulator.stop();
 * ```
 */
export class AuthServiceEmulator {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** `${url}/.well-known/jwks.json` (answers `404` in HS256 mode). */
  readonly jwksUri: string;
  /** RS256: the SPKI PEM of the signing key. HS256: `undefined`. */
  readonly publicKeyPem: string | undefined;
  /** HS256: the shared secret. RS256: `undefined`. */
  readonly hmacSecret: string | undefined;
  /** The `kid` put in token headers and in the JWKS. */
  readonly keyId: string;

  private readonly context: EmulatorContext;
  private readonly server: EmulatorHttpServer;
  private readonly faults: FaultRegistry;
  private readonly counters: RequestCounters;
  private readonly latency: ResponseLatency;

  private constructor(
    url: string,
    context: EmulatorContext,
    server: EmulatorHttpServer,
    { faults, counters, latency }: Omit<PipelineParts, 'context'>,
  ) {
    this.url = url;
    this.jwksUri = `${url}/.well-known/jwks.json`;
    this.publicKeyPem = context.tokens.publicKeyPem;
    this.hmacSecret = context.tokens.hmacSecret;
    this.keyId = context.tokens.keyId;
    this.context = context;
    this.server = server;
    this.faults = faults;
    this.counters = counters;
    this.latency = latency;
  }

  /**
   * Seeds and starts an emulator. Rejects on invalid options or seed, or when the port
   * cannot be bound.
   */
  static async start(options?: AuthServiceEmulatorOptions): Promise<AuthServiceEmulator> {
    const resolved = resolveOptions(options);
    const state = new EmulatorState(resolved.integerPermissionIds);
    for (const user of resolved.seed.users ?? []) state.addUser(user);
    for (const service of resolved.seed.services ?? []) state.addService(service);
    for (const client of resolved.seed.clients ?? []) state.addClient(client);

    const context: EmulatorContext = {
      options: resolved,
      state,
      tokens: new EmulatorTokens(resolved.signing),
      issued: new IssuedTokens(),
    };
    const parts: PipelineParts = {
      context,
      faults: new FaultRegistry(),
      counters: new RequestCounters(),
      latency: new ResponseLatency(),
    };
    parts.latency.set(options?.latencyMs ?? 0);
    const server = new EmulatorHttpServer(createRequestListener(parts));
    const port = await server.listen(resolved.port, resolved.host);
    const host = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
    return new AuthServiceEmulator(`http://${host}:${port}`, context, server, parts);
  }

  /**
   * Closes the server and every open connection, hanging requests included, so a `hang`
   * fault never holds up a test run. Idempotent.
   */
  stop(): Promise<void> {
    return this.server.close();
  }

  /** Creates a user (id: a random UUID unless given); returns a copy of the stored record. */
  addUser(seed: EmulatorUserSeed): WireUser {
    return this.context.state.addUser(seed);
  }

  /** Creates a service with its admins, permissions and metadata. */
  addService(seed: EmulatorServiceSeed): void {
    this.context.state.addService(seed);
  }

  /** Registers an OAuth client for the authorization-code exchange. */
  addClient(seed: EmulatorClientSeed): void {
    this.context.state.addClient(seed);
  }

  /** Replaces the admins of a service (usernames or ids). */
  setServiceAdmins(service: string, admins: string[]): void {
    this.context.state.setServiceAdmins(service, admins);
  }

  /** A one-time authorization code that `clientId` can exchange for a token of `user`. */
  issueCode(clientId: string, user: string): string {
    return this.context.state.issueCode(clientId, user);
  }

  /** Replaces the metadata stored for `user` in `service` (stored as given, not validated). */
  setMetadata(service: string, user: string, metadata: Record<string, unknown>): void {
    this.context.state.setMetadata(service, user, metadata);
  }

  /** A copy of the metadata stored for `user` in `service`; `undefined` when none was set. */
  metadataOf(service: string, user: string): Record<string, unknown> | undefined {
    return this.context.state.metadataOf(service, user);
  }

  /** Adds a permission to a service's schema; returns a copy of the stored record. */
  addPermission(service: string, seed: EmulatorPermissionSeed): WirePermission {
    const { state } = this.context;
    return state.addSeedPermission(state.requireService(service), seed);
  }

  /** Copies of a service's permissions, in creation order. */
  permissionsOf(service: string): WirePermission[] {
    return this.context.state.requireService(service).permissions();
  }

  /**
   * A valid access token of `user`, as a login would issue it. `claims` add to or replace
   * the standard ones; a negative `ttlSeconds` gives an already expired token.
   */
  issueToken(
    user: string,
    options?: { ttlSeconds?: number; claims?: Record<string, unknown> },
  ): string {
    const ttl = options?.ttlSeconds;
    if (ttl !== undefined && !Number.isInteger(ttl)) {
      throw new RangeError(`ttlSeconds must be an integer, got ${String(ttl)}`);
    }
    return issueAccessToken(this.context, this.context.state.requireUser(user), options);
  }

  /**
   * Signs exactly `payload` with the emulator's key, for tokens no login would issue.
   * `header` fields are merged over `{alg, typ: 'JWT', kid}` (the signature still uses
   * the emulator's algorithm).
   */
  signToken(payload: Record<string, unknown>, header?: Record<string, unknown>): string {
    return this.context.issued.record(this.context.tokens.sign(payload, header));
  }

  /**
   * Every access and refresh token this emulator has issued so far, oldest first: by
   * logins, refreshes and code exchanges, and by {@link AuthServiceEmulator.issueToken}
   * and {@link AuthServiceEmulator.signToken}; revoked and expired ones included. For a
   * leak test of your own: none of them should ever show up in what your app answers or
   * logs, except in the token responses of its login routes.
   *
   * @example
   * ```ts
   * for (const token of emulator.issuedTokens()) expect(logs).not.toContain(token);
   * ```
   */
  issuedTokens(): string[] {
    return this.context.issued.all();
  }

  /** Refuses `token` from now on: Bearer endpoints answer `401`, and as a refresh token it no longer works. */
  revokeToken(token: string): void {
    this.context.state.revoke(token);
  }

  /** Makes matching requests fail. Faults add up; the newest matching one applies. */
  fail(fault: EmulatorFault, options?: EmulatorFaultOptions): void {
    this.faults.add(fault, options);
  }

  /** Removes every fault. */
  clearFaults(): void {
    this.faults.clear();
  }

  /**
   * Replaces the latency of answers (the `latencyMs` option) from now on: a number of ms
   * for every endpoint, or per endpoint (`{ permissions: 400 }`); `0` answers at once.
   * Requests already received keep the latency they got.
   *
   * @example
   * ```ts
   * // Reads report the state of 400 ms ago: replicas starting together race on their writes.
   * emulator.setLatency({ permissions: 400 });
   * ```
   */
  setLatency(latencyMs: EmulatorLatency): void {
    this.latency.set(latencyMs);
  }

  /** Requests received by `endpoint` since start or the last reset, faulted ones included. */
  requestCount(endpoint: EmulatorEndpoint): number {
    if (!isEndpoint(endpoint)) throw new RangeError(`Unknown endpoint ${JSON.stringify(endpoint)}`);
    return this.counters.count(endpoint);
  }

  /** A copy of every endpoint's request count. */
  requestCounts(): Record<EmulatorEndpoint, number> {
    return this.counters.snapshot();
  }

  /** Sets every request count back to zero. */
  resetCounters(): void {
    this.counters.reset();
  }
}
