import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import {
  ApexAuthModule,
  ApexAuthOptionsError,
  CurrentUser,
  Public,
  type ApexAuthModuleOptions,
} from '@apex/nest-auth';
import {
  AuthServiceEmulator,
  overrideAuthService,
  type EmulatedAuthOptions,
} from '@apex/nest-auth/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../fixtures/http.js';
import { claimsFor, signHs256 } from '../fixtures/jwt.js';
import { PASSWORDS, shopSeed } from '../fixtures/seed.js';
import { ShopFeatureModule } from '../fixtures/shop.controllers.js';
import { ShopPermissions } from '../fixtures/shop-permissions.js';
import { PLATFORMS } from '../fixtures/start-app.js';

const PRODUCTION_SECRET = 'the-production-secret-that-tests-never-see!';
/** Production options: an auth-service the tests cannot reach, a key that is not the emulator's. */
const PRODUCTION: ApexAuthModuleOptions<ShopPermissions> = {
  baseUrl: 'http://auth-service.invalid:8000',
  serviceName: 'shop',
  permissions: ShopPermissions,
  jwt: { secret: PRODUCTION_SECRET },
  admin: { username: 'shop-admin', password: 'production-password' },
};

@Controller('open')
class OpenController {
  @Public()
  @Get()
  open(@CurrentUser('username') username?: string) {
    return { username: username ?? null };
  }
}

/** The shop as an app registers it: options from its configuration, read in a factory. */
function appModule(auth: 'forRoot' | 'forRootAsync', extras: { globalGuard?: boolean } = {}) {
  // The shop's routes carry requirements, which need a guard: not without the global one.
  const features = extras.globalGuard === false ? [] : [ShopFeatureModule];
  const registration =
    auth === 'forRoot'
      ? ApexAuthModule.forRoot({ ...PRODUCTION, ...extras, controller: { path: 'account' } })
      : ApexAuthModule.forRootAsync({
          useFactory: (): ApexAuthModuleOptions<ShopPermissions> => {
            throw new Error('the configuration of production is not loaded in tests');
          },
          ...extras,
          controller: { path: 'account' },
        });
  @Module({ imports: [registration, ...features], controllers: [OpenController] })
  class AppModule {}
  return AppModule;
}

async function start(
  platform: (typeof PLATFORMS)[number],
  builder: TestingModuleBuilder,
): Promise<{ app: INestApplication; url: string }> {
  const moduleRef = await builder.compile();
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter())
      : moduleRef.createNestApplication();
  app.useLogger(false);
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

const shop: EmulatedAuthOptions<ShopPermissions> = {
  serviceName: 'shop',
  permissions: ShopPermissions,
};

