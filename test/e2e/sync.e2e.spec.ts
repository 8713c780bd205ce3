import { PermissionField, type ServicePermissionDefinition } from '@apex/nest-auth';
import { AuthServiceEmulator, type AuthServiceEmulatorOptions } from '@apex/nest-auth/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../fixtures/capturing-logger.js';
import { call, show } from '../fixtures/http.js';
import { PASSWORDS, shopSeed } from '../fixtures/seed.js';
import {
  PLATFORMS,
  shopAuth,
  startApp,
  type RunningApp,
  type StartOptions,
} from '../fixtures/start-app.js';

/** The shop's schema without `maxDiscount`. */
class ShopPermissionsWithoutDiscount {
  @PermissionField({ label: 'Can view products', default: true })
  canView!: boolean;

  @PermissionField({ label: 'Can edit products', default: false })
  canEdit!: boolean;

  @PermissionField({ label: 'Region', default: 'eu', values: ['eu', 'us', 'apac'] })
  region!: string;
}

/** The shop's schema where `canView` defaults to false. */
class ShopPermissionsViewOff {
  @PermissionField({ label: 'Can view products', default: false })
  canView!: boolean;

  @PermissionField({ label: 'Can edit products', default: false })
  canEdit!: boolean;

  @PermissionField({ label: 'Region', default: 'eu', values: ['eu', 'us', 'apac'] })
  region!: string;

  @PermissionField({ label: 'Max discount %', default: 0, values: [0, 10, 25, 50] })
  maxDiscount!: number;
}

const NAMES = ['canView', 'canEdit', 'region', 'maxDiscount'];
const RELABEL = 'label "Can view products" → "May view products"';

const SHOP_SCHEMA: ServicePermissionDefinition[] = [
  {
    name: 'canView',
    label: 'Can view products',
    description: '',
    type: 'boolean',
    values: [],
    default: true,
  },
  {
    name: 'canEdit',
    label: 'Can edit products',
    description: '',
    type: 'boolean',
    values: [],
    default: false,
  },
  {
    name: 'region',
    label: 'Region',
    description: '',
    type: 'string',
    values: ['eu', 'us', 'apac'],
    default: 'eu',
  },
  {
    name: 'maxDiscount',
    label: 'Max discount %',
    description: '',
    type: 'integer',
    values: [0, 10, 25, 50],
    default: 0,
  },
];

/** The shop's schema where `canView` has a new label. */
const RELABELLED_SCHEMA = SHOP_SCHEMA.map((definition) =>
  definition.name === 'canView' ? { ...definition, label: 'May view products' } : definition,
);

const WRITES = { createPermission: 0, updatePermission: 0, deletePermission: 0 };

