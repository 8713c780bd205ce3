import {
  AuthServiceEmulator,
  type AuthServiceEmulatorOptions,
  type EmulatorSeed,
} from '@apex/nest-auth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, call, decodeJwt, form, login } from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('start() and stop()', () => {
  it('rejects invalid options before listening', async () => {
    const invalid: AuthServiceEmulatorOptions[] = [
      { port: -1 },
      { port: 70000 },
      { port: 1.5 },
      { tokenTtlSeconds: 0 },
      { tokenTtlSeconds: -10 },
      { tokenTtlSeconds: 2.5 },
      { signing: { algorithm: 'ES256' } as unknown as AuthServiceEmulatorOptions['signing'] },
      { signing: { algorithm: 'HS256', secret: '' } },
    ];
    for (const options of invalid) {
      await expect(AuthServiceEmulator.start(options), JSON.stringify(options)).rejects.toThrow();
    }
  });

  it('rejects a broken seed, naming the problem but no secret', async () => {
    const broken: [EmulatorSeed, RegExp][] = [
      [{ services: [{ name: 's', admins: ['ghost'] }] }, /Unknown user "ghost"/],
      [
        {
          users: [
            { username: 'a', password: 'p1' },
            { username: 'a', password: 'p2' },
          ],
        },
        /already exists/,
      ],
      [
        {
          users: [
            { id: 'same', username: 'a', password: 'p1' },
            { id: 'same', username: 'b', password: 'p2' },
          ],
        },
        /id "same" already exists/,
      ],
      [{ users: [{ username: '', password: 'p' }] }, /non-empty username/],
      [{ users: [{ username: 'a', password: '' }] }, /non-empty password/],
      [{ services: [{ name: 's' }, { name: 's' }] }, /service named "s" already exists/],
      [{ services: [{ name: 's', metadata: { ghost: {} } }] }, /Unknown user "ghost"/],
      [
        {
          services: [
            {
              name: 's',
              permissions: [{ name: 'p', type: 'boolean', values: ['x'], default: true }],
            },
          ],
        },
        /Invalid permission seed "p": values: Value error/,
      ],
      [
        {
          clients: [
            { clientId: 'c', clientSecret: 'top-secret-1' },
            { clientId: 'c', clientSecret: 'top-secret-2' },
          ],
        },
        /client with id "c" already exists/,
      ],
      [{ clients: [{ clientId: 'c', clientSecret: '' }] }, /non-empty clientSecret/],
    ];
    for (const [seed, message] of broken) {
      const error = await AuthServiceEmulator.start({ seed }).then(
        () => undefined,
        (reason: unknown) => reason as Error,
      );
      expect(error?.message).toMatch(message);
      expect(error?.message).not.toMatch(/top-secret|p1|p2/);
    }
  });

  it('rejects when the port is taken, and can listen on a given port', async () => {
    const first = await AuthServiceEmulator.start();
    try {
      const port = Number(new URL(first.url).port);
      await expect(AuthServiceEmulator.start({ port })).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
      await first.stop();
      const second = await AuthServiceEmulator.start({ port });
      expect(second.url).toBe(`http://127.0.0.1:${port}`);
      await second.stop();
    } finally {
      await first.stop();
    }
  });

  it('runs independent emulators side by side, and stop() is idempotent', async () => {
    const seed = { users: [{ username: 'alice', password: 'pw' }] };
    const [a, b] = await Promise.all([
      AuthServiceEmulator.start({ seed }),
      AuthServiceEmulator.start({ seed }),
    ]);
    expect(a.url).not.toBe(b.url);
    expect(a.hmacSecret).not.toBe(b.hmacSecret);
    expect((await call(b, '/auth/user', bearer(a.issueToken('alice')))).status).toBe(401);
    await Promise.all([a.stop(), a.stop(), b.stop()]);
    await a.stop();
    await expect(fetch(`${a.url}/auth/user`)).rejects.toThrow(TypeError);
  });
});

