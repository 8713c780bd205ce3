import type { AuthServiceEmulator, WireUser } from '@apex/nest-auth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthServiceConflictError,
  AuthServiceForbiddenError,
  AuthServiceNotFoundError,
  AuthServiceUnauthorizedError,
  AuthServiceValidationError,
} from '../../lib/errors/index.js';
import type { ServicePermissionDefinition } from '../../lib/client/auth-service.entities.js';
import {
  ADMIN,
  ALICE,
  BOB,
  ROOT,
  SERVICE,
  ShopPermissions,
  expectNoSecrets,
  plainClient,
  rejectionOf,
  startEmulator,
  typedClient,
} from './client-fixtures.js';

const REGION: ServicePermissionDefinition = {
  name: 'region',
  label: 'Region',
  description: 'Where the user sells',
  type: 'string',
  values: ['eu', 'us'],
  default: 'eu',
};

function expectNoPasswordHash(value: unknown, wire: WireUser): void {
  expect(value).not.toHaveProperty('hashedPassword');
  expect(value).not.toHaveProperty('hashed_password');
  expect(JSON.stringify(value)).not.toContain(wire.hashed_password);
}

describe('AuthApiForToken', () => {
  let emulator: AuthServiceEmulator;
  let wire: Record<string, WireUser>;

  beforeAll(async () => {
    emulator = await startEmulator({ permissionUpdate: true });
    // Only addUser hands out the stored record (hash included): carol is added here to compare with it.
    wire = {
      carol: emulator.addUser({ username: 'carol', password: 'carol-Pa55-SECRET', email: 'c@x' }),
    };
    emulator.setMetadata(SERVICE, 'carol', { region: 'eu' });
  });
  afterAll(() => emulator.stop());

  const tokenOf = (user: string): string => emulator.issueToken(user);

  describe('user()', () => {
    it('maps the token owner to camelCase, without the password hash', async () => {
      const user = await plainClient(emulator).forToken(tokenOf('carol')).user();
      expect(user).toEqual({
        id: wire.carol.id,
        username: 'carol',
        firstName: wire.carol.first_name,
        lastName: wire.carol.last_name,
        email: 'c@x',
        phoneNumber: wire.carol.phone_number,
        isAdmin: false,
      });
      expectNoPasswordHash(user, wire.carol);
    });

    it('says isAdmin for a superadmin', async () => {
      const user = await plainClient(emulator).forToken(tokenOf(ROOT.username)).user();
      expect(user.isAdmin).toBe(true);
    });

    it.each([
      ['expired', () => emulator.issueToken(ALICE.username, { ttlSeconds: -1 })],
      [
        'revoked',
        () => {
          const token = emulator.issueToken(ALICE.username);
          emulator.revokeToken(token);
          return token;
        },
      ],
      ['forged', () => `${emulator.issueToken(ALICE.username)}x`],
    ])('refuses an %s token with AuthServiceUnauthorizedError', async (_case, token) => {
      const value = token();
      const error = await rejectionOf(plainClient(emulator).forToken(value).user());
      expect(error).toBeInstanceOf(AuthServiceUnauthorizedError);
      expect(error).toMatchObject({ operation: 'user', status: 401 });
      expectNoSecrets(error, [value, value.split('.')[2]]);
    });
  });

  describe('metadataFor()', () => {
    it('reads a plain record, keeping only string, number and boolean values', async () => {
      const bob = await plainClient(emulator).forToken(tokenOf(BOB.username)).user();
      emulator.setMetadata(SERVICE, BOB.username, {
        canEdit: false,
        region: 'us',
        maxItems: 3,
        nested: { a: 1 },
        list: [1],
        nothing: null,
      });
      const admin = plainClient(emulator).forToken(tokenOf(ADMIN.username));
      expect(await admin.metadataFor(bob.id)).toEqual({
        canEdit: false,
        region: 'us',
        maxItems: 3,
      });
    });

    it('types metadata with a permissions class: defaults filled, unknown keys dropped', async () => {
      const alice = await plainClient(emulator).forToken(tokenOf(ALICE.username)).user();
      emulator.setMetadata(SERVICE, ALICE.username, {
        canEdit: true,
        region: 'mars', // not one of the values: the default applies
        stranger: 'dropped',
      });
      const metadata = await typedClient(emulator)
        .forToken(tokenOf(ALICE.username))
        .metadataFor(alice.id);
      expect(metadata).toBeInstanceOf(ShopPermissions);
      expect({ ...metadata }).toEqual({ canEdit: true, region: 'eu', maxItems: 10 });
      expect(metadata).not.toHaveProperty('stranger');
    });

    it('gives the defaults to a user with nothing stored', async () => {
      const root = await plainClient(emulator).forToken(tokenOf(ROOT.username)).user();
      const auth = typedClient(emulator).forToken(tokenOf(ROOT.username));
      expect({ ...(await auth.metadataFor(root.id)) }).toEqual({
        canEdit: false,
        region: 'eu',
        maxItems: 10,
      });
      expect(
        await plainClient(emulator).forToken(tokenOf(ROOT.username)).metadataFor(root.id),
      ).toEqual({});
    });

    it('maps 403 for another user without rights, 404 for an unknown user or service', async () => {
      const alice = await plainClient(emulator).forToken(tokenOf(ALICE.username)).user();
      const asBob = plainClient(emulator).forToken(tokenOf(BOB.username));
      const forbidden = await rejectionOf(asBob.metadataFor(alice.id));
      expect(forbidden).toBeInstanceOf(AuthServiceForbiddenError);
      expect(forbidden).toMatchObject({ operation: 'metadataFor', status: 403 });

      const asAdmin = plainClient(emulator).forToken(tokenOf(ADMIN.username));
      const noUser = await rejectionOf(asAdmin.metadataFor('no-such-user'));
      expect(noUser).toBeInstanceOf(AuthServiceNotFoundError);
      expect(noUser).toMatchObject({ operation: 'metadataFor', status: 404 });

      const elsewhere = plainClient(emulator, { serviceName: 'no-such-service' });
      const noService = await rejectionOf(
        elsewhere.forToken(tokenOf(ROOT.username)).metadataFor(alice.id),
      );
      expect(noService).toBeInstanceOf(AuthServiceNotFoundError);
    });

    it('sends ids as one encoded path segment, and refuses dot segments and lone surrogates', async () => {
      const asAdmin = plainClient(emulator).forToken(tokenOf(ADMIN.username));
      emulator.resetCounters();
      // Unencoded, this would reach /services/shop/users (endpoint 6) instead.
      const error = await rejectionOf(asAdmin.fullMetadataFor('../users'));
      expect(error).toBeInstanceOf(AuthServiceNotFoundError);
      expect(emulator.requestCount('serviceUser')).toBe(1);
      expect(emulator.requestCount('serviceUsers')).toBe(0);
      // A lone surrogate cannot be percent-encoded: the app's argument, not an unreachable auth-service.
      for (const id of ['', '.', '..', 'u\ud800']) {
        await expect(asAdmin.metadataFor(id)).rejects.toBeInstanceOf(TypeError);
      }
      expect(emulator.requestCount('metadata')).toBe(0);
    });
  });

  describe('fullMetadataFor() and usersForService()', () => {
    it('returns the user without the password hash, the admin flag and the metadata', async () => {
      const info = await typedClient(emulator)
        .forToken(tokenOf(ADMIN.username))
        .fullMetadataFor(wire.carol.id);
      expect(info.user).toMatchObject({ id: wire.carol.id, username: 'carol', isAdmin: false });
      expect(info.isServiceAdmin).toBe(false);
      expect(info.metadata).toBeInstanceOf(ShopPermissions);
      expect(info.metadata.region).toBe('eu');
      expectNoPasswordHash(info.user, wire.carol);
      expectNoPasswordHash(info, wire.carol);
    });

    it('lists the service users, none with a password hash', async () => {
      const users = await plainClient(emulator).forToken(tokenOf(ROOT.username)).usersForService();
      const names = users.map((info) => info.user.username);
      expect(names).toEqual([...names].sort());
      expect(names).toEqual(expect.arrayContaining([ADMIN.username, 'carol']));
      expect(users.find((info) => info.user.username === ADMIN.username)?.isServiceAdmin).toBe(
        true,
      );
      for (const info of users) {
        expect(info.user).not.toHaveProperty('hashedPassword');
        expect(info.user).not.toHaveProperty('hashed_password');
      }
      expect(JSON.stringify(users)).not.toContain(wire.carol.hashed_password);
      expect(JSON.stringify(users)).not.toMatch(/hashed/i);
    });

    it('refuses the user list to a plain user with AuthServiceForbiddenError', async () => {
      const error = await rejectionOf(
        plainClient(emulator).forToken(tokenOf(BOB.username)).usersForService(),
      );
      expect(error).toBeInstanceOf(AuthServiceForbiddenError);
      expect(error).toMatchObject({ operation: 'usersForService' });
    });
  });

  describe('permissions', () => {
    it('creates, lists, updates and deletes a permission', async () => {
      const admin = plainClient(emulator).forToken(tokenOf(ADMIN.username));
      const created = await admin.createPermission(REGION);
      expect(created).toEqual({ ...REGION, id: expect.any(String) });

      expect(await admin.permissions()).toContainEqual(created);

      const changed = { ...REGION, label: 'Sales region', default: 'us' };
      const updated = await admin.updatePermission(created.id, changed);
      expect(updated).toEqual({ ...changed, id: created.id });

      await expect(admin.deletePermission(created.id)).resolves.toBeUndefined();
      expect((await admin.permissions()).map((p) => p.name)).not.toContain('region');
    });

    it('sends only the contract fields of a definition', async () => {
      const admin = plainClient(emulator).forToken(tokenOf(ADMIN.username));
      const created = await admin.createPermission({
        ...REGION,
        name: 'extra-fields',
        id: 'client-chosen',
        hashed_password: 'x',
      } as ServicePermissionDefinition);
      expect(created.id).not.toBe('client-chosen');
      expect(created).not.toHaveProperty('hashed_password');
      await admin.deletePermission(created.id);
    });

    it('maps a duplicate name to AuthServiceConflictError', async () => {
      const admin = plainClient(emulator).forToken(tokenOf(ADMIN.username));
      const first = await admin.createPermission({ ...REGION, name: 'dup' });
      const error = await rejectionOf(admin.createPermission({ ...REGION, name: 'dup' }));
      expect(error).toBeInstanceOf(AuthServiceConflictError);
      expect(error).toMatchObject({ operation: 'createPermission', status: 409 });
      await admin.deletePermission(first.id);
    });

    it('maps an invalid permission to AuthServiceValidationError with issues, not inputs', async () => {
      const admin = plainClient(emulator).forToken(tokenOf(ADMIN.username));
      const error = await rejectionOf(
        admin.createPermission({
          name: 'bad',
          label: 'Bad',
          description: '',
          type: 'integer',
          values: [],
          default: 'INPUT-VALUE-h8',
        }),
      );
      expect(error).toBeInstanceOf(AuthServiceValidationError);
      const { issues, status } = error as AuthServiceValidationError;
      expect(status).toBe(422);
      expect(issues.length).toBeGreaterThan(0);
      expect(issues.some((issue) => issue.startsWith('body.default: '))).toBe(true);
      expectNoSecrets(error, ['INPUT-VALUE-h8']);
      expect(JSON.stringify(issues)).not.toContain('INPUT-VALUE-h8');
    });

    it('maps a plain user writing the schema to AuthServiceForbiddenError', async () => {
      const error = await rejectionOf(
        plainClient(emulator).forToken(tokenOf(BOB.username)).createPermission(REGION),
      );
      expect(error).toBeInstanceOf(AuthServiceForbiddenError);
      expect(error).toMatchObject({ operation: 'createPermission', status: 403 });
    });

    it('maps unknown permission ids to AuthServiceNotFoundError 404', async () => {
      const admin = plainClient(emulator).forToken(tokenOf(ADMIN.username));
      const deleted = await rejectionOf(admin.deletePermission('no-such-id'));
      expect(deleted).toBeInstanceOf(AuthServiceNotFoundError);
      expect(deleted).toMatchObject({ operation: 'deletePermission', status: 404 });
      const updated = await rejectionOf(admin.updatePermission('no-such-id', REGION));
      expect(updated).toMatchObject({ operation: 'updatePermission', status: 404 });
    });

    it('lets any authenticated user read the schema', async () => {
      await expect(
        plainClient(emulator).forToken(tokenOf(BOB.username)).permissions(),
      ).resolves.toEqual(expect.any(Array));
    });
  });
});

