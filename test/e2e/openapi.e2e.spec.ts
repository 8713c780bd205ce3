import { Controller, Get, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { Test } from '@nestjs/testing';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ApexAuthGuard, ApexAuthSwagger, AuthController, Public } from '@apex/nest-auth';
import { AuthServiceEmulator, overrideAuthService } from '@apex/nest-auth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShopModule } from '../../examples/shop/app.module.js';
import { shopDocument } from '../../examples/shop/docs.js';
import { ShopPermissions } from '../../examples/shop/shop-permissions.js';
import { OAUTH_CLIENT } from '../fixtures/seed.js';
import { useShopEmulator } from '../fixtures/shop-suite.js';
import { ShopFeatureModule } from '../fixtures/shop.controllers.js';
import { PLATFORMS } from '../fixtures/start-app.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read the document loosely
type Operation = Record<string, any>;

const BOTH_SCHEMES = [{ bearer: [] }, { oauth2: [] }];
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** The operation at `method path`, failing the test when the document has none. */
function operation(document: OpenAPIObject, method: string, path: string): Operation {
  const found = (document.paths[path] as Record<string, Operation> | undefined)?.[method];
  expect(
    found,
    `${method.toUpperCase()} ${path} in ${Object.keys(document.paths).join(', ')}`,
  ).toBeDefined();
  return found!;
}

/** The document of a running app, as an app's main.ts makes it. */
function documentOf(app: INestApplication): OpenAPIObject {
  return ApexAuthSwagger.setup(SwaggerModule.createDocument(app, new DocumentBuilder().build()));
}

describe('the OpenAPI document of the example shop', () => {
  let emulator: AuthServiceEmulator;
  let app: INestApplication;
  let document: OpenAPIObject;

  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({ refreshTokens: true });
    const testing = Test.createTestingModule({ imports: [ShopModule] });
    const options = { serviceName: 'shop', permissions: ShopPermissions };
    app = (await overrideAuthService(testing, emulator, options).compile()).createNestApplication();
    document = shopDocument(app);
  });
  afterAll(() => Promise.all([app.close(), emulator.stop()]));

  it('documents the login route with its real bodies, its token response and each error', () => {
    const login = operation(document, 'post', '/auth/login');
    expect(Object.keys(login.requestBody.content)).toEqual([
      'application/x-www-form-urlencoded',
      'application/json',
    ]);
    for (const media of Object.values(login.requestBody.content)) {
      expect(media).toEqual({ schema: ref('LoginDto') });
    }
    expect(document.components?.schemas?.LoginDto).toMatchObject({
      type: 'object',
      required: ['username', 'password'],
      properties: {
        username: { type: 'string', maxLength: 256 },
        password: { type: 'string', format: 'password' },
        grant_type: { type: 'string', enum: ['password'] },
      },
    });
    expect(login.responses['200'].content['application/json'].schema).toEqual(
      ref('AuthTokenResponse'),
    );
    expect(document.components?.schemas?.AuthTokenResponse).toMatchObject({
      required: ['access_token', 'token_type'],
      properties: {
        access_token: { type: 'string' },
        token_type: { enum: ['Bearer'] },
        refresh_token: { type: 'string' },
        expires_in: { type: 'number' },
      },
    });
    expect(Object.keys(login.responses).sort()).toEqual(['200', '400', '401', '429', '503']);
    expect(login.responses['400'].content['application/json'].schema).toEqual(
      ref('AuthValidationErrorResponse'),
    );
    expect(login.responses['401'].content['application/json'].schema).toEqual(
      ref('AuthErrorResponse'),
    );
    expect(login.responses['429'].headers).toHaveProperty('Retry-After');
    expect(document.components?.schemas?.AuthErrorResponse).toMatchObject({
      required: ['statusCode', 'message', 'error'],
    });
    // Open: logging in needs no token, whatever the document's own default.
    expect(login.security).toEqual([]);
  });

  it('documents the refresh, me and logout routes likewise', () => {
    const refresh = operation(document, 'post', '/auth/refresh');
    expect(refresh.requestBody.content['application/json'].schema).toEqual(ref('RefreshTokenDto'));
    expect(refresh.requestBody.content).toHaveProperty('application/x-www-form-urlencoded');
    expect(document.components?.schemas?.RefreshTokenDto).toMatchObject({
      required: ['refresh_token'],
    });
    expect(Object.keys(refresh.responses).sort()).toEqual([
      '200',
      '400',
      '401',
      '429',
      '501',
      '503',
    ]);
    expect(refresh.security).toEqual([]);
    const me = operation(document, 'get', '/auth/me');
    expect(me.responses['200'].content['application/json'].schema).toEqual(
      ref('AuthenticatedUser'),
    );
    expect(me.security).toEqual(BOTH_SCHEMES);
    const logout = operation(document, 'post', '/auth/logout');
    expect(Object.keys(logout.responses).sort()).toEqual(['204', '401', '503']);
    expect(logout.security).toEqual(BOTH_SCHEMES);
    // The code exchange is not configured, so not mounted, so not documented.
    expect(document.paths).not.toHaveProperty('/auth/login/code');
  });

  it('registers bearer and the OAuth2 password flow of the login route', () => {
    expect(document.components?.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
      oauth2: expect.objectContaining({
        type: 'oauth2',
        flows: {
          password: { tokenUrl: '/auth/login', refreshUrl: '/auth/refresh', scopes: {} },
        },
      }),
    });
  });

  it('marks guarded routes secured and @Public() ones open, with requirements by name', () => {
    expect(operation(document, 'get', '/products/catalog').security).toEqual([]);
    const list = operation(document, 'get', '/products');
    expect(list.security).toEqual(BOTH_SCHEMES);
    expect(list.responses).toHaveProperty('401');
    expect(list.responses).not.toHaveProperty('403');
    const create = operation(document, 'post', '/products');
    expect(create.security).toEqual(BOTH_SCHEMES);
    expect(create.description).toContain('`canEditProducts`');
    expect(create.responses).toHaveProperty('403');
    const users = operation(document, 'get', '/admin/users');
    expect(users.security).toEqual(BOTH_SCHEMES);
    expect(users.description).toContain('admin of this service');
    // The carrier of the routes' security is taken out.
    expect(JSON.stringify(document)).not.toContain('x-apex-auth');
  });
});