describe('seeding and inspection', () => {
  let emulator: AuthServiceEmulator;
  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({
      tokenTtlSeconds: 60,
      seed: {
        users: [{ username: 'alice', password: 'same-pw' }],
        services: [{ name: 'billing', metadata: { alice: { level: 1 } } }],
      },
    });
  });
  afterAll(() => emulator.stop());

  it('adds users with a generated id and a salted hash, never the password', async () => {
    const bob = emulator.addUser({
      username: 'bob',
      password: 'same-pw',
      email: 'bob@example.com',
    });
    expect(bob).toEqual({
      id: expect.stringMatching(UUID),
      username: 'bob',
      first_name: '',
      last_name: '',
      email: 'bob@example.com',
      phone_number: '',
      is_admin: false,
      hashed_password: expect.stringMatching(/^scrypt\$/),
    });
    expect(JSON.stringify(bob)).not.toContain('same-pw');
    const alice = await call(emulator, '/auth/user', bearer(emulator.issueToken('alice')));
    expect(alice.body.hashed_password).not.toBe(bob.hashed_password);

    bob.username = 'mallory';
    const token = (await login(emulator, 'bob', 'same-pw')).access_token;
    expect(decodeJwt(token).payload.exp - decodeJwt(token).payload.iat).toBe(60);
    expect((await call(emulator, '/auth/user', bearer(token))).body.id).toBe(bob.id);
  });

  it('refuses duplicate or incomplete users', () => {
    expect(() => emulator.addUser({ username: 'alice', password: 'x' })).toThrow(/already exists/);
    const { id } = emulator.addUser({ username: 'carol', password: 'x' });
    expect(() => emulator.addUser({ id, username: 'carol2', password: 'x' })).toThrow(
      /already exists/,
    );
    expect(() => emulator.addUser({ username: 'dan' } as never)).toThrow(TypeError);
  });

  it('adds services and clients at run time', async () => {
    emulator.addService({ name: 'crm', admins: ['alice'] });
    const answer = await call(
      emulator,
      '/services/crm/users',
      bearer(emulator.issueToken('alice')),
    );
    expect(answer.status).toBe(200);
    expect(answer.body.data.users[0].is_service_admin).toBe(true);
    expect(() => emulator.addService({ name: 'crm' })).toThrow(/already exists/);

    emulator.addClient({ clientId: 'app', clientSecret: 'app-secret' });
    const code = emulator.issueCode('app', 'alice');
    const exchanged = await call(
      emulator,
      '/auth/oauth/token',
      form({ code, client_id: 'app', client_secret: 'app-secret' }),
    );
    expect(exchanged.status).toBe(200);
    expect(() => emulator.addClient({ clientId: 'app', clientSecret: 'x' })).toThrow(
      /already exists/,
    );
  });

  it('stores and returns copies of metadata', () => {
    expect(emulator.metadataOf('billing', 'alice')).toEqual({ level: 1 });
    const bobId = emulator.addUser({ username: 'erin', password: 'x' }).id;
    expect(emulator.metadataOf('billing', bobId)).toBeUndefined();

    const input = { level: 2, nested: { tags: ['a'] } };
    emulator.setMetadata('billing', 'erin', input);
    input.nested.tags.push('b');
    const read = emulator.metadataOf('billing', 'erin')!;
    expect(read).toEqual({ level: 2, nested: { tags: ['a'] } });
    (read.nested as { tags: string[] }).tags.push('c');
    expect(emulator.metadataOf('billing', bobId)).toEqual({ level: 2, nested: { tags: ['a'] } });
  });

  it('throws for unknown services and users in every seeding method', () => {
    expect(() => emulator.setMetadata('nope', 'alice', {})).toThrow(/Unknown service/);
    expect(() => emulator.setMetadata('billing', 'ghost', {})).toThrow(/Unknown user/);
    expect(() => emulator.metadataOf('billing', 'ghost')).toThrow(/Unknown user/);
    expect(() => emulator.setServiceAdmins('nope', [])).toThrow(/Unknown service/);
    expect(() => emulator.setServiceAdmins('billing', ['ghost'])).toThrow(/Unknown user/);
    expect(() => emulator.setMetadata('billing', 'alice', null as never)).toThrow(
      /must be an object/,
    );
    expect(() => emulator.setMetadata('billing', 'alice', [] as never)).toThrow(
      /must be an object/,
    );
    expect(() => emulator.revokeToken('anything')).not.toThrow();
  });
});
