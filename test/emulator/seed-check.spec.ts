import { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkEmulatorSeed, EmulatorSeedError } from '../../lib/testing/emulator/seed-check.js';

// The check of a seed file (`apex-auth emulator --seed`): every wrong field named by its path.

const example = JSON.parse(
  readFileSync(new URL('../../examples/emulator-seed.json', import.meta.url), 'utf8'),
);

/** The issues of `document`, as `path: message` lines. */
function issuesOf(document: unknown): string[] {
  try {
    checkEmulatorSeed(document);
  } catch (error) {
    expect(error).toBeInstanceOf(EmulatorSeedError);
    return (error as EmulatorSeedError).issues.map(({ path, message }) => `${path}: ${message}`);
  }
  throw new Error('the seed was accepted');
}

const user = (fields: object = {}) => ({ username: 'alice', password: 'alice-pw', ...fields });

describe('checkEmulatorSeed', () => {
  it('accepts the example seed as it is, and the emulator starts with it', async () => {
    expect(checkEmulatorSeed(example)).toBe(example);
    const emulator = await AuthServiceEmulator.start({ seed: checkEmulatorSeed(example) });
    try {
      expect(emulator.permissionsOf('shop').map((p) => p.name)).toEqual([
        'canEditProducts',
        'region',
      ]);
      expect(emulator.metadataOf('shop', 'editor')).toEqual({
        canEditProducts: true,
        region: 'us',
      });
    } finally {
      await emulator.stop();
    }
  });

  it('accepts an empty seed, and one with empty lists', () => {
    expect(checkEmulatorSeed({})).toEqual({});
    expect(checkEmulatorSeed({ users: [], services: [], clients: [] })).toBeDefined();
  });

  it.each<[string, unknown, string[]]>([
    ['no object', [], [': a seed must be a JSON object']],
    [
      'an unknown top-level field',
      { user: [] },
      ['user: unknown field (known: users, services, clients)'],
    ],
    ['users that are no list', { users: {} }, ['users: must be an array']],
    [
      'a missing password and a misspelt field',
      { users: [user(), { username: 'bob', pasword: 'x' }] },
      [
        'users[1].pasword: unknown field (known: id, username, password, firstName, lastName, email, phoneNumber, isAdmin)',
        'users[1].password: must be a non-empty string',
      ],
    ],
    [
      'wrong types',
      { users: [user({ isAdmin: 'yes', email: 3, id: '' })] },
      [
        'users[0].id: must be a non-empty string',
        'users[0].email: must be a string',
        'users[0].isAdmin: must be true or false',
      ],
    ],
    [
      'a username and an id taken twice',
      { users: [user({ id: 'u1' }), user({ id: 'u1' })] },
      [
        'users[1].username: "alice" is already users[0]\'s',
        'users[1].id: "u1" is already users[0]\'s',
      ],
    ],
    [
      'admins and metadata naming nobody',
      {
        users: [user({ id: 'u1' })],
        services: [
          {
            name: 'shop',
            admins: ['u1', 'carol', 7],
            metadata: { alice: { a: 1 }, 'bob@example.com': {}, u1: 'no object' },
          },
        ],
      },
      [
        'services[0].admins[1]: no user "carol" in users (by username or id)',
        'services[0].admins[2]: must be a username or a user id',
        'services[0].metadata["bob@example.com"]: no user "bob@example.com" in users (by username or id)',
        'services[0].metadata.u1: must be an object',
      ],
    ],
    [
      'a service without a name, and one named twice',
      { services: [{ admins: [] }, { name: 's' }, { name: 's' }] },
      [
        'services[0].name: must be a non-empty string',
        'services[2].name: "s" is already services[1]\'s',
      ],
    ],
    [
      'permissions the emulator would refuse',
      {
        services: [
          {
            name: 'shop',
            permissions: [
              { name: 'region', type: 'string', values: ['eu', 2], default: 'eu' },
              { name: 'canEdit', type: 'bool', default: false, label: 4 },
              { name: 'limit', type: 'integer', values: [1, 2], default: 3, id: 9 },
              { name: 'ok', type: 'boolean', default: true },
              { name: 'ok', type: 'boolean', default: false, extra: 1 },
            ],
          },
        ],
      },
      [
        'services[0].permissions[0].values[1]: Input should be a valid string',
        'services[0].permissions[1].label: must be a string',
        "services[0].permissions[1].type: Input should be 'string', 'integer' or 'boolean'",
        'services[0].permissions[2].id: must be a non-empty string',
        'services[0].permissions[2].default: Value error, default must be one of values',
        'services[0].permissions[4].extra: unknown field (known: id, name, label, description, type, values, default)',
        'services[0].permissions[4].name: "ok" is already services[0].permissions[3]\'s',
      ],
    ],
    [
      'clients without a secret, and one registered twice',
      { clients: [{ clientId: 'web' }, { clientId: 'web', clientSecret: 's' }] },
      [
        'clients[0].clientSecret: must be a non-empty string',
        'clients[1].clientId: "web" is already clients[0]\'s',
      ],
    ],
  ])('refuses %s, naming each wrong field by its path', (_case, document, issues) => {
    expect(issuesOf(document)).toEqual(issues);
  });

  it('joins every issue into its message, and never quotes a password', () => {
    const secret = 'not-in-the-message';
    const error = (() => {
      try {
        checkEmulatorSeed({ users: [{ username: 'a', password: secret, isAdmin: secret }, {}] });
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error?.message).toBe(
      'users[0].isAdmin: must be true or false; users[1].username: must be a non-empty string; users[1].password: must be a non-empty string',
    );
  });
});
