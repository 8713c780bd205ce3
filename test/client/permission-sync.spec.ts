import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ServicePermissionDefinition } from '../../lib/client/auth-service.entities.js';
import type { PermissionSyncEvent } from '../../lib/client/index.js';
import { ApexAuthOptionsError, PermissionSyncError } from '../../lib/errors/index.js';
import { PermissionSchema } from '../../lib/permissions/index.js';
import {
  ALICE,
  SERVICE,
  ShopPermissions,
  plainClient,
  rejectionOf,
  startEmulator,
} from './client-fixtures.js';
import { startProxy } from '../fixtures/proxy.js';

const SCHEMA = PermissionSchema.from(ShopPermissions).definitions;
const NAMES = SCHEMA.map((definition) => definition.name);
/** A permission upstream that the schema does not have. */
const LEGACY: ServicePermissionDefinition = {
  name: 'legacy',
  label: 'Legacy',
  description: '',
  type: 'boolean',
  values: [],
  default: false,
};

function withDefault(name: string, value: ServicePermissionDefinition['default']) {
  return SCHEMA.map((definition) =>
    definition.name === name ? { ...definition, default: value } : definition,
  );
}

function writes(emulator: AuthServiceEmulator): number {
  return (
    emulator.requestCount('createPermission') +
    emulator.requestCount('updatePermission') +
    emulator.requestCount('deletePermission')
  );
}

