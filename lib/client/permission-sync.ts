import type { ServicePermission, ServicePermissionDefinition } from '../entities/index.js';
import { AuthServiceNotFoundError } from '../errors/index.js';

/** What `updatePermissions` did, by permission name. */
export interface PermissionSyncResult {
  /** Absent upstream, created. */
  created: string[];
  /** Changed, updated in place (users' stored values kept). */
  updated: string[];
  /**
   * Changed, but the auth-service has no in-place update: deleted and created
   * again (users' stored values of it are lost).
   */
  replaced: string[];
  /** Upstream, not in the schema: deleted. */
  deleted: string[];
  /** Already as in the schema. */
  unchanged: string[];
}

/** The calls a sync needs, as `AuthApiForToken` offers them. */
export interface PermissionStore {
  permissions(): Promise<ServicePermission[]>;
  createPermission(definition: ServicePermissionDefinition): Promise<ServicePermission>;
  updatePermission(id: string, definition: ServicePermissionDefinition): Promise<ServicePermission>;
  deletePermission(id: string): Promise<void>;
}

/** The writes that turn the upstream schema into the wanted one. */
export interface PermissionSyncPlan {
  deletes: ServicePermission[];
  updates: { current: ServicePermission; wanted: ServicePermissionDefinition }[];
  creates: ServicePermissionDefinition[];
  unchanged: string[];
}

/**
 * Compares by name. A second upstream permission of the same name (which the
 * contract forbids) is deleted, so that the name ends up meaning one thing.
 */
export function planPermissionSync(
  current: readonly ServicePermission[],
  wanted: readonly ServicePermissionDefinition[],
): PermissionSyncPlan {
  const wantedByName = new Map(wanted.map((definition) => [definition.name, definition]));
  const currentByName = new Map<string, ServicePermission>();
  const plan: PermissionSyncPlan = { deletes: [], updates: [], creates: [], unchanged: [] };
  for (const permission of current) {
    if (!wantedByName.has(permission.name) || currentByName.has(permission.name)) {
      plan.deletes.push(permission);
    } else {
      currentByName.set(permission.name, permission);
    }
  }
  for (const definition of wanted) {
    const existing = currentByName.get(definition.name);
    if (existing === undefined) plan.creates.push(definition);
    else if (sameDefinition(existing, definition)) plan.unchanged.push(definition.name);
    else plan.updates.push({ current: existing, wanted: definition });
  }
  return plan;
}

/**
 * Makes the service's schema upstream exactly `wanted`: deletes first (which
 * frees names), then updates, then creates.
 *
 * An update goes through the optional in-place endpoint; when the auth-service
 * does not offer it (405) the permission is deleted and created again, and the
 * endpoint is not tried again in this sync. When the permission vanished
 * meanwhile (404) it is created.
 */
export async function syncPermissions(
  store: PermissionStore,
  wanted: readonly ServicePermissionDefinition[],
): Promise<PermissionSyncResult> {
  const plan = planPermissionSync(await store.permissions(), wanted);
  const result: PermissionSyncResult = {
    created: [],
    updated: [],
    replaced: [],
    deleted: [],
    unchanged: plan.unchanged,
  };
  for (const permission of plan.deletes) {
    await deleteIfPresent(store, permission.id);
    result.deleted.push(permission.name);
  }
  let inPlaceUpdates = true;
  for (const { current, wanted: definition } of plan.updates) {
    if (inPlaceUpdates) {
      try {
        await store.updatePermission(current.id, definition);
        result.updated.push(definition.name);
        continue;
      } catch (error) {
        if (!(error instanceof AuthServiceNotFoundError)) throw error;
        if (error.status === 404) {
          await store.createPermission(definition);
          result.created.push(definition.name);
          continue;
        }
        inPlaceUpdates = false;
      }
    }
    await deleteIfPresent(store, current.id);
    await store.createPermission(definition);
    result.replaced.push(definition.name);
  }
  for (const definition of plan.creates) {
    await store.createPermission(definition);
    result.created.push(definition.name);
  }
  return result;
}

function sameDefinition(a: ServicePermissionDefinition, b: ServicePermissionDefinition): boolean {
  return (
    a.label === b.label &&
    a.description === b.description &&
    a.type === b.type &&
    a.default === b.default &&
    a.values.length === b.values.length &&
    a.values.every((value, i) => value === b.values[i])
  );
}

/** Someone else deleting it first is the outcome we want. */
async function deleteIfPresent(store: PermissionStore, id: string): Promise<void> {
  try {
    await store.deletePermission(id);
  } catch (error) {
    if (!(error instanceof AuthServiceNotFoundError && error.status === 404)) throw error;
  }
}
