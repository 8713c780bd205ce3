import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AuthServiceEmulator, overrideAuthService } from '@apex/nest-auth/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ShopModule } from './app.module.js';
import { ShopPermissions } from './shop-permissions.js';

const seed = {
  users: ['ann', 'bob'].map((username) => ({ username, password: `${username}-password` })),
  services: [{ name: 'shop', metadata: { ann: { canEditProducts: true } } }],
};
let emulator: AuthServiceEmulator;
let app: INestApplication;

beforeAll(async () => {
  emulator = await AuthServiceEmulator.start({ seed });
  const testing = Test.createTestingModule({ imports: [ShopModule] });
  const options = { serviceName: 'shop', permissions: ShopPermissions };
  app = (await overrideAuthService(testing, emulator, options).compile()).createNestApplication();
  await app.listen(0, '127.0.0.1');
});
afterAll(() => Promise.all([app.close(), emulator.stop()]));

/** A request to the shop, as `username` (a token the emulator issues) or anonymous. */
async function call(path: string, { as, body }: { as?: string; body?: object } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (as !== undefined) headers.authorization = `Bearer ${emulator.issueToken(as)}`;
  const init = { method: body ? 'POST' : 'GET', headers, body: JSON.stringify(body) };
  return fetch(`${await app.getUrl()}${path}`, init);
}

it('lets an editor add a product', async () => {
  const response = await call('/products', { as: 'ann', body: { name: 'cocoa' } });
  expect(response.status).toBe(201);
  expect(await response.json()).toEqual({ created: 'cocoa', by: 'ann' });
});

it('refuses a user without the permission, and a caller without a token', async () => {
  expect((await call('/products', { as: 'bob', body: { name: 'tea' } })).status).toBe(403);
  expect((await call('/products')).status).toBe(401);
});

it('shows the catalog to anyone, and the region to signed-in users', async () => {
  expect(await (await call('/products/catalog')).json()).toMatchObject({
    products: expect.arrayContaining(['coffee', 'tea']),
  });
  expect(await (await call('/products', { as: 'bob' })).json()).toMatchObject({ region: 'eu' });
});