describe.each(PLATFORMS)('permission sync on %s', (platform) => {
  const emulators: AuthServiceEmulator[] = [];
  const apps: RunningApp[] = [];

  async function emulator(options: AuthServiceEmulatorOptions = {}): Promise<AuthServiceEmulator> {
    const started = await AuthServiceEmulator.start({ seed: shopSeed(), ...options });
    emulators.push(started);
    return started;
  }
  async function start(
    auth: Parameters<typeof startApp>[1],
    logger: CapturingLogger | false = false,
    features?: StartOptions['features'],
  ): Promise<RunningApp> {
    const app = await startApp(platform, auth, { logger, features });
    apps.push(app);
    return app;
  }

  /** An emulator whose shop schema an app has synced, that app closed and the counters reset. */
  async function syncedOnce(
    options: AuthServiceEmulatorOptions = {},
  ): Promise<AuthServiceEmulator> {
    const upstream = await emulator(options);
    await start(shopAuth(upstream.url));
    await Promise.all(apps.splice(0).map((app) => app.close()));
    upstream.resetCounters();
    return upstream;
  }

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await Promise.all(emulators.splice(0).map((e) => e.stop()));
  });

  it('creates every permission of a fresh service, logging one line per change and a summary', async () => {
    const upstream = await emulator();
    expect(upstream.permissionsOf('shop')).toEqual([]);
    const logger = new CapturingLogger();
    await start(shopAuth(upstream.url), logger);
    expect(upstream.permissionsOf('shop').map(({ id, ...rest }) => (void id, rest))).toEqual(
      SHOP_SCHEMA,
    );
    expect(upstream.requestCounts()).toMatchObject({
      login: 1,
      permissions: 1,
      createPermission: 4,
      updatePermission: 0,
      deletePermission: 0,
    });
    expect(logger.apexAuth()).toEqual([
      ...NAMES.map((name) => `Permission sync of "shop": created ${name}`),
      'Permissions of "shop" synced: created canView, canEdit, region, maxDiscount; 0 unchanged',
    ]);
    expect(logger.all()).not.toContain(PASSWORDS.admin);
  });

  it('changes nothing on a second start', async () => {
    const upstream = await emulator();
    await start(shopAuth(upstream.url));
    const before = upstream.permissionsOf('shop');
    await Promise.all(apps.splice(0).map((app) => app.close()));
    upstream.resetCounters();
    const logger = new CapturingLogger();
    await start(shopAuth(upstream.url), logger);
    expect(upstream.requestCounts()).toMatchObject({ permissions: 1, ...WRITES });
    expect(upstream.permissionsOf('shop')).toEqual(before);
    expect(logger.apexAuth('log').filter((line) => line.includes('synced'))).toEqual([
      'Permissions of "shop" synced: 4 unchanged',
    ]);
  });

  it('deletes upstream a permission removed from the class', async () => {
    const upstream = await emulator();
    await start(shopAuth(upstream.url));
    await Promise.all(apps.splice(0).map((app) => app.close()));
    upstream.resetCounters();
    await start(shopAuth(upstream.url, { permissions: ShopPermissionsWithoutDiscount }));
    expect(upstream.requestCounts()).toMatchObject({ ...WRITES, deletePermission: 1 });
    expect(upstream.permissionsOf('shop').map((p) => p.name)).toEqual([
      'canView',
      'canEdit',
      'region',
    ]);
  });

  it('treats integer permission ids as opaque: unchanged on restart, deleted by id', async () => {
    const upstream = await emulator({ integerPermissionIds: true });
    await start(shopAuth(upstream.url));
    expect(typeof upstream.permissionsOf('shop')[0].id).toBe('number');
    await Promise.all(apps.splice(0).map((app) => app.close()));
    upstream.resetCounters();
    await start(shopAuth(upstream.url));
    expect(upstream.requestCounts()).toMatchObject(WRITES);
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await start(shopAuth(upstream.url, { permissions: ShopPermissionsWithoutDiscount }));
    expect(upstream.requestCount('deletePermission')).toBe(1);
    expect(upstream.permissionsOf('shop')).toHaveLength(3);
  });

  it('updates a changed default in place when the auth-service can', async () => {
    const upstream = await emulator({ permissionUpdate: true });
    await start(shopAuth(upstream.url));
    const idBefore = upstream.permissionsOf('shop').find((p) => p.name === 'canView')!.id;
    await Promise.all(apps.splice(0).map((app) => app.close()));
    upstream.resetCounters();
    await start(shopAuth(upstream.url, { permissions: ShopPermissionsViewOff }));
    expect(upstream.requestCounts()).toMatchObject({ ...WRITES, updatePermission: 1 });
    const canView = upstream.permissionsOf('shop').find((p) => p.name === 'canView')!;
    expect(canView).toMatchObject({ id: idBefore, default: false });
  });

  it('without an in-place update keeps a relabelled permission by default: users keep their values, a warning names the change', async () => {
    const upstream = await emulator();
    await start(shopAuth(upstream.url));
    await Promise.all(apps.splice(0).map((app) => app.close()));
    const before = upstream.permissionsOf('shop');
    upstream.resetCounters();
    const logger = new CapturingLogger();
    await start(shopAuth(upstream.url, { permissions: RELABELLED_SCHEMA }), logger);
    expect(upstream.requestCounts()).toMatchObject({ ...WRITES, updatePermission: 1 });
    expect(upstream.permissionsOf('shop')).toEqual(before);
    expect(upstream.metadataOf('shop', 'viewer')).toEqual({ canView: true, region: 'eu' });
    expect(logger.apexAuth('warn')).toEqual([
      `Permission sync of "shop": kept canView as it is upstream, though it differs from the schema: ${RELABEL} (the auth-service has no in-place update, and onChanged is 'keep')`,
    ]);
    expect(logger.apexAuth('log')).toContain(
      'Permissions of "shop" synced: left outdated canView; 3 unchanged',
    );
  });

  it("onChanged 'recreate' replaces a changed permission without an in-place update, saying users' values were dropped", async () => {
    const upstream = await syncedOnce();
    const logger = new CapturingLogger();
    await start(
      shopAuth(upstream.url, {
        permissions: RELABELLED_SCHEMA,
        syncPermissions: { onChanged: 'recreate' },
      }),
      logger,
    );
    expect(upstream.requestCounts()).toMatchObject({ createPermission: 1, deletePermission: 1 });
    expect(upstream.permissionsOf('shop').map((p) => [p.name, p.label])).toEqual([
      ['canEdit', 'Can edit products'],
      ['region', 'Region'],
      ['maxDiscount', 'Max discount %'],
      ['canView', 'May view products'],
    ]);
    expect(upstream.metadataOf('shop', 'viewer')).toEqual({ region: 'eu' });
    expect(logger.apexAuth('warn')).toEqual([
      `Permission sync of "shop": replaced canView (deleted and created again; users' stored values of it were dropped): ${RELABEL}`,
    ]);
  });

  it("onChanged 'fail' stops the startup at a changed permission, naming it, before any write", async () => {
    const upstream = await syncedOnce();
    await expect(
      start(
        shopAuth(upstream.url, {
          permissions: RELABELLED_SCHEMA,
          syncPermissions: { onChanged: 'fail' },
        }),
      ),
    ).rejects.toThrow(
      `Permission sync of "shop" failed: permission canView differs from the schema (${RELABEL}) and the auth-service has no in-place update`,
    );
    expect(upstream.requestCounts()).toMatchObject({ ...WRITES, updatePermission: 1 });
    expect(upstream.metadataOf('shop', 'viewer')).toEqual({ canView: true, region: 'eu' });
  });

  it('with an in-place update a relabel keeps every user’s value', async () => {
    const upstream = await syncedOnce({ permissionUpdate: true });
    const logger = new CapturingLogger();
    await start(shopAuth(upstream.url, { permissions: RELABELLED_SCHEMA }), logger);
    expect(upstream.requestCounts()).toMatchObject({ ...WRITES, updatePermission: 1 });
    expect(upstream.permissionsOf('shop')[0]).toMatchObject({
      name: 'canView',
      label: 'May view products',
    });
    expect(upstream.metadataOf('shop', 'viewer')).toEqual({ canView: true, region: 'eu' });
    expect(logger.apexAuth('log')).toContain(
      `Permission sync of "shop": updated canView in place: ${RELABEL}`,
    );
  });

  it('deleteRemoved: false leaves a removed permission and users’ values of it, and logs it', async () => {
    const upstream = await syncedOnce();
    const logger = new CapturingLogger();
    await start(
      shopAuth(upstream.url, {
        permissions: ShopPermissionsWithoutDiscount,
        syncPermissions: { deleteRemoved: false },
      }),
      logger,
    );
    expect(upstream.requestCounts()).toMatchObject(WRITES);
    expect(upstream.permissionsOf('shop').map((p) => p.name)).toEqual(NAMES);
    expect(upstream.metadataOf('shop', 'editor')).toMatchObject({ maxDiscount: 25 });
    expect(logger.apexAuth('log')).toEqual([
      'Permission sync of "shop": kept maxDiscount: not in the schema, and deleting removed permissions is off',
      'Permissions of "shop" synced: kept maxDiscount; 3 unchanged',
    ]);
  });

  it('dryRun logs the plan and writes nothing', async () => {
    const upstream = await emulator({ permissionUpdate: true });
    upstream.addPermission('shop', { name: 'legacy', type: 'boolean', default: false });
    upstream.addPermission('shop', {
      name: 'canView',
      label: 'Can view products',
      type: 'boolean',
      default: false,
    });
    const logger = new CapturingLogger();
    await start(shopAuth(upstream.url, { syncPermissions: { dryRun: true } }), logger);
    expect(upstream.requestCounts()).toMatchObject({ permissions: 1, ...WRITES });
    expect(upstream.permissionsOf('shop').map((p) => p.name)).toEqual(['legacy', 'canView']);
    expect(logger.apexAuth('log')).toEqual([
      'Permission sync of "shop" (dry run): update canView: default false → true (without an in-place update upstream: kept as it is)',
      'Permission sync of "shop" (dry run): create canEdit',
      'Permission sync of "shop" (dry run): create region',
      'Permission sync of "shop" (dry run): create maxDiscount',
      `Permission sync of "shop" (dry run): delete legacy (users' stored values of it would be dropped)`,
      'Permissions of "shop", plan: 3 to create, 1 to update, 1 to delete, 0 kept, 0 unchanged (dry run: nothing written)',
    ]);
  });

  it('refuses an empty schema at startup, before any request', async () => {
    const upstream = await emulator();
    upstream.addPermission('shop', { name: 'legacy', type: 'boolean', default: false });
    await expect(start(shopAuth(upstream.url, { permissions: [] }), false, [])).rejects.toThrow(
      /^permissions: is empty: syncing it would delete every permission of the service/,
    );
    expect(upstream.requestCounts()).toMatchObject({ login: 0, permissions: 0, ...WRITES });
    expect(upstream.permissionsOf('shop')).toHaveLength(1);
  });

  it('three instances started together against slowed reads all start, and leave one copy of each permission', async () => {
    // Each read reports the state of 400 ms before it arrives: the instances all see
    // an empty schema and race to create the same permissions.
    const upstream = await emulator({ latencyMs: { permissions: 400 } });
    // One logger for all: Nest's Logger writes to the app logger set last.
    const logger = new CapturingLogger();
    await Promise.all([1, 2, 3].map(() => start(shopAuth(upstream.url), logger)));
    expect(upstream.permissionsOf('shop').map(({ id, ...rest }) => (void id, rest))).toEqual(
      SHOP_SCHEMA,
    );
    expect(logger.apexAuth('error')).toEqual([]);
    expect(logger.apexAuth('log').filter((line) => line.includes(' synced: '))).toHaveLength(3);

    // Restarting them all writes nothing.
    await Promise.all(apps.splice(0).map((app) => app.close()));
    upstream.resetCounters();
    await Promise.all([1, 2, 3].map(() => start(shopAuth(upstream.url))));
    expect(upstream.requestCounts()).toMatchObject(WRITES);
  });

  it('syncs a plain array of definitions', async () => {
    const upstream = await emulator();
    await start(
      shopAuth(upstream.url, {
        permissions: [
          { name: 'canView', type: 'boolean', default: true },
          { name: 'tier', type: 'string', values: ['free', 'pro'], default: 'free' },
        ],
      }),
      false,
      // The shop's controllers name permissions this schema lacks.
      [],
    );
    expect(upstream.permissionsOf('shop').map(({ id, ...rest }) => (void id, rest))).toEqual([
      {
        name: 'canView',
        label: 'canView',
        description: '',
        type: 'boolean',
        values: [],
        default: true,
      },
      {
        name: 'tier',
        label: 'tier',
        description: '',
        type: 'string',
        values: ['free', 'pro'],
        default: 'free',
      },
    ]);
  });

  it('gets the admin token from admin.token()', async () => {
    const upstream = await emulator();
    let asked = 0;
    await start(
      shopAuth(upstream.url, {
        admin: {
          token: () => {
            asked++;
            return upstream.issueToken('admin');
          },
        },
      }),
    );
    expect(asked).toBeGreaterThan(0);
    expect(upstream.requestCount('login')).toBe(0);
    expect(upstream.permissionsOf('shop')).toHaveLength(4);
  });

  it('does not sync with syncPermissions: false', async () => {
    const upstream = await emulator();
    await start(shopAuth(upstream.url, { syncPermissions: false }));
    expect(upstream.requestCounts()).toMatchObject({ login: 0, permissions: 0, ...WRITES });
  });

  it("onError 'fail': startup rejects after retrying an unavailable auth-service", async () => {
    const upstream = await emulator();
    upstream.fail({ kind: 'status', status: 503 });
    const startedAt = Date.now();
    await expect(
      // Room for one retry (after 250 ms) even when the first attempt is slow on a busy machine.
      start(shopAuth(upstream.url, { syncPermissions: { onError: 'fail', retryForMs: 700 } })),
    ).rejects.toThrow('Permission sync of "shop" failed: auth-service unavailable (login: 503)');
    expect(Date.now() - startedAt).toBeLessThan(3000);
    expect(upstream.requestCount('login')).toBeGreaterThanOrEqual(2);
    expect(upstream.permissionsOf('shop')).toEqual([]);
  });

  it("onError 'fail' is the default, and a refusal is not retried", async () => {
    const upstream = await emulator();
    // The editor is no admin of the shop: the auth-service answers 403.
    await expect(
      start(shopAuth(upstream.url, { admin: { token: () => upstream.issueToken('editor') } })),
    ).rejects.toThrow(/Permission sync of "shop" failed: .*403/);
    expect(upstream.requestCount('createPermission')).toBe(1);
  });

  it('fails at startup, without retrying or quoting it, for a wrong admin password', async () => {
    const upstream = await emulator();
    const failure: unknown = await start(
      shopAuth(upstream.url, { admin: { username: 'admin', password: 'wrong-admin-password' } }),
    ).catch((caught: unknown) => caught);
    expect(String(failure)).toContain(
      'Permission sync of "shop" failed: auth-service rejected the credentials (login: 401)',
    );
    expect(String(failure)).not.toContain('wrong-admin-password');
    expect(upstream.requestCount('login')).toBe(1);
  });

  it("onError 'warn': the app starts, logs it, and requests still authenticate", async () => {
    const upstream = await emulator();
    upstream.fail({ kind: 'status', status: 503 }, { endpoints: ['permissions'] });
    const logger = new CapturingLogger();
    const app = await start(
      shopAuth(upstream.url, { syncPermissions: { onError: 'warn', retryForMs: 300 } }),
      logger,
    );
    expect(logger.apexAuth('error').join('\n')).toContain('Permission sync of "shop" failed');
    const answer = await call(`${app.url}/products`, { token: upstream.issueToken('editor') });
    expect(answer.status, show(answer)).toBe(200);
    expect(answer.body.username).toBe('editor');
    expect(upstream.permissionsOf('shop')).toEqual([]);
  });
});
