import type { KeptPermission, PermissionFieldChange, PermissionPlan } from './permission-plan.js';
import type {
  ChangedPermissionPolicy,
  PermissionSyncEvent,
  PermissionSyncResult,
} from './permission-sync.js';

// One wording for the startup log, the dry run, errors and the command line,
// so that what an admin reads in one place means the same in the others.

/** `label "Region" → "Sales region", default "eu" → "us"`. */
export function describeFieldChanges(fields: readonly PermissionFieldChange[]): string {
  return fields
    .map(
      (change) => `${change.field} ${JSON.stringify(change.old)} → ${JSON.stringify(change.new)}`,
    )
    .join(', ');
}

/** One line about one thing a sync did. */
export function describeSyncEvent(event: PermissionSyncEvent): string {
  switch (event.kind) {
    case 'created':
      return `created ${event.name}`;
    case 'updated':
      return `updated ${event.name} in place: ${describeFieldChanges(event.fields)}`;
    case 'replaced':
      return `replaced ${event.name} (deleted and created again; users' stored values of it were dropped): ${describeFieldChanges(event.fields)}`;
    case 'outdated':
      return `kept ${event.name} as it is upstream, though it differs from the schema: ${describeFieldChanges(event.fields)} (the auth-service has no in-place update, and onChanged is 'keep')`;
    case 'deleted':
      return `deleted ${event.name}, which left the schema (users' stored values of it were dropped)`;
    case 'kept':
      return describeKept('kept', event);
  }
}

function describeKept(
  verb: 'kept' | 'keep',
  kept: Pick<KeptPermission, 'name' | 'id' | 'duplicate'>,
): string {
  return kept.duplicate
    ? `${verb} a second permission named ${kept.name} (id ${kept.id}): duplicates are never deleted automatically`
    : `${verb} ${kept.name}: not in the schema, and deleting removed permissions is off`;
}

/** `created a, b; updated c`, or `''` when the sync did nothing but compare. */
export function describeSyncResult(result: PermissionSyncResult): string {
  const parts: [string, string[]][] = [
    ['created', result.created],
    ['updated', result.updated],
    ['replaced', result.replaced],
    ['left outdated', result.outdated],
    ['deleted', result.deleted],
    ['kept', result.kept],
  ];
  return parts
    .filter(([, names]) => names.length > 0)
    .map(([label, names]) => `${label} ${names.join(', ')}`)
    .join('; ');
}

/** The summary line of a sync: `Permissions of "shop" synced: created a; 3 unchanged`. */
export function summarizeSync(serviceName: string, result: PermissionSyncResult): string {
  const done = describeSyncResult(result);
  const unchanged = `${result.unchanged.length} unchanged`;
  return `Permissions of "${serviceName}" synced: ${done === '' ? unchanged : `${done}; ${unchanged}`}`;
}

const WITHOUT_IN_PLACE_UPDATE: Readonly<Record<ChangedPermissionPolicy, string>> = {
  keep: 'kept as it is',
  recreate: "deleted and created again, users' values of it dropped",
  fail: 'the sync stops',
};

/**
 * One line per planned change (and per permission the plan keeps), in the
 * order of the sync; an update says what `onChanged` makes of it where the
 * auth-service has no in-place update.
 */
export function describePlan(plan: PermissionPlan, onChanged: ChangedPermissionPolicy): string[] {
  const fallback = WITHOUT_IN_PLACE_UPDATE[onChanged];
  return [
    ...plan.updates.map(
      (update) =>
        `update ${update.name}: ${describeFieldChanges(update.fields)} (without an in-place update upstream: ${fallback})`,
    ),
    ...plan.creates.map((definition) => `create ${definition.name}`),
    ...plan.deletes.map(
      (permission) => `delete ${permission.name} (users' stored values of it would be dropped)`,
    ),
    ...plan.kept.map((permission) => describeKept('keep', permission)),
  ];
}

/** Whether carrying out the plan would write anything. */
export function planHasChanges(plan: PermissionPlan): boolean {
  return plan.creates.length + plan.updates.length + plan.deletes.length > 0;
}

/** `Permissions of "shop", plan: 1 to create, 0 to update, 0 to delete, 0 kept, 3 unchanged`. */
export function summarizePlan(serviceName: string, plan: PermissionPlan): string {
  return `Permissions of "${serviceName}", plan: ${plan.creates.length} to create, ${plan.updates.length} to update, ${plan.deletes.length} to delete, ${plan.kept.length} kept, ${plan.unchanged.length} unchanged`;
}
