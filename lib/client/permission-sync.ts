import type { ServicePermission, ServicePermissionDefinition } from './auth-service.entities.js';
import {
  AuthServiceConflictError,
  AuthServiceNotFoundError,
  PermissionSyncError,
  safeErrorMessage,
} from '../errors/index.js';
import {
  permissionDifferences,
  planPermissionSync,
  type PermissionFieldChange,
  type PermissionPlan,
} from './permission-plan.js';
import { describeFieldChanges, describeSyncResult } from './permission-sync.describe.js';

/**
 * What a sync does with a changed permission when the auth-service has no
 * in-place update: `'keep'` leaves it as it is upstream, `'recreate'` deletes
 * and creates it (users' stored values of it are lost), `'fail'` stops the sync.
 */
export type ChangedPermissionPolicy = 'keep' | 'recreate' | 'fail';

/** Every {@link ChangedPermissionPolicy}, for checking a configured one. */
export const CHANGED_PERMISSION_POLICIES: readonly ChangedPermissionPolicy[] = [
  'keep',
  'recreate',
  'fail',
];

/** Whether `value` is a {@link ChangedPermissionPolicy}. */
export function isChangedPermissionPolicy(value: unknown): value is ChangedPermissionPolicy {
  return CHANGED_PERMISSION_POLICIES.includes(value as ChangedPermissionPolicy);
}

/** What `updatePermissions` did, by permission name. */
export interface PermissionSyncResult {
  /** Absent upstream, created. */
  created: string[];
  /** Changed, updated in place (users' stored values kept). */
  updated: string[];
  /**
   * Changed, deleted and created again (`onChanged: 'recreate'` on an
   * auth-service without in-place updates): users' stored values of it are lost.
   */
  replaced: string[];
  /**
   * Changed, but left as it is upstream (`onChanged: 'keep'` on an
   * auth-service without in-place updates).
   */
  outdated: string[];
  /** Upstream, no longer in the schema: deleted. */
  deleted: string[];
  /** Upstream and left there: not in the schema while deleting is off, or a duplicate name. */
  kept: string[];
  /** Already as in the schema. */
  unchanged: string[];
}

/** One thing a sync did (or, for `outdated` and `kept`, deliberately did not). */
export type PermissionSyncEvent =
  | { kind: 'created'; name: string }
  | { kind: 'updated' | 'replaced' | 'outdated'; name: string; fields: PermissionFieldChange[] }
  | { kind: 'deleted'; name: string }
  | { kind: 'kept'; name: string; id: string; duplicate: boolean };

/** How `updatePermissions` treats changed and removed permissions. */
export interface PermissionSyncSettings {
  /** A changed permission without an in-place update upstream (default `'keep'`). */
  onChanged?: ChangedPermissionPolicy;
  /** Delete permissions upstream that the schema lacks (default `true`). */
  deleteRemoved?: boolean;
  /** Told of every change as it is made, e.g. to log one line each. */
  onEvent?: (event: PermissionSyncEvent) => void;
}

/** The calls a sync needs, as `AuthApiForToken` offers them. */
export interface PermissionStore {
  permissions(): Promise<ServicePermission[]>;
  createPermission(definition: ServicePermissionDefinition): Promise<ServicePermission>;
  updatePermission(id: string, definition: ServicePermissionDefinition): Promise<ServicePermission>;
  deletePermission(id: string): Promise<void>;
}

/**
 * How often one permission may turn out changed by someone else (a 409 on
 * create, a 404 on update) before the sync gives up on it: other replicas
 * settle in one round; more means something keeps rewriting it.
 */
const MAX_ROUNDS_PER_PERMISSION = 3;

/**
 * Brings the service's schema upstream in line with `wanted`, compared by name:
 * updates first (so that `onChanged: 'fail'` stops before any write), then
 * creates, then deletes.
 *
 * Several replicas may run it at once and all succeed: a `409` on create means
 * someone else created it (it is read again and compared), a `404` on update
 * or delete means someone else got there first. A failed write stops the sync
 * with a {@link PermissionSyncError} saying what was done and what was not;
 * the next run converges from there.
 */
export async function syncPermissions(
  store: PermissionStore,
  wanted: readonly ServicePermissionDefinition[],
  settings: PermissionSyncSettings = {},
): Promise<PermissionSyncResult> {
  const { deleteRemoved = true } = settings;
  const plan = planPermissionSync(await store.permissions(), wanted, { deleteRemoved });
  return new PermissionSyncRun(store, settings).apply(plan);
}

/** A refusal worded by the sync itself: its message is the reason given. */
class SyncRefusal extends Error {}

interface SyncStep {
  /** `create region`, as listed under "not done". */
  readonly label: string;
  readonly run: () => Promise<void>;
}

class PermissionSyncRun {
  private readonly result: PermissionSyncResult = {
    created: [],
    updated: [],
    replaced: [],
    outdated: [],
    deleted: [],
    kept: [],
    unchanged: [],
  };
  /** Until the auth-service answers 405 to one. */
  private inPlaceUpdates = true;
  private readonly onChanged: ChangedPermissionPolicy;

