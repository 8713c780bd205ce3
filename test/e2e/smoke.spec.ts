import { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shopSeed } from './fixtures/seed.js';
import { PLATFORMS, shopAuth, startApp, type RunningApp } from './fixtures/start-app.js';

describe.each(PLATFORMS)('smoke on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  let app: RunningApp;
  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({ seed: shopSeed() });
    app = await startApp(platform, shopAuth(emulator.url));
  });
  afterAll(async () => {
    await app?.close();
    await emulator?.stop();
  });

  it('works', async () => {
    const login = await fetch(`${app.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=editor&password=editor-password-2',
    });
    const body = await login.json();
    expect(login.status, JSON.stringify(body)).toBe(200);
    const auth = { authorization: `Bearer ${body.access_token}` };
    const create = await fetch(`${app.url}/products`, { method: 'POST', headers: auth });
    expect(await create.json()).toEqual({ created: true, region: 'us', isInstance: true });
    const none = await fetch(`${app.url}/products`);
    expect(none.status).toBe(401);
    expect(emulator.permissionsOf('shop').map((p) => p.name)).toEqual(['canView', 'canEdit', 'region', 'maxDiscount']);
  });
});
