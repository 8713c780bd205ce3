import {
  Controller,
  ForbiddenException,
  Get,
  Injectable,
  Module,
  UseGuards,
  type ExecutionContext,
} from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import {
  ApexAuthGuard,
  ApexAuthModule,
  AuthApi,
  AuthToken,
  CurrentUser,
  PermissionField,
  Permissions,
  type ApexAuthModuleOptions,
} from '@apex/nest-auth';
import { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, show } from '../fixtures/http.js';
import { OAUTH_CLIENT, PASSWORDS, shopSeed } from '../fixtures/seed.js';
import { ProductsController, ShopFeatureModule } from '../fixtures/shop.controllers.js';
import { ShopPermissions } from '../fixtures/shop-permissions.js';
import {
  PLATFORMS,
  shopAuth,
  shopOptions,
  startApp,
  type RunningApp,
} from '../fixtures/start-app.js';

/** Configuration as an app would load it. */
function authConfig(emulator: AuthServiceEmulator) {
  return () => ({
    auth: {
      url: emulator.url,
      jwtSecret: emulator.hmacSecret,
      adminUsername: 'admin',
      adminPassword: PASSWORDS.admin,
    },
  });
}

/** An options factory class for `useClass` / `useExisting`. */
@Injectable()
class ShopAuthConfig {
  constructor(private readonly config: ConfigService) {}

  createApexAuthOptions(): ApexAuthModuleOptions<ShopPermissions> {
    return shopOptions(this.config.getOrThrow<string>('auth.url'), {
      jwt: { secret: this.config.getOrThrow<string>('auth.jwtSecret') },
    });
  }
}

@Module({ providers: [ShopAuthConfig], exports: [ShopAuthConfig] })
class ShopAuthConfigModule {}

@Controller('open')
class OpenController {
  constructor(private readonly authApi: AuthApi<ShopPermissions>) {}

  @Get()
  open(@CurrentUser('username') username?: string) {
    return { open: true, username: username ?? null };
  }

  /** An unguarded route that asks the auth-service on the caller's behalf. */
  @Get('whoami')
  async whoami(@AuthToken() token?: string) {
    if (token === undefined) return { username: null };
    return { username: (await this.authApi.forToken(token).user()).username };
  }
}

@UseGuards(ApexAuthGuard)
@Controller('guarded')
class GuardedController {
  constructor(private readonly authApi: AuthApi<ShopPermissions>) {}

  @Get()
  guarded(@CurrentUser('username') username: string) {
    return { username, service: this.authApi.serviceName };
  }

  @Permissions<ShopPermissions>('canEdit')
  @Get('edit')
  edit() {
    return { ok: true };
  }
}

/** A feature module that uses ApexAuthGuard and AuthApi without importing ApexAuthModule. */
@Module({ controllers: [OpenController, GuardedController] })
class GuardedFeatureModule {}

