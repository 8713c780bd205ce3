import type { WirePermission } from './options.js';
import type { PermissionInput } from './validation.js';

/** Metadata of one user in one service: `{ <permission name>: value }`. */
export type Metadata = Record<string, unknown>;

/**
 * One service: its admins, permission schema and users' metadata. Everything handed in
 * or out is copied, so neither tests nor responses can reach into the store.
 */
export class ServiceRecord {
  /** The service name. */
  readonly name: string;
  private readonly adminIds = new Set<string>();
  private readonly schema: WirePermission[] = [];
  private readonly metadataByUser = new Map<string, Metadata>();

  constructor(name: string) {
    this.name = name;
  }

  /** Whether the user with that id is an admin of this service. */
  isAdmin(userId: string): boolean {
    return this.adminIds.has(userId);
  }

  /** Replaces the admins (user ids). */
  setAdmins(userIds: readonly string[]): void {
    this.adminIds.clear();
    for (const id of userIds) this.adminIds.add(id);
  }

  /** Ids of the users the service knows: its admins and everyone with stored metadata. */
  memberIds(): Set<string> {
    return new Set([...this.adminIds, ...this.metadataByUser.keys()]);
  }

  /** A copy of the user's stored metadata; `undefined` when none was ever set. */
  metadataOf(userId: string): Metadata | undefined {
    const stored = this.metadataByUser.get(userId);
    return stored === undefined ? undefined : structuredClone(stored);
  }

  /** Replaces the user's stored metadata with a copy of `metadata` (a plain object). */
  setMetadata(userId: string, metadata: Metadata): void {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      throw new TypeError(`Metadata in service ${JSON.stringify(this.name)} must be an object`);
    }
    this.metadataByUser.set(userId, structuredClone(metadata));
  }

  /** Copies of the permissions, in creation order. */
  permissions(): WirePermission[] {
    return structuredClone(this.schema);
  }

  /** Whether a permission's id reads as `id` (ids may be integers on the wire). */
  hasPermissionId(id: string): boolean {
    return this.indexOfId(id) >= 0;
  }

  /** Whether another permission than the one with id `exceptId` is named `name`. */
  hasPermissionNamed(name: string, exceptId?: string): boolean {
    return this.schema.some(
      (permission) => permission.name === name && String(permission.id) !== exceptId,
    );
  }

  /** Appends a permission; returns a copy of it. */
  addPermission(permission: WirePermission): WirePermission {
    const stored = structuredClone(permission);
    this.schema.push(stored);
    return structuredClone(stored);
  }

  /**
   * Updates the permission with that id in place, keeping its id and the users' stored
   * values (moved to the new key when the name changes). Returns a copy, or `undefined`
   * for an unknown id.
   */
  updatePermission(id: string, input: PermissionInput): WirePermission | undefined {
    const index = this.indexOfId(id);
    const current = this.schema[index];
    if (current === undefined) return undefined;
    if (current.name !== input.name) {
      for (const metadata of this.metadataByUser.values()) {
        if (Object.hasOwn(metadata, current.name)) {
          setOwn(metadata, input.name, metadata[current.name]);
          delete metadata[current.name];
        }
      }
    }
    const updated: WirePermission = { id: current.id, ...structuredClone(input) };
    this.schema[index] = updated;
    return structuredClone(updated);
  }

  /**
   * Deletes the permission with that id and its key from every user's stored metadata.
   * Returns whether it existed.
   */
  deletePermission(id: string): boolean {
    const index = this.indexOfId(id);
    const [removed] = index >= 0 ? this.schema.splice(index, 1) : [];
    if (removed === undefined) return false;
    for (const metadata of this.metadataByUser.values()) delete metadata[removed.name];
    return true;
  }

  private indexOfId(id: string): number {
    return this.schema.findIndex((permission) => String(permission.id) === id);
  }
}

// A plain assignment of a key named `__proto__` would replace the prototype instead of
// storing a value, and permission names come from request bodies.
function setOwn(target: Metadata, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
