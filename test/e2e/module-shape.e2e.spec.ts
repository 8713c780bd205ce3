import {
  Body,
  Controller,
  Get,
  Module,
  Post,
  Query,
  Req,
  Res,
  type DynamicModule,
} from '@nestjs/common';
import type { Request } from 'express';
import {
  ApexAuthModule,
  ApexAuthOptionsError,
  AuthApi,
  AuthController,
  Public,
  type ApexAuthModuleOptions,
  type TokenResponse,
} from '@apex/nest-auth';
import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../fixtures/capturing-logger.js';
import { call, show, type Answer } from '../fixtures/http.js';
import { OAUTH_CLIENT, PASSWORDS } from '../fixtures/seed.js';
import { useShopEmulator } from '../fixtures/shop-suite.js';
import { ShopFeatureModule } from '../fixtures/shop.controllers.js';
import { PLATFORMS, shopOptions, startApp, type RunningApp } from '../fixtures/start-app.js';

/** A controller of the app's that needs the module's `AuthApi`. */
@Controller('who')
class ServiceNameController {
  constructor(private readonly authApi: AuthApi) {}

  @Get()
  who() {
    return { service: this.authApi.serviceName };
  }
}

/** A sibling of the auth module: it does not import it. */
@Module({ controllers: [ServiceNameController] })
class SiblingModule {}

describe.each(PLATFORMS)('isGlobal on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  const start = useShopEmulator(platform, {}, (started) => (emulator = started));
  const unresolved = /can't resolve dependencies of the ServiceNameController \(\?\)/;

  it('default (true): a sibling module gets AuthApi without importing the module', async () => {
    const app = await start({ syncPermissions: false }, { features: [SiblingModule] });
    const answer = await call(`${app.url}/who`, { token: emulator.issueToken('viewer') });
    expect(answer.status, show(answer)).toBe(200);
    expect(answer.body).toEqual({ service: 'shop' });
  });

  it('false: a sibling module does not see AuthApi, with forRoot and with forRootAsync', async () => {
    await expect(
      start({ syncPermissions: false, isGlobal: false }, { features: [SiblingModule] }),
    ).rejects.toThrow(unresolved);
    await expect(
      startApp(
        platform,
        ApexAuthModule.forRootAsync({
          useFactory: () => shopOptions(emulator.url, { syncPermissions: false }),
          isGlobal: false,
        }),
        { features: [SiblingModule] },
      ),
    ).rejects.toThrow(unresolved);
  });

  it('false: a module that imports the registration sees it, and the guard still guards the app', async () => {
    const auth = ApexAuthModule.forRoot({
      ...shopOptions(emulator.url, { syncPermissions: false }),
      isGlobal: false,
    });
    @Module({ imports: [auth], controllers: [ServiceNameController] })
    class ImportingModule {}
    const app = await startApp(platform, auth, { features: [ImportingModule] });
    try {
      const answer = await call(`${app.url}/who`, { token: emulator.issueToken('viewer') });
      expect(answer.status, show(answer)).toBe(200);
      expect(answer.body).toEqual({ service: 'shop' });
      expect((await call(`${app.url}/who`)).status).toBe(401);
    } finally {
      await app.close();
    }
  });
});

/** Refusals answered at once: these tests are not about their timing. */
const NO_DELAY = { minFailureMs: 0, maxFailureMs: 0 };

/** Logins seen by the subclass's hook. */
const signedIn: (string | undefined)[] = [];

/** The app's own login controller: the module's, at another path, with a hook of its own. */
@Controller('session')
class MyAuthController extends AuthController {
  protected override signIn(...args: Parameters<AuthController['signIn']>): Promise<TokenResponse> {
    signedIn.push(args[0]);
    return super.signIn(...args);
  }
}

@Module({ controllers: [MyAuthController] })
class MyAuthModule {}

/** The README's subclass: the code exchange declared as a route of its own. */
@Controller('session')
class CodeSessionController extends AuthController {
  @Public()
  @Post('login/code')
  loginWithCode(
    @Query('code') code: unknown,
    @Body() body: unknown,
    @Req() request: Request,
    @Res({ passthrough: true }) response: unknown,
  ) {
    return this.exchangeCode(code, body, request, response);
  }
}

@Module({ controllers: [CodeSessionController] })
class CodeSessionModule {}

/** Nest's line for a controller's routes: `Name {/path}:`. */
function controllerLines(logger: CapturingLogger): string[] {
  return logger.lines
    .filter((line) => line.context === 'RoutesResolver')
    .map((line) => line.message);
}