describe.each(PLATFORMS)('registration on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  const apps: RunningApp[] = [];
  const start = async (...args: Parameters<typeof startApp>): Promise<RunningApp> => {
    const app = await startApp(...args);
    apps.push(app);
    return app;
  };
  const configModule = () =>
    ConfigModule.forRoot({ load: [authConfig(emulator)], isGlobal: true, ignoreEnvFile: true });

  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({ seed: shopSeed() });
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  describe('forRootAsync', () => {
    it('takes its options from @nestjs/config (useFactory + inject)', async () => {
      emulator.resetCounters();
      const app = await start(
        platform,
        ApexAuthModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            baseUrl: config.getOrThrow<string>('auth.url'),
            serviceName: 'shop',
            permissions: ShopPermissions,
            admin: {
              username: config.getOrThrow<string>('auth.adminUsername'),
              password: config.getOrThrow<string>('auth.adminPassword'),
            },
            jwt: { secret: config.getOrThrow<string>('auth.jwtSecret') },
          }),
          controller: { path: 'session' },
        }),
        { features: [configModule(), ShopFeatureModule] },
      );
      // The sync ran with the configured admin.
      expect(emulator.requestCount('login')).toBe(1);
      expect(emulator.permissionsOf('shop')).toHaveLength(4);
      emulator.resetCounters();
      const bad = await call(`${app.url}/products`, {
        token: emulator.issueToken('editor', { ttlSeconds: -5 }),
      });
      expect(bad.body.message).toBe('token expired');
      expect(emulator.requestCount('user')).toBe(0);
      const login = await call(`${app.url}/session/login`, {
        method: 'POST',
        form: { username: 'editor', password: PASSWORDS.editor },
      });
      expect(login.status, show(login)).toBe(200);
      const create = await call(`${app.url}/products`, {
        method: 'POST',
        token: login.body.access_token,
      });
      expect(create.status, show(create)).toBe(201);
      expect(create.body).toEqual({ created: true, region: 'us', isInstance: true });
    });

    it('takes its options from a factory class (useClass)', async () => {
      const app = await start(platform, ApexAuthModule.forRootAsync({ useClass: ShopAuthConfig }), {
        features: [configModule(), ShopFeatureModule],
      });
      const answer = await call(`${app.url}/products/mine`, {
        token: emulator.issueToken('admin'),
      });
      expect(answer.status, show(answer)).toBe(200);
      expect(answer.body).toMatchObject({ isInstance: true, isServiceAdmin: true });
      expect((await call(`${app.url}/products`)).status).toBe(401);
    });

    it('takes its options from an existing provider (useExisting)', async () => {
      const app = await start(
        platform,
        ApexAuthModule.forRootAsync({
          imports: [ShopAuthConfigModule],
          useExisting: ShopAuthConfig,
        }),
        { features: [configModule(), ShopFeatureModule] },
      );
      const answer = await call(`${app.url}/admin/users`, { token: emulator.issueToken('root') });
      expect(answer.status, show(answer)).toBe(200);
    });

    it('takes globalGuard next to useFactory', async () => {
      const app = await start(
        platform,
        ApexAuthModule.forRootAsync({
          useFactory: () => shopOptions(emulator.url, { syncPermissions: false }),
          globalGuard: false,
        }),
        { features: [GuardedFeatureModule] },
      );
      expect((await call(`${app.url}/open`)).status).toBe(200);
      expect((await call(`${app.url}/guarded`)).status).toBe(401);
    });

    it('fails at startup naming the option a factory got wrong', async () => {
      await expect(
        start(
          platform,
          ApexAuthModule.forRootAsync({
            useFactory: () => shopOptions('not a url'),
          }),
        ),
      ).rejects.toThrow(/^baseUrl: /);
    });
  });

  describe('globalGuard: false', () => {
    let app: RunningApp;
    beforeAll(async () => {
      app = await startApp(
        platform,
        shopAuth(emulator.url, { globalGuard: false, syncPermissions: false }),
        { features: [GuardedFeatureModule] },
      );
    });
    afterAll(async () => {
      await app?.close();
    });

    it('leaves routes without @UseGuards(ApexAuthGuard) open', async () => {
      const answer = await call(`${app.url}/open`);
      expect(answer.status, show(answer)).toBe(200);
      expect(answer.body).toEqual({ open: true, username: null });
    });

    it("gives @AuthToken() the caller's token on an unguarded route", async () => {
      expect((await call(`${app.url}/open/whoami`)).body).toEqual({ username: null });
      const answer = await call(`${app.url}/open/whoami`, { token: emulator.issueToken('editor') });
      expect(answer.status, show(answer)).toBe(200);
      expect(answer.body).toEqual({ username: 'editor' });
      const basic = await call(`${app.url}/open/whoami`, { headers: { authorization: 'Basic x' } });
      expect(basic.body).toEqual({ username: null });
    });

    it('guards the routes of a feature module that uses ApexAuthGuard', async () => {
      const none = await call(`${app.url}/guarded`);
      expect(none.status, show(none)).toBe(401);
      expect(none.body.message).toBe('missing token');
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="shop"');
      const ok = await call(`${app.url}/guarded`, { token: emulator.issueToken('viewer') });
      expect(ok.status, show(ok)).toBe(200);
      expect(ok.body).toEqual({ username: 'viewer', service: 'shop' });
    });

    it('enforces @Permissions() under @UseGuards(ApexAuthGuard)', async () => {
      const viewer = await call(`${app.url}/guarded/edit`, {
        token: emulator.issueToken('viewer'),
      });
      expect(viewer.status, show(viewer)).toBe(403);
      expect(viewer.body.message).toBe('missing permission: canEdit');
      const editor = await call(`${app.url}/guarded/edit`, {
        token: emulator.issueToken('editor'),
      });
      expect(editor.status, show(editor)).toBe(200);
    });

    it('still guards GET /auth/me and leaves POST /auth/login open', async () => {
      expect((await call(`${app.url}/auth/me`)).status).toBe(401);
      const me = await call(`${app.url}/auth/me`, { token: emulator.issueToken('editor') });
      expect(me.body.username).toBe('editor');
      const login = await call(`${app.url}/auth/login`, {
        method: 'POST',
        json: { username: 'viewer', password: PASSWORDS.viewer },
      });
      expect(login.status, show(login)).toBe(200);
    });
  });

  describe('invalid options fail at startup, naming the option', () => {
    class BadDefault {
      @PermissionField({ label: 'Region', default: 'mars', values: ['eu', 'us'] })
      region!: string;
    }
    class DuplicateNames {
      @PermissionField({ label: 'A', default: false, name: 'dup' })
      first!: boolean;
      @PermissionField({ label: 'B', default: false, name: 'dup' })
      second!: boolean;
    }
    @Controller('typo')
    class TypoController {
      @Permissions('noSuchPermission')
      @Get()
      typo() {
        return {};
      }
    }
    @Module({ controllers: [TypoController] })
    class TypoModule {}

    const cases: [string, () => Partial<ApexAuthModuleOptions>, RegExp][] = [
      ['baseUrl not a URL', () => ({ baseUrl: 'not a url' }), /^baseUrl: /],
      ['empty serviceName', () => ({ serviceName: '' }), /^serviceName: /],
      [
        'a permissions default not in its values',
        () => ({ permissions: BadDefault }),
        /^permissions\.region\.default: "mars" is not one of its values/,
      ],
      [
        'two permissions with one name',
        () => ({ permissions: DuplicateNames }),
        /^permissions: two permissions are named "dup"/,
      ],
      [
        'jwt.algorithms that do not fit the key',
        () => ({ jwt: { secret: emulator.hmacSecret!, algorithms: ['RS256'] } }),
        /^jwt\.algorithms: "RS256" does not fit/,
      ],
      [
        'a jwt secret under 32 bytes',
        () => ({ jwt: { secret: 'short-secret' } }),
        /^jwt\.secret: is 12 bytes long/,
      ],
      [
        'both jwt.secret and jwt.publicKey',
        () =>
          ({
            jwt: { secret: emulator.hmacSecret, publicKey: 'x' },
          }) as Partial<ApexAuthModuleOptions>,
        /^jwt: takes one key source, not secret and publicKey/,
      ],
      ['a jwksUri that is no URL', () => ({ jwt: { jwksUri: 'ftp://x' } }), /^jwt\.jwksUri: /],
      ['a negative timeoutMs', () => ({ timeoutMs: -1 }), /^timeoutMs: /],
      ['cache.ttlMs 0', () => ({ cache: { ttlMs: 0 } }), /^cache\.ttlMs: /],
      [
        'syncPermissions without admin',
        () => ({ admin: undefined, syncPermissions: true }),
        /^syncPermissions: .*admin/,
      ],
      [
        'an unknown syncPermissions.onError',
        () => ({ syncPermissions: { onError: 'ignore' as 'warn' } }),
        /^syncPermissions\.onError: /,
      ],
    ];

    it.each(cases)('%s', async (_what, overrides, message) => {
      emulator.resetCounters();
      await expect(
        start(platform, shopAuth(emulator.url, overrides()), { features: [] }),
      ).rejects.toThrow(message);
      expect(emulator.requestCount('login')).toBe(0);
    });

    it('names the option, not the secret', async () => {
      const error: unknown = await start(
        platform,
        shopAuth(emulator.url, { jwt: { secret: 'short-but-secret' } }),
        { features: [] },
      ).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ name: 'ApexAuthOptionsError', option: 'jwt.secret' });
      expect(String((error as Error).message)).not.toContain('short-but-secret');
    });

    it('@Permissions() naming a permission the schema lacks', async () => {
      const failure = start(platform, shopAuth(emulator.url, { syncPermissions: false }), {
        features: [TypoModule],
      });
      await expect(failure).rejects.toThrow(
        '@Permissions() on TypoController.typo: "noSuchPermission" is not a permission of the schema',
      );
    });

    it('@Permissions() requiring a value a permission cannot take', async () => {
      @Controller('typo2')
      class ValueTypoController {
        @Permissions<ShopPermissions>({ region: 'mars' })
        @Get()
        typo() {
          return {};
        }
      }
      @Module({ controllers: [ValueTypoController] })
      class ValueTypoModule {}
      await expect(
        start(platform, shopAuth(emulator.url, { syncPermissions: false }), {
          features: [ValueTypoModule],
        }),
      ).rejects.toThrow(/ValueTypoController\.typo: "mars" is not a value permission "region"/);
    });
  });

  describe('execution contexts', () => {
    it.each(['rpc', 'ws', 'graphql'])(
      'denies a %s context, even on a public handler',
      async (type) => {
        const app = await start(
          platform,
          shopAuth(emulator.url, { syncPermissions: false, oauthClient: OAUTH_CLIENT }),
        );
        const guard = app.app.get(ApexAuthGuard);
        const request = { headers: { authorization: `Bearer ${emulator.issueToken('root')}` } };
        const handlers = ['catalog', 'list'].map(
          (name) => (ProductsController.prototype as unknown as Record<string, unknown>)[name],
        );
        for (const handler of handlers) {
          const context = {
            getType: () => type,
            getClass: () => ProductsController,
            getHandler: () => handler,
            getArgs: () => [request, {}, {}],
            getArgByIndex: (index: number) => [request, {}, {}][index],
            switchToHttp: () => ({
              getRequest: () => request,
              getResponse: () => ({}),
              getNext: () => () => undefined,
            }),
            switchToRpc: () => ({ getData: () => request, getContext: () => ({}) }),
            switchToWs: () => ({
              getData: () => request,
              getClient: () => ({}),
              getPattern: () => '',
            }),
          } as unknown as ExecutionContext;
          // Thrown or rejected, as Nest takes either: a denial before any await.
          await expect(
            Promise.resolve().then(() => guard.canActivate(context)),
          ).rejects.toBeInstanceOf(ForbiddenException);
        }
      },
    );
  });
});
