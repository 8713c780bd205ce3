import { randomBytes, randomUUID } from 'node:crypto';

import type * as Shapes from './options.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { ServiceRecord, type Metadata } from './service.js';
import { permissionFromSeed, type PermissionInput } from './validation.js';

interface AuthorizationCode {
  readonly clientId: string;
  readonly userId: string;
}

/**
 * The emulator's in-memory store: users, services, OAuth clients, one-time codes,
 * refresh tokens and revoked access tokens. Seeding methods throw on bad input or
 * unknown references, because a broken fixture should fail where it is written.
 */
export class EmulatorState {
  private readonly users = new Map<string, Shapes.WireUser>();
  /** Compared against when the username is unknown; matches no password anyone sends. */
  private readonly decoyHash = hashPassword(randomUUID());
  private readonly idsByUsername = new Map<string, string>();
  private readonly services = new Map<string, ServiceRecord>();
  private readonly clientSecrets = new Map<string, string>();
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly refreshTokens = new Map<string, string>();
  private readonly revoked = new Set<string>();
  private readonly integerPermissionIds: boolean;
  private nextIntegerId = 1;

  constructor(integerPermissionIds: boolean) {
    this.integerPermissionIds = integerPermissionIds;
  }

  /** Creates a user; returns a copy of the stored record. */
  addUser(seed: Shapes.EmulatorUserSeed): Shapes.WireUser {
    requireText(seed?.username, 'A user seed needs a non-empty username');
    requireText(seed.password, `User ${JSON.stringify(seed.username)} needs a non-empty password`);
    const id = seed.id ?? randomUUID();
    requireText(id, `User ${JSON.stringify(seed.username)} has an empty id`);
    if (this.idsByUsername.has(seed.username)) {
      throw new Error(`A user named ${JSON.stringify(seed.username)} already exists`);
    }
    if (this.users.has(id)) throw new Error(`A user with id ${JSON.stringify(id)} already exists`);
    const user: Shapes.WireUser = {
      id,
      username: seed.username,
      first_name: seed.firstName ?? '',
      last_name: seed.lastName ?? '',
      email: seed.email ?? '',
      phone_number: seed.phoneNumber ?? '',
      is_admin: seed.isAdmin ?? false,
      hashed_password: hashPassword(seed.password),
    };
    this.users.set(id, user);
    this.idsByUsername.set(user.username, id);
    return { ...user };
  }

  /** The user named by `ref`, a username or else an id. */
  findUser(ref: string): Shapes.WireUser | undefined {
    const id = this.idsByUsername.get(ref) ?? ref;
    const user = this.users.get(id);
    return user === undefined ? undefined : { ...user };
  }

  /** The user with that id (ids only: the wire's `{user_id}`). */
  userById(id: string): Shapes.WireUser | undefined {
    const user = this.users.get(id);
    return user === undefined ? undefined : { ...user };
  }

  /** {@link EmulatorState.findUser}, throwing for an unknown user. */
  requireUser(ref: string): Shapes.WireUser {
    const user = this.findUser(ref);
    if (user === undefined) throw new Error(`Unknown user ${JSON.stringify(ref)}`);
    return user;
  }

  /** The user when `password` is theirs; `undefined` for an unknown user or a wrong password. */
  authenticate(username: string, password: string): Shapes.WireUser | undefined {
    const id = this.idsByUsername.get(username);
    const user = id === undefined ? undefined : this.users.get(id);
    // An unknown user costs a hash too, as in a well-built auth-service: the
    // answer's timing must not tell which usernames exist.
    const matches = verifyPassword(password, user?.hashed_password ?? this.decoyHash);
    return user !== undefined && matches ? { ...user } : undefined;
  }

  /** Creates a service with its admins, permissions and metadata, all or nothing. */
  addService(seed: Shapes.EmulatorServiceSeed): void {
    requireText(seed?.name, 'A service seed needs a non-empty name');
    if (this.services.has(seed.name)) {
      throw new Error(`A service named ${JSON.stringify(seed.name)} already exists`);
    }
    const service = new ServiceRecord(seed.name);
    service.setAdmins((seed.admins ?? []).map((ref) => this.requireUser(ref).id));
    for (const permission of seed.permissions ?? []) this.addSeedPermission(service, permission);
    for (const [ref, metadata] of Object.entries(seed.metadata ?? {})) {
      service.setMetadata(this.requireUser(ref).id, metadata);
    }
    this.services.set(service.name, service);
  }

  /** The service with that name. */
  findService(name: string): ServiceRecord | undefined {
    return this.services.get(name);
  }

  /** {@link EmulatorState.findService}, throwing for an unknown service. */
  requireService(name: string): ServiceRecord {
    const service = this.services.get(name);
    if (service === undefined) throw new Error(`Unknown service ${JSON.stringify(name)}`);
    return service;
  }