describe.each(PLATFORMS)('overrideAuthService on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  let app: INestApplication | undefined;
  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({ seed: shopSeed() });
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    emulator.resetCounters();
  });
  afterAll(() => emulator.stop());

  async function startWith(
    auth: 'forRoot' | 'forRootAsync',
    options: EmulatedAuthOptions<ShopPermissions>,
    extras: { globalGuard?: boolean } = {},
  ): Promise<string> {
    const builder = Test.createTestingModule({ imports: [appModule(auth, extras)] });
    const started = await start(platform, overrideAuthService(builder, emulator, options));
    app = started.app;
    return started.url;
  }

  it.each(['forRoot', 'forRootAsync'] as const)(
    'points a %s registration at the emulator, its own options unused',
    async (auth) => {
      const url = await startWith(auth, shop);
      const login = await call(`${url}/account/login`, {
        method: 'POST',
        json: { username: 'editor', password: PASSWORDS.editor },
      });
      expect(login.status).toBe(200);
      const mine = await call(`${url}/products/mine`, { token: login.body.access_token });
      expect(mine.status).toBe(200);
      expect(mine.body.metadata).toMatchObject({ canEdit: true, region: 'us' });
      // Remote by default: the emulator judged the token.
      expect(emulator.requestCount('user')).toBe(1);
    },
  );

  it('keeps the shape the app gave the module (global guard off, controller path)', async () => {
    const url = await startWith('forRootAsync', shop, { globalGuard: false });
    // Unguarded without the global guard, as registered: a token sent anyway is not looked at.
    const open = await call(`${url}/open`, { token: emulator.issueToken('viewer') });
    expect(open.body).toEqual({ username: null });
    expect(emulator.requestCount('user')).toBe(0);
    expect((await call(`${url}/auth/login`, { method: 'POST', json: {} })).status).toBe(404);
    expect((await call(`${url}/account/login`, { method: 'POST', json: {} })).status).toBe(400);
  });

  it("verifies locally with the emulator's HS256 secret: a forged token costs no lookup", async () => {
    const url = await startWith('forRoot', { ...shop, verify: 'local' });
    // Signed with the production secret, which the helper replaced by the emulator's.
    const forged = signHs256(claimsFor('editor'), PRODUCTION_SECRET);
    expect((await call(`${url}/products`, { token: forged })).status).toBe(401);
    expect(emulator.requestCount('user')).toBe(0);
    const real = await call(`${url}/products`, { token: emulator.issueToken('viewer') });
    expect(real.body).toMatchObject({ username: 'viewer' });
  });

  it('syncs the schema with the admin the test gives, and leaves it alone without one', async () => {
    const fresh = await AuthServiceEmulator.start({ seed: shopSeed() });
    try {
      const builder = Test.createTestingModule({ imports: [appModule('forRoot')] });
      const started = await start(platform, overrideAuthService(builder, fresh, shop));
      await started.app.close();
      expect(fresh.permissionsOf('shop')).toEqual([]);

      const admin = { username: 'admin', password: PASSWORDS.admin };
      const again = Test.createTestingModule({ imports: [appModule('forRoot')] });
      const synced = await start(platform, overrideAuthService(again, fresh, { ...shop, admin }));
      await synced.app.close();
      expect(fresh.permissionsOf('shop').map(({ name }) => name)).toEqual(
        expect.arrayContaining(['canView', 'canEdit', 'region', 'maxDiscount']),
      );
    } finally {
      await fresh.stop();
    }
  });
});

describe('overrideAuthService with an RS256 emulator', () => {
  it('verifies locally with its JWKS', async () => {
    const emulator = await AuthServiceEmulator.start({
      seed: shopSeed(),
      signing: { algorithm: 'RS256' },
    });
    const builder = Test.createTestingModule({ imports: [appModule('forRoot')] });
    const { app, url } = await start(
      'express',
      overrideAuthService(builder, emulator, { ...shop, verify: 'local' }),
    );
    try {
      const answer = await call(`${url}/products`, { token: emulator.issueToken('viewer') });
      expect(answer.body).toMatchObject({ username: 'viewer' });
      expect(emulator.requestCount('jwks')).toBeGreaterThan(0);
    } finally {
      await app.close();
      await emulator.stop();
    }
  });
});

describe('overrideAuthService refuses what the module would', () => {
  let emulator: AuthServiceEmulator;
  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({ seed: shopSeed() });
  });
  afterAll(() => emulator.stop());

  const builder = () => Test.createTestingModule({ imports: [appModule('forRoot')] });

  it('an unknown option, at compile, with the likely one', async () => {
    const options = { ...shop, servicName: 'shop' } as EmulatedAuthOptions;
    const compiled = overrideAuthService(builder(), emulator, options).compile();
    await expect(compiled).rejects.toThrow(ApexAuthOptionsError);
    await expect(compiled).rejects.toThrow(
      /servicName: unknown option \(did you mean serviceName\?\)/,
    );
  });

  it('a verification mode it does not know', () => {
    const options = { ...shop, verify: 'locl' } as unknown as EmulatedAuthOptions;
    expect(() => overrideAuthService(builder(), emulator, options)).toThrow(
      /verify: must be 'remote' or 'local', got "locl"/,
    );
  });
});
