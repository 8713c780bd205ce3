import type { ServicePermission, ServicePermissionDefinition } from './auth-service.entities.js';
import { ApexAuthOptionsError } from '../errors/index.js';

/** The fields a sync compares; permissions are matched by `name`. */
export type ComparedPermissionField = 'label' | 'description' | 'type' | 'values' | 'default';

const COMPARED_FIELDS: readonly ComparedPermissionField[] = [
  'label',
  'description',
  'type',
  'values',
  'default',
];

/** One field in which the auth-service's permission differs from the schema. */
export interface PermissionFieldChange {
  field: ComparedPermissionField;
  /** The value upstream. */
  old: ServicePermissionDefinition[ComparedPermissionField];
  /** The value in the schema. */
  new: ServicePermissionDefinition[ComparedPermissionField];
}

/** A permission upstream whose fields differ from the schema's permission of that name. */
export interface PermissionChange {
  name: string;
  /** The permission upstream, its id included. */
  current: ServicePermission;
  /** The schema's definition of it. */
  wanted: ServicePermissionDefinition;
  /** Every differing field, in a fixed order: label, description, type, values, default. */
  fields: PermissionFieldChange[];
}

/** A permission upstream that a sync leaves in place though the schema does not want it. */
export interface KeptPermission extends ServicePermission {
  /**
   * `true`: a second permission of a name the schema has (which the contract
   * forbids); never deleted automatically, since users' values are stored by
   * name. `false`: not in the schema, and deleting is off.
   */
  duplicate: boolean;
}

/** What a sync would do, from one read of the schema upstream. */
export interface PermissionPlan {
  /** In the schema, absent upstream. */
  creates: ServicePermissionDefinition[];
  /** Upstream and in the schema, with differing fields. */
  updates: PermissionChange[];
  /** Upstream, no longer in the schema, and deleting is on. */
  deletes: ServicePermission[];
  /** Upstream and left there: not in the schema while deleting is off, or a duplicate name. */
  kept: KeptPermission[];
  /** Names already as in the schema. */
  unchanged: string[];
}

/** How a plan treats permissions upstream that the schema lacks. */
export interface PermissionPlanOptions {
  /** Plan to delete them (default `true`); `false` lists them as kept. */
  deleteRemoved?: boolean;
}

/**
 * Refuses an empty wanted schema: syncing it would delete every permission of
 * the service, and with them every user's values, which is never what a
 * service that lost its schema to a bug or a misconfiguration wants.
 *
 * @param option - the option path named in the message
 * @throws ApexAuthOptionsError when `definitions` is empty
 */
export function checkSyncableSchema(
  definitions: readonly ServicePermissionDefinition[],
  option: string,
): void {
  if (definitions.length === 0) {
    throw new ApexAuthOptionsError(
      option,
      'is empty: syncing it would delete every permission of the service and users’ values of them; give at least one permission, or turn the sync off',
    );
  }
}

/** Compares the schema upstream with the wanted one, by name; writes nothing. */
export function planPermissionSync(
  current: readonly ServicePermission[],
  wanted: readonly ServicePermissionDefinition[],
  { deleteRemoved = true }: PermissionPlanOptions = {},
): PermissionPlan {
  const wantedNames = new Set(wanted.map((definition) => definition.name));
  const currentByName = new Map<string, ServicePermission>();
  const plan: PermissionPlan = { creates: [], updates: [], deletes: [], kept: [], unchanged: [] };
  for (const permission of current) {
    if (!wantedNames.has(permission.name)) {
      if (deleteRemoved) plan.deletes.push(permission);
      else plan.kept.push({ ...permission, duplicate: false });
    } else if (currentByName.has(permission.name)) {
      plan.kept.push({ ...permission, duplicate: true });
    } else {
      currentByName.set(permission.name, permission);
    }
  }
  for (const definition of wanted) {
    const existing = currentByName.get(definition.name);
    if (existing === undefined) {
      plan.creates.push(definition);
      continue;
    }
    const fields = permissionDifferences(existing, definition);
    if (fields.length === 0) plan.unchanged.push(definition.name);
    else
      plan.updates.push({ name: definition.name, current: existing, wanted: definition, fields });
  }
  return plan;
}

/** The fields in which `current` differs from `wanted` (a reordered `values` list differs). */
export function permissionDifferences(
  current: ServicePermissionDefinition,
  wanted: ServicePermissionDefinition,
): PermissionFieldChange[] {
  return COMPARED_FIELDS.filter((field) => !sameValue(current[field], wanted[field])).map(
    (field) => ({ field, old: current[field], new: wanted[field] }),
  );
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((value, i) => value === b[i]);
  }
  return a === b;
}