  /** Replaces a service's admins (usernames or ids). */
  setServiceAdmins(serviceName: string, admins: readonly string[]): void {
    const service = this.requireService(serviceName);
    service.setAdmins(admins.map((ref) => this.requireUser(ref).id));
  }

  /** Replaces a user's stored metadata in a service. */
  setMetadata(serviceName: string, userRef: string, metadata: Metadata): void {
    this.requireService(serviceName).setMetadata(this.requireUser(userRef).id, metadata);
  }

  /** A copy of a user's stored metadata in a service; `undefined` when none was set. */
  metadataOf(serviceName: string, userRef: string): Metadata | undefined {
    return this.requireService(serviceName).metadataOf(this.requireUser(userRef).id);
  }

  /** Adds a seeded permission to a service; returns a copy. */
  addSeedPermission(
    service: ServiceRecord,
    seed: Shapes.EmulatorPermissionSeed,
  ): Shapes.WirePermission {
    const input = permissionFromSeed(seed);
    if (service.hasPermissionNamed(input.name)) {
      throw new Error(
        `Service ${JSON.stringify(service.name)} already has a permission named ${JSON.stringify(input.name)}`,
      );
    }
    const id = seed.id === undefined ? this.newPermissionId() : this.seededPermissionId(seed.id);
    if (service.hasPermissionId(String(id))) {
      throw new Error(
        `Service ${JSON.stringify(service.name)} already has a permission with id ${JSON.stringify(id)}`,
      );
    }
    return service.addPermission({ id, ...input });
  }

  /** Adds a permission with a new id (the caller has checked the name is free); returns a copy. */
  createPermission(service: ServiceRecord, input: PermissionInput): Shapes.WirePermission {
    return service.addPermission({ id: this.newPermissionId(), ...input });
  }

  /** Registers an OAuth client; only a hash of its secret is kept. */
  addClient(seed: Shapes.EmulatorClientSeed): void {
    requireText(seed?.clientId, 'A client seed needs a non-empty clientId');
    requireText(
      seed.clientSecret,
      `Client ${JSON.stringify(seed.clientId)} needs a non-empty clientSecret`,
    );
    if (this.clientSecrets.has(seed.clientId)) {
      throw new Error(`A client with id ${JSON.stringify(seed.clientId)} already exists`);
    }
    this.clientSecrets.set(seed.clientId, hashPassword(seed.clientSecret));
  }

  /** Whether the client exists and `secret` is its secret. */
  verifyClient(clientId: string, secret: string): boolean {
    const hash = this.clientSecrets.get(clientId);
    return hash !== undefined && verifyPassword(secret, hash);
  }

  /** A new one-time authorization code of `clientId` for the user `userRef`. */
  issueCode(clientId: string, userRef: string): string {
    if (!this.clientSecrets.has(clientId)) {
      throw new Error(`Unknown client ${JSON.stringify(clientId)}`);
    }
    const code = randomBytes(24).toString('base64url');
    this.codes.set(code, { clientId, userId: this.requireUser(userRef).id });
    return code;
  }

  /**
   * The user of `code` when it was issued to `clientId`, consuming it. A code presented
   * by another client stays valid for its own client.
   */
  redeemCode(code: string, clientId: string): Shapes.WireUser | undefined {
    const grant = this.codes.get(code);
    if (grant === undefined || grant.clientId !== clientId) return undefined;
    this.codes.delete(code);
    return this.userById(grant.userId);
  }

  /** A new opaque refresh token for the user. */
  issueRefreshToken(userId: string): string {
    const token = randomBytes(32).toString('base64url');
    this.refreshTokens.set(token, userId);
    return token;
  }

  /** The user of a refresh token, consuming it (rotation: each one works once). */
  redeemRefreshToken(token: string): Shapes.WireUser | undefined {
    const userId = this.refreshTokens.get(token);
    if (userId === undefined) return undefined;
    this.refreshTokens.delete(token);
    return this.userById(userId);
  }

  /** Refuses `token` from now on, as an access token and as a refresh token. */
  revoke(token: string): void {
    this.revoked.add(token);
    this.refreshTokens.delete(token);
  }

  /** Whether `token` was revoked. */
  isRevoked(token: string): boolean {
    return this.revoked.has(token);
  }

  private newPermissionId(): string | number {
    return this.integerPermissionIds ? this.nextIntegerId++ : randomUUID();
  }

  private seededPermissionId(id: string): string | number {
    requireText(id, 'A permission seed has an empty id');
    if (!this.integerPermissionIds || !/^\d+$/.test(id)) return id;
    const numeric = Number(id);
    if (!Number.isSafeInteger(numeric)) return id;
    // Generated ids must not collide with seeded ones later.
    this.nextIntegerId = Math.max(this.nextIntegerId, numeric + 1);
    return numeric;
  }
}

function requireText(value: unknown, message: string): asserts value is string {
  if (typeof value !== 'string' || value === '') throw new TypeError(message);
}
