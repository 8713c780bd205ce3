import { Controller, Get, Injectable, Module, UseGuards } from '@nestjs/common';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import { CurrentUser, Public } from '@apex/nest-auth';
import { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { Strategy } from 'passport-jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../fixtures/http.js';
import { claimsFor, signHs256 } from '../fixtures/jwt.js';
import { shopSeed } from '../fixtures/seed.js';
import { PLATFORMS, shopAuth, startApp, type RunningApp } from '../fixtures/start-app.js';

const PARTNER_SECRET = 'a-partner-secret-of-at-least-32-bytes';

/** The README's example: the app's own strategy, for a partner's tokens in another header. */
@Injectable()
class PartnerStrategy extends PassportStrategy(Strategy, 'partner') {
  constructor() {
    super({
      jwtFromRequest: (request: { headers: Record<string, string | undefined> }) =>
        request.headers['x-partner-token'] ?? null,
      secretOrKey: PARTNER_SECRET,
    });
  }

  validate(payload: { sub: string }) {
    return { partner: payload.sub };
  }
}

@Public()
@Controller('orders')
class OrdersController {
  @UseGuards(AuthGuard('apex-auth'))
  @Get('mine')
  mine(@CurrentUser('username') username: string) {
    return { username };
  }

  @UseGuards(AuthGuard(['apex-auth', 'partner']))
  @Get()
  list(@CurrentUser() user: { username?: string; partner?: string }) {
    return { username: user.username ?? null, partner: user.partner ?? null };
  }
}

@Module({ controllers: [OrdersController], providers: [PartnerStrategy] })
class OrdersModule {}

describe.each(PLATFORMS)("the README's AuthGuard example, global guard on, on %s", (platform) => {
  let emulator: AuthServiceEmulator;
  let running: RunningApp;
  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({ seed: shopSeed() });
    running = await startApp(platform, shopAuth(emulator.url), { features: [OrdersModule] });
  });
  afterAll(async () => {
    await running?.close();
    await emulator?.stop();
  });

  it("AuthGuard('apex-auth') on a @Public() controller still needs a user's token", async () => {
    const mine = await call(`${running.url}/orders/mine`, { token: emulator.issueToken('viewer') });
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual({ username: 'viewer' });
    const anonymous = await call(`${running.url}/orders/mine`);
    // @nestjs/passport's own refusal (its AuthGuard's handleRequest), not the module's.
    expect(anonymous.status).toBe(401);
  });

  it("a user's bearer token, or else a partner's token; neither is a 401", async () => {
    const user = await call(`${running.url}/orders`, { token: emulator.issueToken('editor') });
    expect(user.body).toEqual({ username: 'editor', partner: null });
    const partnerToken = signHs256(claimsFor('acme'), PARTNER_SECRET);
    const partner = await call(`${running.url}/orders`, {
      headers: { 'x-partner-token': partnerToken },
    });
    expect(partner.status).toBe(200);
    expect(partner.body).toEqual({ username: null, partner: 'acme' });
    const forged = signHs256(claimsFor('acme'), 'not-the-partner-secret-at-all-32-bytes');
    const neither = await call(`${running.url}/orders`, { headers: { 'x-partner-token': forged } });
    expect(neither.status).toBe(401);
  });

  it('the auth-service failing is a 503 through AuthGuard too, never a 401', async () => {
    emulator.fail({ kind: 'status', status: 500 }, { endpoints: ['user'] });
    const fresh = emulator.issueToken('admin');
    const answer = await call(`${running.url}/orders/mine`, { token: fresh });
    emulator.clearFaults();
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).not.toBeNull();
  });
});