describe.each(PLATFORMS)('a subclass of AuthController on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  const start = useShopEmulator(platform, {}, (started) => (emulator = started));
  beforeEach(() => {
    signedIn.length = 0;
  });

  it('controller: false plus the subclass in the app: it starts with nothing else registered, and logs in', async () => {
    const logger = new CapturingLogger();
    const app = await start(
      { syncPermissions: false, controller: false, login: NO_DELAY },
      { features: [MyAuthModule, ShopFeatureModule], logger },
    );
    const login = await call(`${app.url}/session/login`, {
      method: 'POST',
      json: { username: 'editor', password: PASSWORDS.editor },
    });
    expect(login.status, show(login)).toBe(200);
    expect(login.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer' });
    expect(signedIn).toEqual(['editor']);
    // The token is one the module's guard takes, and the subclass's guarded routes work.
    const token = login.body.access_token as string;
    expect((await call(`${app.url}/products`, { token })).status).toBe(200);
    const me = await call(`${app.url}/session/me`, { token });
    expect(me.status, show(me)).toBe(200);
    expect(me.body.username).toBe('editor');
    expect((await call(`${app.url}/session/me`)).status).toBe(401);
    // The subclass keeps the module's refusals, through its own hook.
    const wrong = await call(`${app.url}/session/login`, {
      method: 'POST',
      json: { username: 'editor', password: 'not-the-password' },
    });
    expect(wrong.status, show(wrong)).toBe(401);
    expect(wrong.body.message).toBe('invalid username or password');
    expect(signedIn).toEqual(['editor', 'editor']);
    // The module mounted nothing of its own.
    const mounted = await call(`${app.url}/auth/login`, {
      method: 'POST',
      json: { username: 'editor', password: PASSWORDS.editor },
    });
    expect(mounted.status, show(mounted)).toBe(404);
    // Logged under the subclass's own name.
    expect(controllerLines(logger)).toContain('MyAuthController {/session}:');
    expect(controllerLines(logger).filter((line) => line.includes('AuthController {'))).toEqual([
      'MyAuthController {/session}:',
    ]);
  });

  it('has no code exchange route of its own: the path is an unknown route', async () => {
    const app = await start(
      { syncPermissions: false, controller: false },
      { features: [MyAuthModule] },
    );
    await expectAnsweredAsUnknown(app, '/session');
  });

  it('declares the code exchange itself, as the README shows, and it works', async () => {
    const app = await start(
      { syncPermissions: false, controller: false, oauthClient: OAUTH_CLIENT },
      { features: [CodeSessionModule] },
    );
    const code = emulator.issueCode(OAUTH_CLIENT.clientId, 'editor');
    const exchanged = await call(`${app.url}/session/login/code?code=${code}`, { method: 'POST' });
    // A 200 that no cache keeps, though the route declares neither.
    expect(exchanged.status, show(exchanged)).toBe(200);
    expect(exchanged.headers.get('cache-control')).toBe('no-store');
    expect(exchanged.body.access_token).toEqual(expect.any(String));
    const again = await call(`${app.url}/session/login/code?code=${code}`, { method: 'POST' });
    expect(again.status, show(again)).toBe(401);
  });

  it('with the global guard off, its me and logout routes still need a token', async () => {
    const app = await start(
      { syncPermissions: false, controller: false, globalGuard: false },
      { features: [MyAuthModule] },
    );
    const me = await call(`${app.url}/session/me`);
    expect(me.status, show(me)).toBe(401);
    const logout = await call(`${app.url}/session/logout`, { method: 'POST' });
    expect(logout.status, show(logout)).toBe(401);
    const token = emulator.issueToken('viewer');
    expect((await call(`${app.url}/session/me`, { token })).body.username).toBe('viewer');
    expect((await call(`${app.url}/session/logout`, { method: 'POST', token })).status).toBe(204);
  });
});

/** The answer to a POST of `path`, with the path's own words taken out of the message. */
async function postAnswer(app: RunningApp, path: string): Promise<Answer> {
  const answer = await call(`${app.url}${path}?code=abc`, {
    method: 'POST',
    json: { code: 'abc' },
  });
  if (typeof answer.body?.message === 'string') {
    answer.body.message = answer.body.message.replace(path, '<path>');
  }
  return answer;
}