describe.each([
  ['string ids', false],
  ['integer ids', true],
])('AuthApiForToken.updatePermissions (%s)', (_ids, integerPermissionIds) => {
  let withUpdate: AuthServiceEmulator;
  let withoutUpdate: AuthServiceEmulator;

  beforeAll(async () => {
    [withUpdate, withoutUpdate] = await Promise.all([
      startEmulator({ permissionUpdate: true, integerPermissionIds }),
      startEmulator({ permissionUpdate: false, integerPermissionIds }),
    ]);
  });
  beforeEach(() => {
    withUpdate.resetCounters();
    withoutUpdate.resetCounters();
  });
  afterEach(async () => {
    // Each test starts from an empty schema upstream.
    for (const emulator of [withUpdate, withoutUpdate]) {
      const admin = await plainClient(emulator).asAdmin();
      for (const permission of await admin.permissions())
        await admin.deletePermission(permission.id);
    }
  });
  afterAll(async () => {
    await Promise.all([withUpdate.stop(), withoutUpdate.stop()]);
  });

  const sync = async (emulator: AuthServiceEmulator, schema = SCHEMA) =>
    (await plainClient(emulator).asAdmin()).updatePermissions(schema);

  it('creates every permission of a fresh service, then writes nothing on a second run', async () => {
    expect(await sync(withUpdate)).toEqual({
      created: NAMES,
      updated: [],
      replaced: [],
      outdated: [],
      deleted: [],
      kept: [],
      unchanged: [],
    });
    expect(withUpdate.permissionsOf(SERVICE)).toEqual(
      SCHEMA.map((definition) => ({ ...definition, id: expect.anything() })),
    );

    withUpdate.resetCounters();
    expect(await sync(withUpdate)).toEqual({
      created: [],
      updated: [],
      replaced: [],
      outdated: [],
      deleted: [],
      kept: [],
      unchanged: NAMES,
    });
    expect(writes(withUpdate)).toBe(0);
    expect(withUpdate.requestCount('permissions')).toBe(1);
  });

  it('updates a changed permission in place, keeping users’ stored values', async () => {
    await sync(withUpdate);
    const before = withUpdate.permissionsOf(SERVICE);
    withUpdate.setMetadata(SERVICE, ALICE.username, { region: 'us', maxItems: 3 });
    withUpdate.resetCounters();

    const result = await sync(withUpdate, withDefault('region', 'us'));
    expect(result).toEqual({
      created: [],
      updated: ['region'],
      replaced: [],
      outdated: [],
      deleted: [],
      kept: [],
      unchanged: ['canEdit', 'maxItems'],
    });
    expect(withUpdate.requestCount('updatePermission')).toBe(1);
    expect(withUpdate.requestCount('createPermission')).toBe(0);
    expect(withUpdate.requestCount('deletePermission')).toBe(0);
    const region = withUpdate.permissionsOf(SERVICE).find((p) => p.name === 'region');
    expect(region).toMatchObject({
      default: 'us',
      id: before.find((p) => p.name === 'region')!.id,
    });
    expect(withUpdate.metadataOf(SERVICE, ALICE.username)).toEqual({ region: 'us', maxItems: 3 });
  });

  /** The schema with `maxItems` relabelled and `region` defaulting to `us`. */
  const relabelled = () =>
    withDefault('region', 'us').map((definition) =>
      definition.name === 'maxItems' ? { ...definition, label: 'Item limit' } : definition,
    );

  it("keeps changed permissions as they are without an in-place update (the default 'keep'), trying PUT once", async () => {
    await sync(withoutUpdate);
    const before = withoutUpdate.permissionsOf(SERVICE);
    withoutUpdate.setMetadata(SERVICE, ALICE.username, { region: 'us', maxItems: 3 });
    withoutUpdate.resetCounters();

    const events: PermissionSyncEvent[] = [];
    const admin = await plainClient(withoutUpdate).asAdmin();
    const result = await admin.updatePermissions(relabelled(), {
      onEvent: (event) => events.push(event),
    });
    expect(result).toEqual({
      created: [],
      updated: [],
      replaced: [],
      outdated: ['region', 'maxItems'],
      deleted: [],
      kept: [],
      unchanged: ['canEdit'],
    });
    expect(events).toEqual([
      { kind: 'outdated', name: 'region', fields: [{ field: 'default', old: 'eu', new: 'us' }] },
      {
        kind: 'outdated',
        name: 'maxItems',
        fields: [{ field: 'label', old: 'Max items', new: 'Item limit' }],
      },
    ]);
    expect(withoutUpdate.requestCounts()).toMatchObject({
      updatePermission: 1,
      createPermission: 0,
      deletePermission: 0,
    });
    expect(withoutUpdate.permissionsOf(SERVICE)).toEqual(before);
    expect(withoutUpdate.metadataOf(SERVICE, ALICE.username)).toEqual({
      region: 'us',
      maxItems: 3,
    });
  });

  it('takes a 404 to the PUT of a permission that is still there for "no in-place update", and keeps it', async () => {
    await sync(withoutUpdate);
    const before = withoutUpdate.permissionsOf(SERVICE);
    withoutUpdate.resetCounters();
    // An auth-service without the optional PUT that answers 404 rather than 405.
    const double = await startProxy(withoutUpdate.url, {
      intercept: (request) =>
        request.method === 'PUT' ? { status: 404, body: '{"detail":"Not Found"}' } : undefined,
    });
    try {
      const admin = await plainClient(double).asAdmin();
      const result = await admin.updatePermissions(relabelled());
      expect(result).toMatchObject({ outdated: ['region', 'maxItems'], created: [], replaced: [] });
      expect(withoutUpdate.requestCounts()).toMatchObject({
        createPermission: 0,
        deletePermission: 0,
      });
      expect(withoutUpdate.permissionsOf(SERVICE)).toEqual(before);
    } finally {
      await double.stop();
    }
  });

  it("'recreate' deletes and creates changed permissions without an in-place update, dropping users' values", async () => {
    await sync(withoutUpdate);
    withoutUpdate.setMetadata(SERVICE, ALICE.username, {
      region: 'us',
      maxItems: 3,
      canEdit: true,
    });
    withoutUpdate.resetCounters();

    const admin = await plainClient(withoutUpdate).asAdmin();
    const result = await admin.updatePermissions(relabelled(), { onChanged: 'recreate' });
    expect(result.replaced).toEqual(['region', 'maxItems']);
    expect(result.unchanged).toEqual(['canEdit']);
    expect(withoutUpdate.requestCounts()).toMatchObject({
      updatePermission: 1,
      deletePermission: 2,
      createPermission: 2,
    });
    expect(withoutUpdate.permissionsOf(SERVICE).map(({ id: _id, ...rest }) => rest)).toEqual(
      expect.arrayContaining(relabelled()),
    );
    expect(withoutUpdate.metadataOf(SERVICE, ALICE.username)).toEqual({ canEdit: true });
  });

  it("'fail' stops at a changed permission without an in-place update, before any write", async () => {
    await sync(withoutUpdate);
    const before = withoutUpdate.permissionsOf(SERVICE);
    withoutUpdate.resetCounters();

    const admin = await plainClient(withoutUpdate).asAdmin();
    const error = await rejectionOf(admin.updatePermissions(relabelled(), { onChanged: 'fail' }));
    expect(error).toBeInstanceOf(PermissionSyncError);
    expect(error.message).toMatch(
      /^permission region differs from the schema \(default "eu" → "us"\)/,
    );
    expect(error.message).toContain('done: nothing; not done: update region, update maxItems');
    expect(withoutUpdate.requestCounts()).toMatchObject({
      createPermission: 0,
      deletePermission: 0,
    });
    expect(withoutUpdate.permissionsOf(SERVICE)).toEqual(before);
  });

  it('with an in-place update, every onChanged updates in place and keeps users’ values', async () => {
    for (const onChanged of ['keep', 'recreate', 'fail'] as const) {
      await sync(withUpdate);
      withUpdate.setMetadata(SERVICE, ALICE.username, { region: 'us', maxItems: 3 });
      withUpdate.resetCounters();
      const admin = await plainClient(withUpdate).asAdmin();
      const result = await admin.updatePermissions(relabelled(), { onChanged });
      expect(result.updated).toEqual(['region', 'maxItems']);
      expect(writes(withUpdate)).toBe(2);
      expect(withUpdate.metadataOf(SERVICE, ALICE.username)).toEqual({ region: 'us', maxItems: 3 });
      await sync(withUpdate); // back to the original schema
    }
  });

  it('plans without writing: creates, updates with old and new values, deletes, kept, unchanged', async () => {
    const admin = await plainClient(withoutUpdate).asAdmin();
    await sync(withoutUpdate, SCHEMA.slice(0, 2));
    const legacy = await admin.createPermission(LEGACY);
    withoutUpdate.resetCounters();

    const plan = await admin.planPermissions(relabelled());
    expect(plan).toEqual({
      creates: [relabelled()[2]],
      updates: [
        {
          name: 'region',
          current: { ...SCHEMA[1], id: expect.any(String) },
          wanted: { ...SCHEMA[1], default: 'us' },
          fields: [{ field: 'default', old: 'eu', new: 'us' }],
        },
      ],
      deletes: [legacy],
      kept: [],
      unchanged: ['canEdit'],
    });
    const kept = await admin.planPermissions(relabelled(), { deleteRemoved: false });
    expect(kept.deletes).toEqual([]);
    expect(kept.kept).toEqual([{ ...legacy, duplicate: false }]);
    expect(writes(withoutUpdate)).toBe(0);
    expect(withoutUpdate.requestCount('permissions')).toBe(2);
  });

  it('with deleteRemoved false leaves permissions that left the schema', async () => {
    await sync(withUpdate);
    withUpdate.setMetadata(SERVICE, ALICE.username, { maxItems: 3 });
    withUpdate.resetCounters();
    const admin = await plainClient(withUpdate).asAdmin();
    const result = await admin.updatePermissions(SCHEMA.slice(0, 2), { deleteRemoved: false });
    expect(result.kept).toEqual(['maxItems']);
    expect(writes(withUpdate)).toBe(0);
    expect(withUpdate.metadataOf(SERVICE, ALICE.username)).toEqual({ maxItems: 3 });
  });

  it('refuses an empty schema without reading or deleting anything', async () => {
    await sync(withUpdate);
    withUpdate.resetCounters();
    const admin = await plainClient(withUpdate).asAdmin();
    for (const attempt of [admin.updatePermissions([]), admin.planPermissions([])]) {
      const error = await rejectionOf(attempt);
      expect(error).toBeInstanceOf(ApexAuthOptionsError);
      expect(error.message).toMatch(/^schema: is empty/);
    }
    expect(withUpdate.requestCount('permissions')).toBe(0);
    expect(writes(withUpdate)).toBe(0);
    expect(withUpdate.permissionsOf(SERVICE).map((p) => p.name)).toEqual(NAMES);
  });

  it('a failed k-th write names what was done and not done, and the next run converges', async () => {
    const admin = await plainClient(withoutUpdate).asAdmin();
    const error = await rejectionOf(
      admin.updatePermissions(SCHEMA, {
        // After the first create, the next one fails.
        onEvent: () =>
          withoutUpdate.fail(
            { kind: 'status', status: 503 },
            { endpoints: ['createPermission'], times: 1 },
          ),
      }),
    );
    expect(error).toBeInstanceOf(PermissionSyncError);
    expect(error.message).toBe(
      'auth-service unavailable (createPermission: 503) at create region; done: created canEdit; not done: create region, create maxItems',
    );
    expect(withoutUpdate.permissionsOf(SERVICE).map((p) => p.name)).toEqual(['canEdit']);

    withoutUpdate.resetCounters();
    const result = await sync(withoutUpdate);
    expect(result.created).toEqual(['region', 'maxItems']);
    expect(result.unchanged).toEqual(['canEdit']);
    expect(withoutUpdate.requestCount('createPermission')).toBe(2);
    expect(withoutUpdate.permissionsOf(SERVICE).map((p) => p.name)).toEqual(NAMES);
  });

  it('deletes permissions the schema no longer has, and creates the missing ones', async () => {
    const admin = await plainClient(withUpdate).asAdmin();
    await admin.createPermission(LEGACY);
    expect(await sync(withUpdate, SCHEMA.slice(0, 1))).toEqual({
      created: ['canEdit'],
      updated: [],
      replaced: [],
      outdated: [],
      deleted: ['legacy'],
      kept: [],
      unchanged: [],
    });
    expect(await sync(withUpdate, SCHEMA.slice(1))).toEqual({
      created: ['region', 'maxItems'],
      updated: [],
      replaced: [],
      outdated: [],
      deleted: ['canEdit'],
      kept: [],
      unchanged: [],
    });
    expect(withUpdate.permissionsOf(SERVICE).map((p) => p.name)).toEqual(['region', 'maxItems']);
  });

  it('deletes an extra upstream permission', async () => {
    const admin = await plainClient(withUpdate).asAdmin();
    await sync(withUpdate);
    await admin.createPermission(LEGACY);
    const result = await sync(withUpdate);
    expect(result.deleted).toEqual(['legacy']);
    expect(result.unchanged).toEqual(NAMES);
    expect(withUpdate.permissionsOf(SERVICE).map((p) => p.name)).toEqual(NAMES);
  });

  it('sees a reordered values list as a change', async () => {
    await sync(withUpdate);
    const reordered = SCHEMA.map((definition) =>
      definition.name === 'region' ? { ...definition, values: ['us', 'eu'] } : definition,
    );
    expect((await sync(withUpdate, reordered)).updated).toEqual(['region']);
  });

  it('refuses an invalid schema before writing anything', async () => {
    const admin = await plainClient(withUpdate).asAdmin();
    withUpdate.resetCounters();
    await expect(admin.updatePermissions([...SCHEMA, { ...SCHEMA[0] }])).rejects.toBeInstanceOf(
      ApexAuthOptionsError,
    );
    await expect(
      admin.updatePermissions([{ ...SCHEMA[1], default: 'mars' }]),
    ).rejects.toBeInstanceOf(ApexAuthOptionsError);
    expect(withUpdate.requestCount('permissions')).toBe(0);
    expect(writes(withUpdate)).toBe(0);
  });
});
