import { AuthServiceEmulator, type EmulatorSeed } from '@apex/nest-auth/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { bearer, call, json, permissionBody } from './helpers.js';

const seed: EmulatorSeed = {
  users: [
    { id: 'u-root', username: 'root', password: 'pw', isAdmin: true },
    { id: 'u-admin', username: 'admin', password: 'pw' },
    { id: 'u-member', username: 'member', password: 'pw' },
  ],
  services: [{ name: 'billing', admins: ['admin'] }],
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('permission writes (endpoints 8 and 9)', () => {
  let emulator: AuthServiceEmulator;
  let admin: string;
  let member: string;
  beforeEach(async () => {
    emulator = await AuthServiceEmulator.start({ seed });
    admin = emulator.issueToken('admin');
    member = emulator.issueToken('member');
  });
  afterEach(() => emulator.stop());

  const create = (token: string, body: unknown, service = 'billing') =>
    call(emulator, `/services/${service}/permissions`, json('POST', token, body));

  it('creates a permission with a new uuid: 201, listed after', async () => {
    const answer = await create(admin, permissionBody());
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({
      data: { permission: { id: expect.stringMatching(UUID), ...permissionBody() } },
    });
    const list = await call(emulator, '/services/billing/permissions', bearer(member));
    expect(list.body.data.permissions).toEqual([answer.body.data.permission]);
    expect(emulator.permissionsOf('billing')).toEqual([answer.body.data.permission]);
  });

  it('lets a superadmin create, and ignores a client-sent id and unknown fields', async () => {
    const answer = await create(
      emulator.issueToken('root'),
      permissionBody({
        id: 'mine',
        extra: true,
        type: 'boolean',
        values: undefined,
        default: true,
      }),
    );
    expect(answer.status).toBe(201);
    expect(answer.body.data.permission).toEqual({
      id: expect.stringMatching(UUID),
      name: 'level',
      label: 'Level',
      description: 'Access level',
      type: 'boolean',
      values: [],
      default: true,
    });
  });

  it('accepts a JSON content type with parameters', async () => {
    const answer = await call(emulator, '/services/billing/permissions', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${admin}`,
        'content-type': 'application/json; charset=utf-8',
      },
      body: JSON.stringify(permissionBody({ type: 'string', values: ['a', 'b'], default: 'b' })),
    });
    expect(answer.status).toBe(201);
  });

  it('answers 409 for a name already in the service', async () => {
    expect((await create(admin, permissionBody())).status).toBe(201);
    const answer = await create(admin, permissionBody({ label: 'Other' }));
    expect(answer.status).toBe(409);
    expect(answer.body).toEqual({ detail: 'Permission already exists' });
    expect(emulator.permissionsOf('billing')).toHaveLength(1);
  });

  it('answers 401, then 404 for an unknown service, then 403 for non-admins', async () => {
    const noToken = await call(emulator, '/services/nope/permissions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(permissionBody()),
    });
    expect(noToken.status).toBe(401);
    const noService = await create(member, permissionBody(), 'nope');
    expect(noService.status).toBe(404);
    expect(noService.body).toEqual({ detail: 'Service not found' });
    const forbidden = await create(member, permissionBody());
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toEqual({ detail: 'Not enough permissions' });
  });

  it('checks rights before the body: a malformed body from a non-admin is a 403', async () => {
    const answer = await call(emulator, '/services/billing/permissions', {
      method: 'POST',
      headers: { authorization: `Bearer ${member}`, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(answer.status).toBe(403);
  });

  const invalidBodies: [string, Record<string, unknown>, unknown[]][] = [
    [
      'missing fields',
      {},
      [
        { loc: ['body', 'name'], msg: 'Field required', type: 'missing' },
        { loc: ['body', 'label'], msg: 'Field required', type: 'missing' },
        { loc: ['body', 'description'], msg: 'Field required', type: 'missing' },
        { loc: ['body', 'type'], msg: 'Field required', type: 'missing' },
        { loc: ['body', 'default'], msg: 'Field required', type: 'missing' },
      ],
    ],
    [
      'an empty name',
      permissionBody({ name: '' }),
      [
        {
          loc: ['body', 'name'],
          msg: 'String should have at least 1 character',
          type: 'string_too_short',
        },
      ],
    ],
    [
      'non-string text fields',
      permissionBody({ name: 5, label: null, description: ['x'] }),
      [
        { loc: ['body', 'name'], msg: 'Input should be a valid string', type: 'string_type' },
        { loc: ['body', 'label'], msg: 'Input should be a valid string', type: 'string_type' },
        {
          loc: ['body', 'description'],
          msg: 'Input should be a valid string',
          type: 'string_type',
        },
      ],
    ],
    [
      'an unknown type',
      permissionBody({ type: 'float' }),
      [
        {
          loc: ['body', 'type'],
          msg: "Input should be 'string', 'integer' or 'boolean'",
          type: 'enum',
        },
      ],
    ],
    [
      'values that are not a list',
      permissionBody({ values: 'a,b' }),
      [{ loc: ['body', 'values'], msg: 'Input should be a valid list', type: 'list_type' }],
    ],
    [
      'integer values that are not integers',
      permissionBody({ values: [1, 1.5, '2', true] }),
      [
        { loc: ['body', 'values', 1], msg: 'Input should be a valid integer', type: 'int_type' },
        { loc: ['body', 'values', 2], msg: 'Input should be a valid integer', type: 'int_type' },
        { loc: ['body', 'values', 3], msg: 'Input should be a valid integer', type: 'int_type' },
      ],
    ],
    [
      'string values that are not strings',
      permissionBody({ type: 'string', values: ['a', 2], default: 'a' }),
      [{ loc: ['body', 'values', 1], msg: 'Input should be a valid string', type: 'string_type' }],
    ],
    [
      'boolean values',
      permissionBody({ type: 'boolean', values: [true], default: true }),
      [
        {
          loc: ['body', 'values'],
          msg: 'Value error, values must be empty for a boolean permission',
          type: 'value_error',
        },
      ],
    ],
    [
      'a default of another type',
      permissionBody({ default: '1' }),
      [{ loc: ['body', 'default'], msg: 'Input should be a valid integer', type: 'int_type' }],
    ],
    [
      'a boolean default that is not a boolean',
      permissionBody({ type: 'boolean', values: [], default: 0 }),
      [{ loc: ['body', 'default'], msg: 'Input should be a valid boolean', type: 'bool_type' }],
    ],
    [
      'a default outside the values',
      permissionBody({ default: 7 }),
      [
        {
          loc: ['body', 'default'],
          msg: 'Value error, default must be one of values',
          type: 'value_error',
        },
      ],
    ],
    [
      'a body that is not an object',
      [permissionBody()] as unknown as Record<string, unknown>,
      [
        {
          loc: ['body'],
          msg: 'Input should be a valid dictionary or object to extract fields from',
          type: 'model_attributes_type',
        },
      ],
    ],
  ];

  it.each(invalidBodies)('answers 422 for %s', async (_name, body, detail) => {
    const answer = await create(admin, body);
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual({ detail });
    expect(emulator.permissionsOf('billing')).toEqual([]);
  });

  it('accepts an integer default when values are empty, and a string with free values', async () => {
    expect((await create(admin, permissionBody({ values: [], default: 99 }))).status).toBe(201);
    expect(
      (
        await create(
          admin,
          permissionBody({ name: 'team', type: 'string', values: [], default: '' }),
        )
      ).status,
    ).toBe(201);
  });

  it('answers 422 for malformed JSON, an empty body and a non-JSON content type', async () => {
    const send = (contentType: string, body: string) =>
      call(emulator, '/services/billing/permissions', {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': contentType },
        body,
      });
    const malformed = await send('application/json', '{"name": ');
    expect(malformed.status).toBe(422);
    expect(malformed.body.detail).toEqual([
      { loc: ['body', expect.any(Number)], msg: 'JSON decode error', type: 'json_invalid' },
    ]);
    const empty = await send('application/json', '');
    expect(empty.body).toEqual({
      detail: [{ loc: ['body'], msg: 'Field required', type: 'missing' }],
    });
    const text = await send('text/plain', JSON.stringify(permissionBody()));
    expect(text.status).toBe(422);
    expect(text.body.detail[0].type).toBe('model_attributes_type');
    const formBody = await send('application/x-www-form-urlencoded', 'name=level');
    expect(formBody.status).toBe(422);
  });

  it('deletes a permission: 200 with a JSON object, as the real service answers; gone from the list', async () => {
    const { body } = await create(admin, permissionBody());
    const id = body.data.permission.id;
    const answer = await call(
      emulator,
      `/services/billing/permissions/${id}`,
      bearer(admin, 'DELETE'),
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json');
    expect(answer.body).toEqual({ data: {} });
    expect(emulator.permissionsOf('billing')).toEqual([]);
    const again = await call(
      emulator,
      `/services/billing/permissions/${id}`,
      bearer(admin, 'DELETE'),
    );
    expect(again.status).toBe(404);
    expect(again.body).toEqual({ detail: 'Permission not found' });
  });

  it("deleting removes that key from every user's stored metadata, and nothing else", async () => {
    const level = (await create(admin, permissionBody())).body.data.permission;
    await create(
      admin,
      permissionBody({ name: 'region', type: 'string', values: [], default: 'eu' }),
    );
    emulator.setMetadata('billing', 'member', { level: 2, region: 'us' });
    emulator.setMetadata('billing', 'admin', { level: 3 });
    const answer = await call(
      emulator,
      `/services/billing/permissions/${level.id}`,
      bearer(emulator.issueToken('root'), 'DELETE'),
    );
    expect(answer.status).toBe(200);
    expect(emulator.metadataOf('billing', 'member')).toEqual({ region: 'us' });
    expect(emulator.metadataOf('billing', 'admin')).toEqual({});
    expect(emulator.permissionsOf('billing').map((permission) => permission.name)).toEqual([
      'region',
    ]);
  });

  it('refuses deletes from non-admins and for unknown services', async () => {
    const { body } = await create(admin, permissionBody());
    const path = `/services/billing/permissions/${body.data.permission.id}`;
    expect((await call(emulator, path, bearer(member, 'DELETE'))).status).toBe(403);
    expect((await call(emulator, path, { method: 'DELETE' })).status).toBe(401);
    const noService = await call(
      emulator,
      `/services/nope/permissions/${body.data.permission.id}`,
      bearer(admin, 'DELETE'),
    );
    expect(noService.body).toEqual({ detail: 'Service not found' });
    expect(emulator.permissionsOf('billing')).toHaveLength(1);
  });

  it('answers 405 for PUT while permission updates are off, and counts it', async () => {
    const { body } = await create(admin, permissionBody());
    const answer = await call(
      emulator,
      `/services/billing/permissions/${body.data.permission.id}`,
      json('PUT', admin, permissionBody({ label: 'New' })),
    );
    expect(answer.status).toBe(405);
    expect(answer.body).toEqual({ detail: 'Method Not Allowed' });
    expect(answer.headers.get('allow')).toBe('DELETE');
    expect(emulator.requestCount('updatePermission')).toBe(1);
    expect(emulator.permissionsOf('billing')[0].label).toBe('Level');
  });
});

describe('permission updates (endpoint 10, switched on)', () => {
  let emulator: AuthServiceEmulator;
  let admin: string;
  let levelId: string;
  beforeEach(async () => {
    emulator = await AuthServiceEmulator.start({
      permissionUpdate: true,
      seed: {
        ...seed,
        services: [
          {
            name: 'billing',
            admins: ['admin'],
            permissions: [
              {
                name: 'level',
                label: 'Level',
                description: 'Access level',
                type: 'integer',
                values: [1, 2, 3],
                default: 1,
              },
              { name: 'region', type: 'string', default: 'eu' },
            ],
            metadata: { member: { level: 2, region: 'us' }, admin: { region: 'eu' } },
          },
        ],
      },
    });
    admin = emulator.issueToken('admin');
    levelId = String(emulator.permissionsOf('billing')[0].id);
  });
  afterEach(() => emulator.stop());

  const update = (id: string, body: unknown, token = admin) =>
    call(emulator, `/services/billing/permissions/${id}`, json('PUT', token, body));

  it('updates in place: 200, same id, same position, users keep their values', async () => {
    const answer = await update(
      levelId,
      permissionBody({ label: 'Tier', values: [1, 2, 3, 4], default: 4 }),
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      data: {
        permission: {
          id: levelId,
          ...permissionBody({ label: 'Tier', values: [1, 2, 3, 4], default: 4 }),
        },
      },
    });
    expect(emulator.permissionsOf('billing').map((permission) => permission.label)).toEqual([
      'Tier',
      'region',
    ]);
    expect(emulator.metadataOf('billing', 'member')).toEqual({ level: 2, region: 'us' });
  });

  it("moves users' values to the new key when the name changes", async () => {
    const answer = await update(levelId, permissionBody({ name: 'tier' }));
    expect(answer.status).toBe(200);
    expect(emulator.metadataOf('billing', 'member')).toEqual({ tier: 2, region: 'us' });
    expect(emulator.metadataOf('billing', 'admin')).toEqual({ region: 'eu' });
  });

  it('stores a renamed key literally, even __proto__', async () => {
    const answer = await update(levelId, permissionBody({ name: '__proto__' }));
    expect(answer.status).toBe(200);
    const metadata = emulator.metadataOf('billing', 'member')!;
    expect(Object.keys(metadata).sort()).toEqual(['__proto__', 'region']);
    const read = await call(emulator, '/services/billing/metadata/u-member', bearer(admin));
    expect(read.text).toContain('"__proto__":2');
  });

  it('answers 409 for a name taken by another permission', async () => {
    const answer = await update(levelId, permissionBody({ name: 'region' }));
    expect(answer.status).toBe(409);
    expect(answer.body).toEqual({ detail: 'Permission already exists' });
  });

  it('answers 404 for an unknown id, 422 for a bad body, 403 for non-admins', async () => {
    const unknown = await update('nope', permissionBody());
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ detail: 'Permission not found' });
    const invalid = await update(levelId, permissionBody({ type: 'float' }));
    expect(invalid.status).toBe(422);
    const forbidden = await update(levelId, permissionBody(), emulator.issueToken('member'));
    expect(forbidden.status).toBe(403);
    expect(emulator.permissionsOf('billing')[0].label).toBe('Level');
  });

  it('checks the permission before the body: unknown id with a bad body is a 404', async () => {
    expect((await update('nope', { junk: true })).status).toBe(404);
  });
});

describe('integer permission ids', () => {
  let emulator: AuthServiceEmulator;
  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({
      integerPermissionIds: true,
      permissionUpdate: true,
      seed: {
        ...seed,
        services: [
          {
            name: 'billing',
            admins: ['admin'],
            permissions: [
              { name: 'seeded', type: 'boolean', default: false },
              { id: '10', name: 'numbered', type: 'boolean', default: false },
            ],
            metadata: { member: { seeded: true } },
          },
        ],
      },
    });
  });
  afterAll(() => emulator.stop());

  it('numbers permissions as integers, after any seeded id', async () => {
    expect(emulator.permissionsOf('billing').map((permission) => permission.id)).toEqual([1, 10]);
    const admin = emulator.issueToken('admin');
    const answer = await call(
      emulator,
      '/services/billing/permissions',
      json('POST', admin, permissionBody()),
    );
    expect(answer.status).toBe(201);
    expect(answer.text).toContain('"id":11');
    expect(answer.body.data.permission.id).toBe(11);
  });

  it('finds integer ids by their decimal path segment', async () => {
    const admin = emulator.issueToken('admin');
    const updated = await call(
      emulator,
      '/services/billing/permissions/10',
      json('PUT', admin, {
        name: 'renamed',
        label: '',
        description: '',
        type: 'boolean',
        default: true,
      }),
    );
    expect(updated.status).toBe(200);
    expect(updated.body.data.permission.id).toBe(10);
    const deleted = await call(
      emulator,
      '/services/billing/permissions/1',
      bearer(admin, 'DELETE'),
    );
    expect(deleted.status).toBe(200);
    expect(emulator.metadataOf('billing', 'member')).toEqual({});
    const missing = await call(
      emulator,
      '/services/billing/permissions/1',
      bearer(admin, 'DELETE'),
    );
    expect(missing.status).toBe(404);
  });
});

describe('addPermission and permissionsOf', () => {
  let emulator: AuthServiceEmulator;
  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({ seed });
  });
  afterAll(() => emulator.stop());

  it('adds a validated permission and hands out copies', () => {
    const values = ['a', 'b'];
    const added = emulator.addPermission('billing', {
      name: 'team',
      type: 'string',
      values,
      default: 'a',
      description: 'Team',
    });
    expect(added).toEqual({
      id: expect.stringMatching(UUID),
      name: 'team',
      label: 'team',
      description: 'Team',
      type: 'string',
      values: ['a', 'b'],
      default: 'a',
    });
    values.push('c');
    added.values.length = 0;
    emulator.permissionsOf('billing')[0].name = 'changed';
    expect(emulator.permissionsOf('billing')).toEqual([{ ...added, values: ['a', 'b'] }]);
  });

  it('throws for invalid seeds, duplicates and unknown services', () => {
    expect(() =>
      emulator.addPermission('billing', { name: 'bad', type: 'integer', values: [1], default: 2 }),
    ).toThrow(/default must be one of values/);
    expect(() =>
      emulator.addPermission('billing', { name: 'team', type: 'boolean', default: true }),
    ).toThrow(/already has a permission named "team"/);
    const { id } = emulator.permissionsOf('billing')[0];
    expect(() =>
      emulator.addPermission('billing', {
        id: String(id),
        name: 'other',
        type: 'boolean',
        default: true,
      }),
    ).toThrow(/already has a permission with id/);
    expect(() =>
      emulator.addPermission('nope', { name: 'x', type: 'boolean', default: true }),
    ).toThrow(/Unknown service/);
    expect(() => emulator.permissionsOf('nope')).toThrow(/Unknown service/);
  });
});