/** Routes guarded by Passport's AuthGuard rather than by ApexAuthGuard. */
@Public()
@Controller('passport')
class PassportController {
  @UseGuards(AuthGuard('apex-auth'))
  @Get('ours')
  ours() {
    return {};
  }

  @UseGuards(AuthGuard('partner'))
  @Get('partner')
  partner() {
    return {};
  }
}

@Module({ controllers: [PassportController] })
class PassportModule {}

@UseGuards(ApexAuthGuard)
@Controller('guarded')
class GuardedController {
  @Get()
  guarded() {
    return {};
  }
}

@Controller('plain')
class PlainController {
  @Get()
  plain() {
    return {};
  }
}

@Module({ controllers: [GuardedController, PlainController] })
class WithoutGlobalGuardModule {}

@Controller('session')
class SessionController extends AuthController {}

@Module({ controllers: [SessionController] })
class SessionModule {}

describe.each(PLATFORMS)('route security in the OpenAPI document on %s', (platform) => {
  const start = useShopEmulator(platform, {}, () => undefined);

  it('follows every level of the decorators, and Passport guards of the module’s strategy', async () => {
    const { app } = await start(
      { oauthClient: OAUTH_CLIENT, syncPermissions: false },
      { features: [ShopFeatureModule, PassportModule] },
    );
    const document = documentOf(app);
    const overseas = operation(document, 'get', '/products/overseas');
    expect(overseas.description).toContain('`region`');
    // Names only: never the values a requirement accepts.
    expect(overseas.description).not.toMatch(/apac|"us"/);
    expect(operation(document, 'get', '/products/discounts').description).toContain(
      '`discountAtLeast25`',
    );
    // A class-level requirement adds to the handler's.
    const edits = operation(document, 'get', '/reports/edits').description;
    expect(edits).toContain('`canView`');
    expect(edits).toContain('`canEdit`');
    expect(operation(document, 'get', '/passport/ours').security).toEqual(BOTH_SCHEMES);
    // Another strategy's route: not the module's to say.
    expect(operation(document, 'get', '/passport/partner')).not.toHaveProperty('security');

    const code = operation(document, 'post', '/auth/login/code');
    expect(code.security).toEqual([]);
    expect(code.parameters).toEqual([
      expect.objectContaining({ name: 'code', in: 'query', required: false }),
    ]);
    expect(code.requestBody.content['application/json'].schema).toEqual(
      ref('AuthorizationCodeDto'),
    );
    expect(Object.keys(code.responses).sort()).toEqual(['200', '400', '401', '429', '503']);
  });

  it('without the global guard: @UseGuards routes, the mounted controller, and a guard the app adds later', async () => {
    const { app } = await start(
      { syncPermissions: false, globalGuard: false, controller: { path: 'account' } },
      { features: [WithoutGlobalGuardModule] },
    );
    const document = documentOf(app);
    expect(document.components?.securitySchemes?.oauth2).toMatchObject({
      flows: { password: { tokenUrl: '/account/login', refreshUrl: '/account/refresh' } },
    });
    expect(operation(document, 'get', '/guarded').security).toEqual(BOTH_SCHEMES);
    expect(operation(document, 'get', '/account/me').security).toEqual(BOTH_SCHEMES);
    expect(operation(document, 'post', '/account/login').security).toEqual([]);
    // Guarded by nothing of the module's: left as the app documents it.
    expect(operation(document, 'get', '/plain')).not.toHaveProperty('security');

    // The app guards every route itself, after the module was built: the next document says so.
    app.useGlobalGuards(app.get(ApexAuthGuard));
    expect(operation(documentOf(app), 'get', '/plain').security).toEqual(BOTH_SCHEMES);
  });

  it("a subclass of AuthController mounted by the app is documented as the module's own", async () => {
    const { app } = await start(
      { syncPermissions: false, controller: false },
      { features: [SessionModule] },
    );
    const document = documentOf(app);
    expect(document.components?.securitySchemes?.oauth2).toMatchObject({
      flows: { password: { tokenUrl: '/session/login' } },
    });
    const login = operation(document, 'post', '/session/login');
    expect(login.requestBody.content['application/json'].schema).toEqual(ref('LoginDto'));
    expect(operation(document, 'get', '/session/me').security).toEqual(BOTH_SCHEMES);
    // A global prefix moves the token endpoints with the routes.
    app.setGlobalPrefix('api');
    expect(documentOf(app).components?.securitySchemes?.oauth2).toMatchObject({
      flows: { password: { tokenUrl: '/api/session/login', refreshUrl: '/api/session/refresh' } },
    });
  });

  it('without AuthController, only the bearer scheme', async () => {
    const { app } = await start({ syncPermissions: false, controller: false });
    const document = documentOf(app);
    expect(Object.keys(document.components?.securitySchemes ?? {})).toEqual(['bearer']);
    expect(operation(document, 'get', '/products').security).toEqual([{ bearer: [] }]);
  });
});
