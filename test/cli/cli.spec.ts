import { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_HELP } from '../../lib/cli/cli-help.js';
import { runCli } from '../../lib/cli/run-cli.js';
import { deadUrl } from '../client/client-fixtures.js';

// The command line in process, against the emulator over real HTTP, loading a compiled
// schema module with a real dynamic import().

const SCHEMA_MODULE = fileURLToPath(new URL('./fixtures/shop-schema.js', import.meta.url));
const SCHEMA = `${SCHEMA_MODULE}#ShopPermissions`;
const RELABELLED = `${SCHEMA_MODULE}#relabelledShopPermissions`;
const PASSWORDS = { admin: 'cli-admin-Pa55-SECRET', clerk: 'cli-clerk-Pa55-SECRET' };
const WRITES = { createPermission: 0, updatePermission: 0, deletePermission: 0 };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout, line by line. */
  lines: string[];
}

describe('apex-auth permissions plan|sync', () => {
  let emulator: AuthServiceEmulator;
  /** Everything the command printed in this file, searched for secrets at the end. */
  const printed: string[] = [];
  const secrets: string[] = [...Object.values(PASSWORDS)];

  beforeEach(async () => {
    emulator = await AuthServiceEmulator.start({
      seed: {
        users: [
          { username: 'shop-admin', password: PASSWORDS.admin },
          { username: 'clerk', password: PASSWORDS.clerk },
        ],
        services: [
          {
            name: 'shop',
            admins: ['shop-admin'],
            metadata: { clerk: { canView: false, region: 'us' } },
          },
        ],
      },
    });
  });
  afterEach(async () => {
    secrets.push(...emulator.issuedTokens());
    await emulator.stop();
  });
  afterAll(() => {
    const all = printed.join('\n');
    for (const secret of secrets) expect(all).not.toContain(secret);
  });

  /** The environment of a pipeline: URL, service and admin credentials. */
  const env = (overrides: Record<string, string | undefined> = {}) => ({
    APEX_AUTH_URL: emulator.url,
    APEX_AUTH_SERVICE: 'shop',
    APEX_AUTH_ADMIN_USERNAME: 'shop-admin',
    APEX_AUTH_ADMIN_PASSWORD: PASSWORDS.admin,
    ...overrides,
  });

  async function cli(args: string[], environment: Record<string, string | undefined> = env()) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(args, {
      env: environment,
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
    });
    printed.push(stdout, stderr);
    return { code, stdout, stderr, lines: stdout.split('\n').filter(Boolean) } satisfies Run;
  }

  it('--help prints the usage and exits 0', async () => {
    for (const flag of ['--help', '-h']) {
      const run = await cli([flag], {});
      expect(run).toMatchObject({ code: 0, stdout: CLI_HELP, stderr: '' });
    }
    expect(CLI_HELP).toContain('Usage: apex-auth permissions plan|sync [options]');
  });

  it('plan exits 2 and lists the changes, sync exits 0 and makes them, a second plan exits 0', async () => {
    const plan = await cli(['permissions', 'plan', '--schema', SCHEMA]);
    expect(plan).toMatchObject({ code: 2, stderr: '' });
    expect(plan.lines).toEqual([
      'create canView',
      'create region',
      'Permissions of "shop", plan: 2 to create, 0 to update, 0 to delete, 0 kept, 0 unchanged',
    ]);
    expect(emulator.requestCounts()).toMatchObject(WRITES);

    const sync = await cli(['permissions', 'sync', '--schema', SCHEMA]);
    expect(sync).toMatchObject({ code: 0, stderr: '' });
    expect(sync.lines).toEqual([
      'created canView',
      'created region',
      'Permissions of "shop" synced: created canView, region; 0 unchanged',
    ]);
    expect(emulator.permissionsOf('shop').map((p) => p.name)).toEqual(['canView', 'region']);

    emulator.resetCounters();
    const again = await cli(['permissions', 'plan', '--schema', SCHEMA]);
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.lines).toEqual([
      'Permissions of "shop", plan: 0 to create, 0 to update, 0 to delete, 0 kept, 2 unchanged',
    ]);
    expect(emulator.requestCounts()).toMatchObject(WRITES);
  });

  it('takes the default export when --schema names none, and flags over the environment', async () => {
    const run = await cli(
      [
        'permissions',
        'sync',
        `--schema=${SCHEMA_MODULE}`,
        '--url',
        emulator.url,
        '--service',
        'shop',
        '--admin-username',
        'shop-admin',
        '--admin-password',
        PASSWORDS.admin,
      ],
      { APEX_AUTH_URL: 'http://127.0.0.1:9', APEX_AUTH_SERVICE: 'elsewhere' },
    );
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(emulator.permissionsOf('shop')).toHaveLength(2);
  });

  it('logs in with APEX_AUTH_ADMIN_TOKEN instead of a password', async () => {
    const token = emulator.issueToken('shop-admin');
    const run = await cli(
      ['permissions', 'sync', '--schema', SCHEMA],
      env({
        APEX_AUTH_ADMIN_USERNAME: '',
        APEX_AUTH_ADMIN_PASSWORD: '',
        APEX_AUTH_ADMIN_TOKEN: token,
      }),
    );
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(emulator.requestCount('login')).toBe(0);
  });

  it('a changed permission: plan shows each field old → new; sync keeps it by default, users keep their values', async () => {
    await cli(['permissions', 'sync', '--schema', SCHEMA]);
    emulator.resetCounters();
    const plan = await cli(['permissions', 'plan', '--schema', RELABELLED]);
    expect(plan.code).toBe(2);
    expect(plan.lines[0]).toBe(
      'update region: label "Region" → "Sales region" (without an in-place update upstream: kept as it is)',
    );

    const sync = await cli(['permissions', 'sync', '--schema', RELABELLED]);
    expect(sync.code).toBe(0);
    expect(sync.lines[0]).toBe(
      `kept region as it is upstream, though it differs from the schema: label "Region" → "Sales region" (the auth-service has no in-place update, and onChanged is 'keep')`,
    );
    expect(emulator.requestCounts()).toMatchObject({ ...WRITES, updatePermission: 1 });
    expect(emulator.metadataOf('shop', 'clerk')).toEqual({ canView: false, region: 'us' });
  });

  it('--on-changed recreate drops users’ values of it; --on-changed fail exits 1 naming it', async () => {
    await cli(['permissions', 'sync', '--schema', SCHEMA]);
    const failed = await cli([
      'permissions',
      'sync',
      '--schema',
      RELABELLED,
      '--on-changed',
      'fail',
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      /^apex-auth: permission region differs from the schema \(label "Region" → "Sales region"\)/,
    );
    expect(emulator.metadataOf('shop', 'clerk')).toEqual({ canView: false, region: 'us' });

    const plan = await cli([
      'permissions',
      'plan',
      '--schema',
      RELABELLED,
      '--on-changed=recreate',
    ]);
    expect(plan.lines[0]).toContain(
      "(without an in-place update upstream: deleted and created again, users' values of it dropped)",
    );
    const recreated = await cli([
      'permissions',
      'sync',
      '--schema',
      RELABELLED,
      '--on-changed',
      'recreate',
    ]);
    expect(recreated.code).toBe(0);
    expect(recreated.lines[0]).toMatch(/^replaced region \(deleted and created again; users'/);
    expect(emulator.metadataOf('shop', 'clerk')).toEqual({ canView: false });
    expect(emulator.permissionsOf('shop').find((p) => p.name === 'region')?.label).toBe(
      'Sales region',
    );
  });

  it('deletes only with --prune: plan lists the extras as kept without it, as deletes with it', async () => {
    emulator.addPermission('shop', { name: 'legacy', type: 'boolean', default: false });
    await cli(['permissions', 'sync', '--schema', SCHEMA]);
    expect(emulator.permissionsOf('shop').map((p) => p.name)).toContain('legacy');

    const plan = await cli(['permissions', 'plan', '--schema', SCHEMA]);
    expect(plan.code).toBe(0);
    expect(plan.lines[0]).toBe(
      'keep legacy: not in the schema, and deleting removed permissions is off',
    );
    const prunePlan = await cli(['permissions', 'plan', '--schema', SCHEMA, '--prune']);
    expect(prunePlan.code).toBe(2);
    expect(prunePlan.lines[0]).toBe("delete legacy (users' stored values of it would be dropped)");

    emulator.resetCounters();
    const pruned = await cli(['permissions', 'sync', '--schema', SCHEMA, '--prune']);
    expect(pruned.code).toBe(0);
    expect(pruned.lines[0]).toBe(
      "deleted legacy, which left the schema (users' stored values of it were dropped)",
    );
    expect(emulator.requestCounts()).toMatchObject({ ...WRITES, deletePermission: 1 });
    expect(emulator.permissionsOf('shop').map((p) => p.name)).toEqual(['canView', 'region']);
  });

  it('--json prints the plan or the result as one JSON document', async () => {
    const plan = await cli(['permissions', 'plan', '--schema', SCHEMA, '--json']);
    expect(plan.code).toBe(2);
    expect(JSON.parse(plan.stdout)).toEqual({
      service: 'shop',
      command: 'plan',
      changes: true,
      plan: {
        creates: [
          expect.objectContaining({ name: 'canView', type: 'boolean' }),
          expect.objectContaining({ name: 'region', values: ['eu', 'us'] }),
        ],
        updates: [],
        deletes: [],
        kept: [],
        unchanged: [],
      },
    });
    const sync = await cli(['permissions', 'sync', '--schema', SCHEMA, '--json']);
    expect(sync.code).toBe(0);
    expect(JSON.parse(sync.stdout)).toMatchObject({
      service: 'shop',
      command: 'sync',
      result: { created: ['canView', 'region'], deleted: [], unchanged: [] },
    });
  });

  it('exits 1 with a clear message, and no secret, for a bad URL or bad credentials', async () => {
    const cases: [Record<string, string | undefined>, string][] = [
      [
        { APEX_AUTH_URL: 'auth-service:8000' },
        'apex-auth: --url (or APEX_AUTH_URL): must be an absolute http(s) URL, e.g. http://auth-service:8000\n',
      ],
      [
        { APEX_AUTH_URL: await deadUrl() },
        'apex-auth: auth-service unavailable (login: connection): is --url (or APEX_AUTH_URL) right, and the auth-service up?\n',
      ],
      [
        { APEX_AUTH_ADMIN_PASSWORD: 'wrong-Pa55-SECRET' },
        'apex-auth: auth-service rejected the credentials (login: 401): check the admin username and password\n',
      ],
      [
        { APEX_AUTH_ADMIN_USERNAME: 'clerk', APEX_AUTH_ADMIN_PASSWORD: PASSWORDS.clerk },
        'apex-auth: auth-service refused the operation (createPermission: 403) at create canView; done: nothing; not done: create canView, create region: the admin must be an admin of the service, or a superadmin\n',
      ],
      [
        { APEX_AUTH_SERVICE: 'shoop' },
        'apex-auth: auth-service has no such resource (permissions: 404): is --service (or APEX_AUTH_SERVICE) right?\n',
      ],
    ];
    secrets.push('wrong-Pa55-SECRET');
    for (const [overrides, message] of cases) {
      const run = await cli(['permissions', 'sync', '--schema', SCHEMA], env(overrides));
      expect(run).toEqual({ code: 1, stdout: '', stderr: message, lines: [] });
    }
    const expired = emulator.issueToken('shop-admin', { ttlSeconds: -60 });
    const refused = await cli(
      ['permissions', 'plan', '--schema', SCHEMA],
      env({
        APEX_AUTH_ADMIN_USERNAME: undefined,
        APEX_AUTH_ADMIN_PASSWORD: undefined,
        APEX_AUTH_ADMIN_TOKEN: expired,
      }),
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      'apex-auth: auth-service rejected the credentials (permissions: 401): the admin token was refused: check it, it may have expired\n',
    );
    // The clerk's refused create is the one write that reached the emulator.
    expect(emulator.requestCounts()).toMatchObject({ ...WRITES, createPermission: 1 });
    expect(emulator.permissionsOf('shop')).toEqual([]);
  });

  it.each<[string, string[], Record<string, string | undefined> | undefined, string | RegExp]>([
    ['no command', [], undefined, /^apex-auth: the command is `apex-auth permissions plan`/],
    ['an unknown command', ['permissions', 'apply'], undefined, /^apex-auth: the command is/],
    [
      'an unknown option',
      ['permissions', 'plan', '--dry'],
      undefined,
      "apex-auth: Unknown option '--dry'; see apex-auth --help\n",
    ],
    [
      'no --schema',
      ['permissions', 'plan'],
      undefined,
      /^apex-auth: --schema <module>#<export> is required/,
    ],
    [
      'a missing module',
      ['permissions', 'plan', '--schema', 'nowhere.js#x'],
      undefined,
      'apex-auth: --schema: there is no file nowhere.js\n',
    ],
    [
      'a missing export',
      ['permissions', 'plan', '--schema', `${SCHEMA_MODULE}#Nope`],
      undefined,
      /has no export named Nope \(it exports ShopPermissions, relabelledShopPermissions, noPermissions, notASchema, default\)\n$/,
    ],
    [
      'an export that is no schema',
      ['permissions', 'plan', '--schema', `${SCHEMA_MODULE}#notASchema`],
      undefined,
      'apex-auth: --schema: must be a permissions class or an array of permissions\n',
    ],
    [
      'an empty schema',
      ['permissions', 'sync', '--schema', `${SCHEMA_MODULE}#noPermissions`, '--prune'],
      undefined,
      /^apex-auth: --schema: is empty: syncing it would delete every permission/,
    ],
    [
      'a bad --on-changed',
      ['permissions', 'sync', '--schema', SCHEMA, '--on-changed', 'drop'],
      undefined,
      'apex-auth: --on-changed must be one of keep, recreate, fail\n',
    ],
    [
      'no service',
      ['permissions', 'plan', '--schema', SCHEMA],
      { APEX_AUTH_URL: 'http://x' },
      'apex-auth: --service (or APEX_AUTH_SERVICE) is required\n',
    ],
    [
      'no credentials',
      ['permissions', 'plan', '--schema', SCHEMA],
      { APEX_AUTH_URL: 'http://x', APEX_AUTH_SERVICE: 's' },
      /^apex-auth: admin credentials are required: --admin-username/,
    ],
    [
      'a password without a username',
      ['permissions', 'plan', '--schema', SCHEMA, '--admin-password', PASSWORDS.admin],
      { APEX_AUTH_URL: 'http://x', APEX_AUTH_SERVICE: 's' },
      'apex-auth: --admin-username (or APEX_AUTH_ADMIN_USERNAME) is required\n',
    ],
    [
      'a token and a password',
      ['permissions', 'plan', '--schema', SCHEMA],
      {
        APEX_AUTH_URL: 'http://x',
        APEX_AUTH_SERVICE: 's',
        APEX_AUTH_ADMIN_TOKEN: 't',
        APEX_AUTH_ADMIN_PASSWORD: PASSWORDS.admin,
      },
      /^apex-auth: give the environment either an admin token or an admin username and password, not both/,
    ],
    [
      'a token with whitespace',
      ['permissions', 'plan', '--schema', SCHEMA, '--admin-token', 'a SECRET-token'],
      { APEX_AUTH_URL: 'http://x', APEX_AUTH_SERVICE: 's' },
      'apex-auth: --admin-token (or APEX_AUTH_ADMIN_TOKEN) must be a token without whitespace\n',
    ],
    [
      'a stray argument',
      ['permissions', 'plan', PASSWORDS.admin],
      undefined,
      'apex-auth: permissions plan takes no further arguments than its options\n',
    ],
  ])('exits 1 before any request for %s', async (_case, args, environment, message) => {
    secrets.push('a SECRET-token');
    const run = await cli(args, environment ?? env());
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    if (typeof message === 'string') expect(run.stderr).toBe(message);
    else expect(run.stderr).toMatch(message);
    expect(emulator.requestCounts()).toMatchObject({ login: 0, permissions: 0, ...WRITES });
  });
});
