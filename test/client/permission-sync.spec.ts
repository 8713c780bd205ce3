import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ServicePermissionDefinition } from '../../lib/entities/index.js';
import { ApexAuthOptionsError } from '../../lib/errors/index.js';
import { PermissionSchema } from '../../lib/permissions/index.js';
import { ALICE, SERVICE, ShopPermissions, plainClient, startEmulator } from './client-fixtures.js';

const SCHEMA = PermissionSchema.from(ShopPermissions).definitions;
const NAMES = SCHEMA.map((definition) => definition.name);

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
      deleted: [],
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
      deleted: [],
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
      deleted: [],
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

  it('replaces changed permissions when the auth-service has no in-place update, trying it once', async () => {
    await sync(withoutUpdate);
    withoutUpdate.setMetadata(SERVICE, ALICE.username, { region: 'us', maxItems: 3 });
    withoutUpdate.resetCounters();

    const changed = withDefault('region', 'us').map((definition) =>
      definition.name === 'maxItems' ? { ...definition, label: 'Item limit' } : definition,
    );
    expect(await sync(withoutUpdate, changed)).toEqual({
      created: [],
      updated: [],
      replaced: ['region', 'maxItems'],
      deleted: [],
      unchanged: ['canEdit'],
    });
    expect(withoutUpdate.requestCount('updatePermission')).toBe(1);
    expect(withoutUpdate.requestCount('deletePermission')).toBe(2);
    expect(withoutUpdate.requestCount('createPermission')).toBe(2);
    expect(withoutUpdate.permissionsOf(SERVICE).map(({ id: _id, ...rest }) => rest)).toEqual(
      expect.arrayContaining(changed),
    );
    // The replaced permissions' stored values went with them.
    expect(withoutUpdate.metadataOf(SERVICE, ALICE.username)).toEqual({});
  });

  it('deletes permissions the schema no longer has, and creates the missing ones', async () => {
    const admin = await plainClient(withUpdate).asAdmin();
    await admin.createPermission({
      name: 'legacy',
      label: 'Legacy',
      description: '',
      type: 'boolean',
      values: [],
      default: false,
    });
    expect(await sync(withUpdate, SCHEMA.slice(0, 1))).toEqual({
      created: ['canEdit'],
      updated: [],
      replaced: [],
      deleted: ['legacy'],
      unchanged: [],
    });
    expect(await sync(withUpdate, SCHEMA.slice(1))).toEqual({
      created: ['region', 'maxItems'],
      updated: [],
      replaced: [],
      deleted: ['canEdit'],
      unchanged: [],
    });
    expect(withUpdate.permissionsOf(SERVICE).map((p) => p.name)).toEqual(['region', 'maxItems']);
  });

  it('deletes an extra upstream permission', async () => {
    const admin = await plainClient(withUpdate).asAdmin();
    await sync(withUpdate);
    await admin.createPermission({
      name: 'legacy',
      label: 'Legacy',
      description: '',
      type: 'boolean',
      values: [],
      default: false,
    });
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