  constructor(
    private readonly store: PermissionStore,
    private readonly settings: PermissionSyncSettings,
  ) {
    this.onChanged = settings.onChanged ?? 'keep';
  }

  async apply(plan: PermissionPlan): Promise<PermissionSyncResult> {
    this.result.unchanged.push(...plan.unchanged);
    for (const { name, id, duplicate } of plan.kept) {
      this.record({ kind: 'kept', name, id, duplicate });
    }
    const steps: SyncStep[] = [
      ...plan.updates.map((update) => ({
        label: `update ${update.name}`,
        run: () => this.change(update.current, update.wanted, update.fields, 0),
      })),
      ...plan.creates.map((definition) => ({
        label: `create ${definition.name}`,
        run: () => this.create(definition, 0, undefined),
      })),
      ...plan.deletes.map((permission) => ({
        label: `delete ${permission.name}`,
        run: () => this.delete(permission),
      })),
    ];
    for (const [index, step] of steps.entries()) {
      try {
        await step.run();
      } catch (error) {
        const reason =
          error instanceof SyncRefusal
            ? error.message
            : `${safeErrorMessage(error)} at ${step.label}`;
        const done = describeSyncResult(this.result) || 'nothing';
        const notDone = steps.slice(index).map((pending) => pending.label);
        throw new PermissionSyncError(
          `${reason}; done: ${done}; not done: ${notDone.join(', ')}`,
          this.result,
          notDone,
          { cause: error },
        );
      }
    }
    return this.result;
  }

  private async change(
    current: ServicePermission,
    wanted: ServicePermissionDefinition,
    fields: PermissionFieldChange[],
    round: number,
  ): Promise<void> {
    if (this.inPlaceUpdates) {
      try {
        await this.store.updatePermission(current.id, wanted);
        this.record({ kind: 'updated', name: wanted.name, fields });
        return;
      } catch (error) {
        if (!(error instanceof AuthServiceNotFoundError)) throw error;
        // A 404 is someone else's delete only if the permission is really gone: an
        // auth-service without the optional PUT may answer 404 rather than 405.
        if (error.status === 404 && !(await this.stillThere(current.id))) {
          return this.create(wanted, round + 1, undefined);
        }
        this.inPlaceUpdates = false;
      }
    }
    switch (this.onChanged) {
      case 'keep':
        this.record({ kind: 'outdated', name: wanted.name, fields });
        return;
      case 'fail':
        throw new SyncRefusal(
          `permission ${wanted.name} differs from the schema (${describeFieldChanges(fields)}) and the auth-service has no in-place update, so onChanged 'fail' stopped the sync; choose 'keep', or 'recreate' (which drops users' values of it), or change it upstream by hand`,
        );
      case 'recreate':
        await this.deleteIfPresent(current.id);
        return this.create(wanted, round + 1, fields);
    }
  }

  private async stillThere(id: string): Promise<boolean> {
    return (await this.store.permissions()).some((permission) => permission.id === id);
  }

  /** @param replacing - the changed fields when this create completes a replacement */
  private async create(
    definition: ServicePermissionDefinition,
    round: number,
    replacing: PermissionFieldChange[] | undefined,
  ): Promise<void> {
    if (round >= MAX_ROUNDS_PER_PERMISSION) {
      throw new SyncRefusal(
        `permission ${definition.name} kept changing upstream while the sync ran (is another sync with another schema running?); run it again`,
      );
    }
    try {
      await this.store.createPermission(definition);
      this.record(
        replacing === undefined
          ? { kind: 'created', name: definition.name }
          : { kind: 'replaced', name: definition.name, fields: replacing },
      );
      return;
    } catch (error) {
      if (!(error instanceof AuthServiceConflictError)) throw error;
    }
    // 409: someone else created it since we read; theirs is compared like any upstream one.
    const existing = (await this.store.permissions()).find(
      (permission) => permission.name === definition.name,
    );
    if (existing === undefined) return this.create(definition, round + 1, replacing);
    const fields = permissionDifferences(existing, definition);
    if (fields.length > 0) return this.change(existing, definition, fields, round + 1);
    if (replacing === undefined) this.result.unchanged.push(definition.name);
    else this.record({ kind: 'replaced', name: definition.name, fields: replacing });
  }

  private async delete(permission: ServicePermission): Promise<void> {
    await this.deleteIfPresent(permission.id);
    this.record({ kind: 'deleted', name: permission.name });
  }

  /** Someone else deleting it first is the outcome we want. */
  private async deleteIfPresent(id: string): Promise<void> {
    try {
      await this.store.deletePermission(id);
    } catch (error) {
      if (!(error instanceof AuthServiceNotFoundError && error.status === 404)) throw error;
    }
  }

  private record(event: PermissionSyncEvent): void {
    this.result[event.kind].push(event.name);
    this.settings.onEvent?.(event);
  }
}