describe('AuthApiForToken against optional-endpoint and id variants', () => {
  let emulator: AuthServiceEmulator;

  beforeAll(async () => {
    emulator = await startEmulator({ integerPermissionIds: true });
  });
  afterAll(() => emulator.stop());

  it('turns integer permission ids into strings and uses them', async () => {
    const admin = plainClient(emulator).forToken(emulator.issueToken(ADMIN.username));
    const created = await admin.createPermission(REGION);
    expect(typeof emulator.permissionsOf(SERVICE)[0].id).toBe('number');
    expect(created.id).toMatch(/^\d+$/);
    expect((await admin.permissions()).map((p) => p.id)).toEqual([created.id]);
    await admin.deletePermission(created.id);
    expect(emulator.permissionsOf(SERVICE)).toEqual([]);
  });

  it('reports a missing in-place update endpoint as AuthServiceNotFoundError 405', async () => {
    const admin = plainClient(emulator).forToken(emulator.issueToken(ADMIN.username));
    const created = await admin.createPermission(REGION);
    const error = await rejectionOf(admin.updatePermission(created.id, REGION));
    expect(error).toBeInstanceOf(AuthServiceNotFoundError);
    expect(error).toMatchObject({ operation: 'updatePermission', status: 405 });
    await admin.deletePermission(created.id);
  });
});
