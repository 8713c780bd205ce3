import { existsSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AuthServiceEmulator, overrideAuthService } from '@apex/nest-auth/testing';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ShopModule } from '../../examples/shop/app.module.js';
import { serveShopDocs } from '../../examples/shop/docs.js';
import { ShopPermissions } from '../../examples/shop/shop-permissions.js';

/**
 * Swagger UI in a real browser: Debian's Chromium (`.ci/run` installs it), driven by
 * playwright-core, which downloads no browser of its own. Nest 12 only: what it proves
 * (the document works in Swagger UI) does not depend on Nest's major.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Generous, bounded waits: a cold Chromium on a busy 2-core machine is slow, never stuck. */
const WAIT_MS = 20_000;

const seed = {
  users: [{ username: 'ann', password: 'ann-password' }],
  services: [{ name: 'shop', metadata: { ann: { canEditProducts: true, region: 'us' } } }],
};
let emulator: AuthServiceEmulator;
let app: INestApplication;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`,
    );
  }
  emulator = await AuthServiceEmulator.start({ seed });
  const testing = Test.createTestingModule({ imports: [ShopModule] });
  const options = { serviceName: 'shop', permissions: ShopPermissions };
  app = (await overrideAuthService(testing, emulator, options).compile()).createNestApplication();
  serveShopDocs(app);
  await app.listen(0, '127.0.0.1');
  // As root (CI), Chromium needs --no-sandbox.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all([app?.close(), emulator?.stop()]);
});

it('logs in through the Authorize dialog, then calls a guarded route with the token', async () => {
  const page = await browser.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  await page.goto(`${url}/docs`);

  // The dialog lists both schemes; the OAuth2 one logs in through POST /auth/login.
  await page.locator('button.authorize').first().click();
  const dialog = page.locator('.dialog-ux');
  const oauth2 = dialog.locator('.auth-container', { has: page.locator('#oauth_username') });
  await oauth2.locator('#oauth_username').fill('ann');
  await oauth2.locator('#oauth_password').fill('ann-password');
  const login = page.waitForResponse((response) => response.url().endsWith('/auth/login'));
  await oauth2.locator('button.authorize').click();
  expect((await login).status()).toBe(200);
  // Authorized: the OAuth2 section now offers to log out (its fields are gone).
  await dialog.locator('button', { hasText: 'Logout' }).waitFor();
  await dialog.locator('button.close-modal').click();

  // A guarded route, called from its "Try it out" with the token Swagger UI got.
  const operation = page.locator('#operations-Products-ProductsController_list');
  await operation.locator('.opblock-summary').click();
  await operation.getByRole('button', { name: 'Try it out' }).click();
  const call = page.waitForResponse((response) => new URL(response.url()).pathname === '/products');
  await operation.getByRole('button', { name: 'Execute' }).click();
  const answer = await call;
  expect(answer.status()).toBe(200);
  expect(answer.request().headers().authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  expect(await answer.json()).toMatchObject({ region: 'us' });
  await page.close();
}, 90_000);
