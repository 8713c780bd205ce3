import { AuthServiceEmulator, type EmulatorSeed } from '@apex/nest-auth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, call } from './helpers.js';

const seed: EmulatorSeed = {
  users: [
    {
      id: 'u-root',
      username: 'root',
      password: 'root-pw',
      firstName: 'Ro',
      lastName: 'Ot',
      email: 'root@example.com',
      phoneNumber: '+100',
      isAdmin: true,
    },
    { id: 'u-carol', username: 'carol', password: 'pw' },
    { id: 'u-alice', username: 'alice', password: 'pw' },
    { id: 'u-dave', username: 'dave', password: 'pw' },
    { id: 'u-bob', username: 'bob', password: 'pw' },
    { id: 'u-erin', username: 'erin', password: 'pw' },
  ],
  services: [
    {
      name: 'billing',
      admins: ['carol'],
      permissions: [
        { name: 'level', type: 'integer', values: [1, 2], default: 1 },
        { name: 'canExport', type: 'boolean', default: false },
      ],
      metadata: { alice: { level: 2 }, 'u-bob': { canExport: true } },
    },
    { name: 'team a/b', admins: ['u-alice'] },
  ],
};

describe('user and service read endpoints (3-7)', () => {
  let emulator: AuthServiceEmulator;
  let token: (user: string) => string;
  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({ seed });
    token = (user) => emulator.issueToken(user);
  });
  afterAll(() => emulator.stop());

  describe('GET /auth/user (3)', () => {
    it("answers the owner's full record, hashed_password included as the real service leaks it", async () => {
      const answer = await call(emulator, '/auth/user', bearer(token('root')));
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({
        id: 'u-root',
        username: 'root',
        first_name: 'Ro',
        last_name: 'Ot',
        email: 'root@example.com',
        phone_number: '+100',
        is_admin: true,
        hashed_password: expect.stringMatching(/^scrypt\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/),
      });
      expect(answer.text).not.toContain('root-pw');
    });

    it('fills absent profile fields with empty strings', async () => {
      const answer = await call(emulator, '/auth/user', bearer(token('bob')));
      expect(answer.body).toMatchObject({
        id: 'u-bob',
        first_name: '',
        last_name: '',
        email: '',
        phone_number: '',
        is_admin: false,
      });
    });

    it('answers 401 without a token', async () => {
      expect((await call(emulator, '/auth/user')).status).toBe(401);
    });
  });

  describe('GET /services/{service}/metadata/{user_id} (4)', () => {
    it("answers the user's own metadata", async () => {
      const answer = await call(
        emulator,
        '/services/billing/metadata/u-alice',
        bearer(token('alice')),
      );
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({
        data: { metadata: { user_id: 'u-alice', metadata: { level: 2 } } },
      });
    });

    it('answers {} when nothing is stored', async () => {
      const answer = await call(
        emulator,
        '/services/billing/metadata/u-erin',
        bearer(token('erin')),
      );
      expect(answer.body).toEqual({ data: { metadata: { user_id: 'u-erin', metadata: {} } } });
    });

    it("lets a service admin and a superadmin read someone else's", async () => {
      for (const reader of ['carol', 'root']) {
        const answer = await call(
          emulator,
          '/services/billing/metadata/u-bob',
          bearer(token(reader)),
        );
        expect(answer.status).toBe(200);
        expect(answer.body.data.metadata.metadata).toEqual({ canExport: true });
      }
    });

    it('refuses other users with 403', async () => {
      const answer = await call(
        emulator,
        '/services/billing/metadata/u-bob',
        bearer(token('alice')),
      );
      expect(answer.status).toBe(403);
      expect(answer.body).toEqual({ detail: 'Not enough permissions' });
    });

    it('checks in FastAPI order: 401, unknown service 404, 403, unknown user 404', async () => {
      const noToken = await call(emulator, '/services/nope/metadata/u-ghost');
      expect(noToken.status).toBe(401);
      const noService = await call(
        emulator,
        '/services/nope/metadata/u-ghost',
        bearer(token('alice')),
      );
      expect(noService.status).toBe(404);
      expect(noService.body).toEqual({ detail: 'Service not found' });
      const forbidden = await call(
        emulator,
        '/services/billing/metadata/u-ghost',
        bearer(token('alice')),
      );
      expect(forbidden.status).toBe(403);
      const noUser = await call(
        emulator,
        '/services/billing/metadata/u-ghost',
        bearer(token('carol')),
      );
      expect(noUser.status).toBe(404);
      expect(noUser.body).toEqual({ detail: 'User not found' });
    });

    it('takes the path user as an id, not a username', async () => {
      const answer = await call(
        emulator,
        '/services/billing/metadata/alice',
        bearer(token('root')),
      );
      expect(answer.status).toBe(404);
    });

    it('reflects metadata set later', async () => {
      emulator.setMetadata('billing', 'dave', { level: 1 });
      const answer = await call(
        emulator,
        '/services/billing/metadata/u-dave',
        bearer(token('dave')),
      );
      expect(answer.body.data.metadata.metadata).toEqual({ level: 1 });
      expect(emulator.metadataOf('billing', 'u-dave')).toEqual({ level: 1 });
    });
  });

  describe('GET /services/{service}/users/{user_id} (5)', () => {
    it('answers the user, admin flag and metadata', async () => {
      const answer = await call(
        emulator,
        '/services/billing/users/u-carol',
        bearer(token('carol')),
      );
      expect(answer.status).toBe(200);
      expect(answer.body.data.user.is_service_admin).toBe(true);
      expect(answer.body.data.user.metadata).toEqual({});
      expect(answer.body.data.user.user).toMatchObject({ id: 'u-carol', username: 'carol' });
      expect(answer.body.data.user.user.hashed_password).toMatch(/^scrypt\$/);

      const alice = await call(emulator, '/services/billing/users/u-alice', bearer(token('alice')));
      expect(alice.body).toEqual({
        data: {
          user: {
            user: expect.objectContaining({ id: 'u-alice' }),
            is_service_admin: false,
            metadata: { level: 2 },
          },
        },
      });
    });

    it('lets admins read others and refuses other users', async () => {
      expect(
        (await call(emulator, '/services/billing/users/u-alice', bearer(token('root')))).status,
      ).toBe(200);
      expect(
        (await call(emulator, '/services/billing/users/u-alice', bearer(token('carol')))).status,
      ).toBe(200);
      const answer = await call(emulator, '/services/billing/users/u-alice', bearer(token('bob')));
      expect(answer.status).toBe(403);
      expect(answer.body).toEqual({ detail: 'Not enough permissions' });
    });

    it('answers 404 for an unknown service or user', async () => {
      const noService = await call(
        emulator,
        '/services/nope/users/u-alice',
        bearer(token('alice')),
      );
      expect(noService.body).toEqual({ detail: 'Service not found' });
      const noUser = await call(emulator, '/services/billing/users/u-ghost', bearer(token('root')));
      expect(noUser.status).toBe(404);
      expect(noUser.body).toEqual({ detail: 'User not found' });
      expect((await call(emulator, '/services/billing/users/u-ghost')).status).toBe(401);
    });
  });

  describe('GET /services/{service}/users (6)', () => {
    it('lists admins and users with metadata, by username', async () => {
      emulator.setMetadata('billing', 'dave', {});
      const answer = await call(emulator, '/services/billing/users', bearer(token('carol')));
      expect(answer.status).toBe(200);
      const users = answer.body.data.users;
      expect(users.map((info: { user: { username: string } }) => info.user.username)).toEqual([
        'alice',
        'bob',
        'carol',
        'dave',
      ]);
      expect(users[2]).toEqual({
        user: expect.objectContaining({ id: 'u-carol', hashed_password: expect.any(String) }),
        is_service_admin: true,
        metadata: {},
      });
      expect(users[1].metadata).toEqual({ canExport: true });
    });

    it('is for service admins and superadmins only', async () => {
      expect((await call(emulator, '/services/billing/users', bearer(token('root')))).status).toBe(
        200,
      );
      const answer = await call(emulator, '/services/billing/users', bearer(token('alice')));
      expect(answer.status).toBe(403);
      expect(answer.body).toEqual({ detail: 'Not enough permissions' });
      expect((await call(emulator, '/services/nope/users', bearer(token('alice')))).status).toBe(
        404,
      );
    });

    it('follows admin changes', async () => {
      emulator.setMetadata('billing', 'dave', {});
      emulator.setServiceAdmins('billing', ['bob']);
      try {
        expect(
          (await call(emulator, '/services/billing/users', bearer(token('carol')))).status,
        ).toBe(403);
        const answer = await call(emulator, '/services/billing/users', bearer(token('bob')));
        expect(
          answer.body.data.users.map((info: { user: { id: string } }) => info.user.id),
        ).toEqual(['u-alice', 'u-bob', 'u-dave']);
      } finally {
        emulator.setServiceAdmins('billing', ['carol']);
      }
    });
  });

  describe('GET /services/{service}/permissions (7)', () => {
    it('lists the schema in creation order to any authenticated user', async () => {
      const answer = await call(emulator, '/services/billing/permissions', bearer(token('dave')));
      expect(answer.status).toBe(200);
      expect(answer.body.data.permissions).toEqual([
        {
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          name: 'level',
          label: 'level',
          description: '',
          type: 'integer',
          values: [1, 2],
          default: 1,
        },
        {
          id: expect.any(String),
          name: 'canExport',
          label: 'canExport',
          description: '',
          type: 'boolean',
          values: [],
          default: false,
        },
      ]);
      expect(answer.body.data.permissions).toEqual(emulator.permissionsOf('billing'));
    });

    it('answers 401 without a token and 404 for an unknown service', async () => {
      expect((await call(emulator, '/services/billing/permissions')).status).toBe(401);
      const answer = await call(emulator, '/services/nope/permissions', bearer(token('dave')));
      expect(answer.status).toBe(404);
      expect(answer.body).toEqual({ detail: 'Service not found' });
    });
  });

  it('URL-decodes path segments', async () => {
    const path = `/services/${encodeURIComponent('team a/b')}/users/${encodeURIComponent('u-alice')}`;
    const answer = await call(emulator, path, bearer(token('alice')));
    expect(answer.status).toBe(200);
    expect(answer.body.data.user.is_service_admin).toBe(true);
    const escaped = await call(
      emulator,
      '/services/team%20a%2Fb/permissions',
      bearer(token('alice')),
    );
    expect(escaped.status).toBe(200);
  });
});
