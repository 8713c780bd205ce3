import { Controller, Get, Injectable, Module, UseGuards, type DynamicModule } from '@nestjs/common';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { ApexAuthGuard, CurrentUser, type AuthenticatedUser } from '@apex/nest-auth';
import { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApexAuthStrategy } from '../../lib/verification/apex-auth.strategy.js';
import { CapturingLogger } from '../fixtures/capturing-logger.js';
import { call, show } from '../fixtures/http.js';
import { shopSeed } from '../fixtures/seed.js';
import {
  PLATFORMS,
  shopAuth,
  startApp,
  type Platform,
  type RunningApp,
} from '../fixtures/start-app.js';

const API_KEY = 'reporting-job-key-0123456789';
const API_CLIENT = { id: 'api-client', username: 'reporting-job' };

type Verified = (error: unknown, user?: object | false) => void;

/**
 * An app's own credential, as passport-custom would read it: the `X-Api-Key` header,
 * handed to the verify callback that `PassportStrategy` passes in.
 */
class HeaderKeyStrategy extends passport.Strategy {
  constructor(private readonly verifyKey: (key: string, done: Verified) => void) {
    super();
  }

  override authenticate(request: { headers: Record<string, string | string[] | undefined> }): void {
    const key = request.headers['x-api-key'];
    if (typeof key !== 'string') return this.fail(401);
    this.verifyKey(key, (error, user) => {
      if (error !== null && error !== undefined) return this.error(error);
      if (user === false || user === undefined) return this.fail(401);
      this.success(user);
    });
  }
}

@Injectable()
class ApiKeyStrategy extends PassportStrategy(HeaderKeyStrategy, 'api-key') {
  validate(key: string): object | false {
    return key === API_KEY ? API_CLIENT : false;
  }
}

/**
 * Routes guarded by `AuthGuard(strategy)` of `@nestjs/passport` alone, by the same combined
 * with the app's api-key strategy, and by `ApexAuthGuard`; each answers `request.user`.
 */
function passportFeature(strategy: string, other?: string): DynamicModule {
  @Controller('passport')
  class PassportController {
    @UseGuards(AuthGuard(strategy))
    @Get('me')
    me(@CurrentUser() user: AuthenticatedUser) {
      return user;
    }

    @UseGuards(AuthGuard([strategy, 'api-key']))
    @Get('either')
    either(@CurrentUser() user: AuthenticatedUser) {
      return user;
    }
  }

  @Controller('other')
  class OtherController {
    @UseGuards(AuthGuard(other ?? strategy))
    @Get('me')
    me(@CurrentUser() user: AuthenticatedUser) {
      return user;
    }
  }

  @Controller('guard')
  @UseGuards(ApexAuthGuard)
  class GuardController {
    @Get('me')
    me(@CurrentUser() user: AuthenticatedUser) {
      return user;
    }
  }

  @Module({})
  class PassportFeatureModule {}
  return {
    module: PassportFeatureModule,
    controllers: [PassportController, OtherController, GuardController],
    providers: [ApiKeyStrategy],
  };
}

/** What Passport itself has registered under a name. */
const registered = (name: string): unknown =>
  (passport as unknown as { _strategy(name: string): unknown })._strategy(name);

/** Remote verification, every fault on its own (no breaker), no global guard: only the route's. */
const BASE = {
  syncPermissions: false,
  globalGuard: false,
  timeoutMs: 300,
  circuitBreaker: false,
} as const;

