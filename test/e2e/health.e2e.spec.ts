import { Controller, Get, Module } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { ApexAuthHealthIndicator, Public } from '@apex/nest-auth';
import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { call, show } from '../fixtures/http.js';
import { useShopEmulator } from '../fixtures/shop-suite.js';
import { ShopFeatureModule } from '../fixtures/shop.controllers.js';
import { PLATFORMS } from '../fixtures/start-app.js';

/** A health endpoint as a service writes it with terminus. */
@Controller('status')
class StatusController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly auth: ApexAuthHealthIndicator,
  ) {}

  @Public()
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.auth.isHealthy()]);
  }
}

@Module({
  imports: [TerminusModule],
  controllers: [StatusController],
  providers: [ApexAuthHealthIndicator],
})
class StatusModule {}

const CLOSED = { login: 'closed', lookup: 'closed', other: 'closed' };

describe.each(PLATFORMS)('ApexAuthHealthIndicator on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  const start = useShopEmulator(platform, {}, (e) => (emulator = e));
  const features = [ShopFeatureModule, StatusModule];
  afterEach(() => emulator.clearFaults());

  it('is up with its latency and the breakers while the auth-service answers', async () => {
    const app = await start({ syncPermissions: false }, { features });
    emulator.resetCounters();
    const answer = await call(`${app.url}/status`);
    expect(answer.status, show(answer)).toBe(200);
    expect(answer.body).toEqual({
      status: 'ok',
      info: {
        'auth-service': { status: 'up', latencyMs: expect.any(Number), breaker: CLOSED },
      },
      error: {},
      details: expect.any(Object),
    });
    // One cheap request: the user endpoint, without a token.
    const counts = Object.entries(emulator.requestCounts()).filter(([, count]) => count > 0);
    expect(counts).toEqual([['user', 1]]);
    const direct = await app.app.get(ApexAuthHealthIndicator).isHealthy('auth');
    expect(direct).toEqual({
      auth: { status: 'up', latencyMs: expect.any(Number), breaker: CLOSED },
    });
  });

  it('is down with the reason when the auth-service fails, hangs or cannot be reached', async () => {
    const app = await start({ syncPermissions: false, timeoutMs: 300 }, { features });
    const downWith = async (reason: string) => {
      const answer = await call(`${app.url}/status`);
      expect(answer.status, show(answer)).toBe(503);
      expect(answer.body.status).toBe('error');
      expect(answer.body.error['auth-service']).toEqual({
        status: 'down',
        latencyMs: expect.any(Number),
        breaker: CLOSED,
        reason,
      });
    };
    emulator.fail({ kind: 'status', status: 500 }, { endpoints: ['user'] });
    await downWith('auth-service unavailable (ping: 500)');
    emulator.clearFaults();
    // Hanging: bounded by the module's timeoutMs.
    emulator.fail({ kind: 'hang' }, { endpoints: ['user'] });
    await downWith('auth-service unavailable (ping: timeout)');
    emulator.clearFaults();
    emulator.fail({ kind: 'reset' }, { endpoints: ['user'] });
    await downWith('auth-service unavailable (ping: connection)');
    emulator.clearFaults();
    // Something that answers, but not as an auth-service would.
    emulator.fail({ kind: 'status', status: 404 }, { endpoints: ['user'] });
    await downWith('auth-service has no such resource (ping: 404)');
    emulator.clearFaults();
    expect((await call(`${app.url}/status`)).status).toBe(200);
  });

  it('is down while a circuit is open, though the auth-service answers again', async () => {
    const app = await start(
      {
        syncPermissions: false,
        circuitBreaker: {
          minimumCalls: 2,
          clientFailures: 10,
          halfOpenAfterMs: 60_000,
          maxHalfOpenAfterMs: 60_000,
        },
      },
      { features },
    );
    // Failing checks trip nothing: they go around the breakers.
    emulator.fail({ kind: 'status', status: 503 }, { endpoints: ['user'] });
    for (let i = 0; i < 3; i++) expect((await call(`${app.url}/status`)).status).toBe(503);
    emulator.clearFaults();
    const healthy = await call(`${app.url}/status`);
    expect(healthy.body.info['auth-service'], show(healthy)).toMatchObject({ breaker: CLOSED });

    emulator.fail({ kind: 'status', status: 503 }, { endpoints: ['user'] });
    for (const user of ['viewer', 'editor', 'admin']) {
      const answer = await call(`${app.url}/products`, { token: emulator.issueToken(user) });
      expect(answer.status, show(answer)).toBe(503);
    }
    emulator.clearFaults();
    const answer = await call(`${app.url}/status`);
    expect(answer.status, show(answer)).toBe(503);
    expect(answer.body.error['auth-service']).toEqual({
      status: 'down',
      latencyMs: expect.any(Number),
      breaker: { ...CLOSED, lookup: 'open' },
      reason: 'circuit of lookup calls open',
    });
    // The check did not probe the circuit either: it is still open.
    const again = await call(`${app.url}/products`, { token: emulator.issueToken('viewer') });
    expect(again.status, show(again)).toBe(503);
  });

  it('says the breakers are off when they are', async () => {
    const app = await start({ syncPermissions: false, circuitBreaker: false }, { features });
    const answer = await call(`${app.url}/status`);
    expect(answer.status, show(answer)).toBe(200);
    expect(answer.body.info['auth-service']).toMatchObject({ status: 'up', breaker: 'off' });
  });
});