/** `POST <base>/login/code` answers as `POST <base>/no-such-route` does: status, body and type. */
async function expectAnsweredAsUnknown(app: RunningApp, base = '/auth'): Promise<void> {
  const code = await postAnswer(app, `${base}/login/code`);
  const unknown = await postAnswer(app, `${base}/no-such-route`);
  expect(unknown.status, show(unknown)).toBe(404);
  expect(code.status, show(code)).toBe(unknown.status);
  expect(code.body).toEqual(unknown.body);
  expect(code.headers.get('content-type')).toBe(unknown.headers.get('content-type'));
}

function asyncAuth(
  emulator: AuthServiceEmulator,
  overrides: Partial<ApexAuthModuleOptions>,
  extras: Omit<Parameters<typeof ApexAuthModule.forRootAsync>[0], 'useFactory'> = {},
): DynamicModule {
  return ApexAuthModule.forRootAsync({
    useFactory: () => shopOptions(emulator.url, { syncPermissions: false, ...overrides }),
    ...extras,
  });
}

describe.each(PLATFORMS)('POST /auth/login/code and oauthClient on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  const start = useShopEmulator(platform, {}, (started) => (emulator = started));
  const apps: RunningApp[] = [];
  const startAsync = async (module: DynamicModule, logger?: CapturingLogger) => {
    const app = await startApp(platform, module, { logger });
    apps.push(app);
    return app;
  };
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('forRoot without oauthClient: answered as an unknown route; the routes are logged as AuthController', async () => {
    const logger = new CapturingLogger();
    const app = await start({ syncPermissions: false }, { logger });
    await expectAnsweredAsUnknown(app);
    expect(controllerLines(logger)).toContain('AuthController {/auth}:');
    expect(logger.all()).not.toContain('MountedAuthController');
    expect(logger.all()).not.toContain('/auth/login/code');
  });

  it('forRoot with oauthClient: the route is there (a bad code is a 401), logged as AuthController', async () => {
    const logger = new CapturingLogger();
    const app = await start(
      { syncPermissions: false, oauthClient: OAUTH_CLIENT, login: NO_DELAY },
      { logger },
    );
    const answer = await postAnswer(app, '/auth/login/code');
    expect(answer.status, show(answer)).toBe(401);
    expect(answer.body).toEqual({
      statusCode: 401,
      message: 'invalid authorization code',
      error: 'Unauthorized',
    });
    expect(controllerLines(logger)).toContain('AuthController {/auth}:');
    expect(logger.all()).not.toContain('MountedAuthController');
  });

  it('a controller path of its own is logged under AuthController too', async () => {
    const logger = new CapturingLogger();
    await start({ syncPermissions: false, controller: { path: 'account' } }, { logger });
    expect(controllerLines(logger)).toContain('AuthController {/account}:');
    expect(logger.all()).not.toContain('MountedAuthController');
  });

  it('forRootAsync without oauthClient: answered as an unknown route', async () => {
    await expectAnsweredAsUnknown(await startAsync(asyncAuth(emulator, {})));
  });

  it('forRootAsync with an oauthClient but no codeExchange extra: not mounted, and a warning says how', async () => {
    const logger = new CapturingLogger();
    const app = await startAsync(asyncAuth(emulator, { oauthClient: OAUTH_CLIENT }), logger);
    await expectAnsweredAsUnknown(app);
    expect(logger.apexAuth('warn').join('\n')).toContain('controller: { codeExchange: true }');
  });

  it('forRootAsync with codeExchange: true and a factory that gives an oauthClient: the code exchange works', async () => {
    const app = await startAsync(
      asyncAuth(emulator, { oauthClient: OAUTH_CLIENT }, { controller: { codeExchange: true } }),
    );
    const code = emulator.issueCode(OAUTH_CLIENT.clientId, 'editor');
    const answer = await call(`${app.url}/auth/login/code`, { method: 'POST', json: { code } });
    expect(answer.status, show(answer)).toBe(200);
    expect(answer.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer' });
    const me = await call(`${app.url}/auth/me`, { token: answer.body.access_token });
    expect(me.body.username).toBe('editor');
  });

  it('forRootAsync with codeExchange: true and no oauthClient: the startup fails, naming both', async () => {
    const startup = startAsync(asyncAuth(emulator, {}, { controller: { codeExchange: true } }));
    await expect(startup).rejects.toBeInstanceOf(ApexAuthOptionsError);
    await expect(startup).rejects.toThrow(
      /^controller\.codeExchange: is on, but there is no `oauthClient`: the code exchange needs it$/,
    );
  });
});