describe.each(PLATFORMS)('Passport on %s', (platform: Platform) => {
  describe("AuthGuard('apex-auth') of @nestjs/passport", () => {
    let emulator: AuthServiceEmulator;
    let app: RunningApp;
    const get = (path: string, token?: string, headers?: Record<string, string>) =>
      call(`${app.url}${path}`, { token, headers });

    beforeAll(async () => {
      emulator = await AuthServiceEmulator.start({ seed: shopSeed() });
      app = await startApp(platform, shopAuth(emulator.url, BASE), {
        features: [passportFeature('apex-auth')],
      });
    });
    afterAll(async () => {
      await app?.close();
      await emulator?.stop();
    });
    beforeEach(() => emulator.resetCounters());
    afterEach(() => emulator.clearFaults());

    it('is the module strategy, registered with Passport under its default name', () => {
      expect(registered('apex-auth')).toBe(app.app.get(ApexAuthStrategy));
    });

    it('sets the same request.user as ApexAuthGuard for the same user', async () => {
      const viaPassport = await get('/passport/me', emulator.issueToken('editor'));
      const viaGuard = await get('/guard/me', emulator.issueToken('editor'));
      expect(viaPassport.status, show(viaPassport)).toBe(200);
      expect(viaGuard.status, show(viaGuard)).toBe(200);
      expect(viaPassport.body).toEqual(viaGuard.body);
      expect(viaPassport.body).toMatchObject({
        username: 'editor',
        isServiceAdmin: false,
        metadata: { canEdit: true, region: 'us', maxDiscount: 25 },
      });
      // Two new tokens: each was looked up, one through Passport, one through the guard.
      expect(emulator.requestCount('user')).toBe(2);
    });

    it('shares one verification and one cache with ApexAuthGuard', async () => {
      const token = emulator.issueToken('viewer');
      const viaPassport = await get('/passport/me', token);
      const viaGuard = await get('/guard/me', token);
      const again = await get('/passport/me', token);
      expect([viaPassport.status, viaGuard.status, again.status]).toEqual([200, 200, 200]);
      expect(viaGuard.body).toEqual(viaPassport.body);
      expect(again.body).toEqual(viaPassport.body);
      expect(emulator.requestCount('user')).toBe(1);
      expect(emulator.requestCount('serviceUser')).toBe(1);
    });

    it.each([
      ['no token', undefined],
      ['a malformed header', 'not-a-jwt'],
    ])('answers 401 to %s, without asking upstream', async (_what, token) => {
      const answer = await get('/passport/me', token);
      expect(answer.status, show(answer)).toBe(401);
      expect(emulator.requestCount('user')).toBe(0);
    });

    it('answers 401 to a token the auth-service refuses', async () => {
      const token = emulator.issueToken('editor');
      emulator.revokeToken(token);
      const answer = await get('/passport/me', token);
      expect(answer.status, show(answer)).toBe(401);
      expect(emulator.requestCount('user')).toBe(1);
    });

    it('answers 503 when the auth-service fails, never 401', async () => {
      emulator.fail({ kind: 'status', status: 503 });
      const answer = await get('/passport/me', emulator.issueToken('editor'));
      expect(answer.status, show(answer)).toBe(503);
      expect(answer.body.message).toBe('auth-service unavailable');
    });

    it('answers 503 when the auth-service answers nonsense', async () => {
      emulator.fail({ kind: 'status', status: 200, body: '{"id":42}' });
      const answer = await get('/passport/me', emulator.issueToken('editor'));
      expect(answer.status, show(answer)).toBe(503);
    });

    describe("combined with an app's strategy: AuthGuard(['apex-auth', 'api-key'])", () => {
      it('lets a request without a bearer token through to the api-key strategy', async () => {
        const answer = await get('/passport/either', undefined, { 'x-api-key': API_KEY });
        expect(answer.status, show(answer)).toBe(200);
        expect(answer.body).toEqual(API_CLIENT);
        expect(emulator.requestCount('user')).toBe(0);
      });

      it('authenticates a bearer token through apex-auth, first', async () => {
        const answer = await get('/passport/either', emulator.issueToken('editor'), {
          'x-api-key': API_KEY,
        });
        expect(answer.status, show(answer)).toBe(200);
        expect(answer.body.username).toBe('editor');
      });

      it('goes on to the api-key strategy when the bearer token is refused', async () => {
        const token = emulator.issueToken('editor');
        emulator.revokeToken(token);
        const answer = await get('/passport/either', token, { 'x-api-key': API_KEY });
        expect(answer.status, show(answer)).toBe(200);
        expect(answer.body).toEqual(API_CLIENT);
      });

      it.each([
        ['neither credential', undefined, {}],
        ['a wrong api key', undefined, { 'x-api-key': 'wrong' }],
        ['a malformed bearer token and no key', 'not-a-jwt', {}],
      ])('answers 401 to %s', async (_what, token, headers: Record<string, string>) => {
        const answer = await get('/passport/either', token, headers);
        expect(answer.status, show(answer)).toBe(401);
      });

      it('answers 503, not the next strategy, when the auth-service fails', async () => {
        emulator.fail({ kind: 'status', status: 503 });
        const answer = await get('/passport/either', emulator.issueToken('editor'));
        expect(answer.status, show(answer)).toBe(503);
      });
    });
  });

  describe("strategyName: 'staff'", () => {
    let emulator: AuthServiceEmulator;
    let app: RunningApp;

    beforeAll(async () => {
      emulator = await AuthServiceEmulator.start({ seed: shopSeed() });
      app = await startApp(platform, shopAuth(emulator.url, { ...BASE, strategyName: 'staff' }), {
        features: [passportFeature('staff', 'apex-auth')],
      });
    });
    afterAll(async () => {
      await app?.close();
      await emulator?.stop();
    });

    it("authenticates with AuthGuard('staff')", async () => {
      const answer = await call(`${app.url}/passport/me`, { token: emulator.issueToken('editor') });
      expect(answer.status, show(answer)).toBe(200);
      expect(answer.body.username).toBe('editor');
      expect(registered('staff')).toBe(app.app.get(ApexAuthStrategy));
    });

    it("does not register 'apex-auth': AuthGuard('apex-auth') authenticates nobody", async () => {
      expect(registered('apex-auth')).toBeUndefined();
      const answer = await call(`${app.url}/other/me`, { token: emulator.issueToken('editor') });
      expect(answer.status, show(answer)).toBe(500);
    });

    it('combines with the api-key strategy under its own name', async () => {
      const answer = await call(`${app.url}/passport/either`, {
        headers: { 'x-api-key': API_KEY },
      });
      expect(answer.status, show(answer)).toBe(200);
      expect(answer.body).toEqual(API_CLIENT);
    });
  });

  describe('two apps in one process with the same strategy name', () => {
    let emulator: AuthServiceEmulator;
    const logger = new CapturingLogger();
    let first: RunningApp;
    let second: RunningApp | undefined;
    const start = () =>
      startApp(platform, shopAuth(emulator.url, BASE), {
        features: [passportFeature('apex-auth')],
        logger,
      });

    beforeAll(async () => {
      emulator = await AuthServiceEmulator.start({ seed: shopSeed() });
      first = await start();
      second = await start();
    });
    afterAll(async () => {
      await second?.close();
      await first?.close();
      await emulator?.stop();
    });

    it('withdraws the name from Passport, with a warning, while both are alive', async () => {
      expect(logger.apexAuth('warn')).toContainEqual(
        expect.stringContaining(
          `2 ApexAuthModule registrations alive in this process use the strategy name "apex-auth"`,
        ),
      );
      expect(registered('apex-auth')).toBeUndefined();
      const token = emulator.issueToken('editor');
      for (const app of [first, second!]) {
        // Neither app's AuthGuard('apex-auth') can end up verifying with the other's strategy.
        const viaPassport = await call(`${app.url}/passport/me`, { token });
        expect(viaPassport.status, show(viaPassport)).toBe(500);
        // ApexAuthGuard goes through each registration's own Passport: not affected.
        const viaGuard = await call(`${app.url}/guard/me`, { token });
        expect(viaGuard.status, show(viaGuard)).toBe(200);
        expect(viaGuard.body.username).toBe('editor');
      }
    });

    it('gives the name back to the one left when the other stops', async () => {
      await second!.close();
      second = undefined;
      expect(registered('apex-auth')).toBe(first.app.get(ApexAuthStrategy));
      const answer = await call(`${first.url}/passport/me`, {
        token: emulator.issueToken('viewer'),
      });
      expect(answer.status, show(answer)).toBe(200);
      expect(answer.body.username).toBe('viewer');
    });
  });

  describe('two apps in one process with their own strategy names', () => {
    const emulators: Record<'a' | 'b', AuthServiceEmulator | undefined> = {
      a: undefined,
      b: undefined,
    };
    const apps: Record<'a' | 'b', RunningApp | undefined> = { a: undefined, b: undefined };
    const logger = new CapturingLogger();

    beforeAll(async () => {
      for (const name of ['a', 'b'] as const) {
        const emulator = await AuthServiceEmulator.start({ seed: shopSeed() });
        emulators[name] = emulator;
        apps[name] = await startApp(
          platform,
          shopAuth(emulator.url, {
            ...BASE,
            strategyName: `shop-${name}`,
            jwt: { secret: emulator.hmacSecret! },
          }),
          { features: [passportFeature(`shop-${name}`)], logger },
        );
      }
    });
    afterAll(async () => {
      for (const name of ['a', 'b'] as const) {
        await apps[name]?.close();
        await emulators[name]?.stop();
      }
    });

    it('registers both names, without a warning', () => {
      expect(emulators.a!.hmacSecret).not.toBe(emulators.b!.hmacSecret);
      expect(registered('shop-a')).toBe(apps.a!.app.get(ApexAuthStrategy));
      expect(registered('shop-b')).toBe(apps.b!.app.get(ApexAuthStrategy));
      expect(logger.apexAuth('warn').filter((line) => line.includes('strategy name'))).toEqual([]);
    });

    it('verifies each against its own auth-service: a token of A is refused by B, and of B by A', async () => {
      const { a, b } = emulators as Record<'a' | 'b', AuthServiceEmulator>;
      const tokenA = a.issueToken('editor');
      const tokenB = b.issueToken('viewer');
      a.resetCounters();
      b.resetCounters();

      const own = await Promise.all([
        call(`${apps.a!.url}/passport/me`, { token: tokenA }),
        call(`${apps.b!.url}/passport/me`, { token: tokenB }),
      ]);
      expect(own.map((answer) => answer.status)).toEqual([200, 200]);
      expect(own.map((answer): unknown => answer.body.username)).toEqual(['editor', 'viewer']);
      expect([a.requestCount('user'), b.requestCount('user')]).toEqual([1, 1]);

      const crossed = await Promise.all([
        call(`${apps.b!.url}/passport/me`, { token: tokenA }),
        call(`${apps.a!.url}/passport/me`, { token: tokenB }),
        call(`${apps.b!.url}/guard/me`, { token: tokenA }),
      ]);
      expect(crossed.map((answer) => answer.status)).toEqual([401, 401, 401]);
      // Refused by the signature: neither auth-service was asked about the other's token.
      expect([a.requestCount('user'), b.requestCount('user')]).toEqual([1, 1]);
    });
  });
});
