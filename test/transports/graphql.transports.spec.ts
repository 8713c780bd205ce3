import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useShopEmulator } from '../fixtures/shop-suite.js';
import type { Platform, RunningApp } from '../fixtures/start-app.js';
import { graphql, subscribe, type GraphqlAnswer } from './fixtures/graphql-clients.js';
import {
  graphqlModule,
  OpenResolver,
  ShopResolver,
  type GraphqlDriver,
} from './fixtures/graphql-shop.js';
import { expOf, tampered } from './fixtures/tokens.js';

function refusalOf(answer: GraphqlAnswer | GraphqlAnswer['errors']) {
  const errors = Array.isArray(answer) ? answer : answer.errors;
  expect(errors, JSON.stringify(answer)).toHaveLength(1);
  return { code: errors[0].extensions?.code, message: errors[0].message, path: errors[0].path };
}

describe.each<[GraphqlDriver, Platform]>([
  ['apollo', 'express'],
  ['mercurius', 'fastify'],
])('GraphQL on %s (%s)', (driver, platform) => {
  let emulator: AuthServiceEmulator;
  let app: RunningApp;
  const start = useShopEmulator(platform, {}, (started) => {
    emulator = started;
  });
  beforeAll(async () => {
    app = await start({}, { features: [graphqlModule(driver, [ShopResolver, OpenResolver])] });
  });
  afterEach(() => emulator.clearFaults());

  describe('queries and mutations: the token of the HTTP request', () => {
    it('refuses a guarded query without a token: UNAUTHENTICATED, missing token', async () => {
      const answer = await graphql(app.url, '{ me }');
      expect(refusalOf(answer)).toMatchObject({
        code: 'UNAUTHENTICATED',
        message: 'missing token',
      });
      expect(answer.data?.me ?? null).toBeNull();
    });

    it('refuses an invalid token and an expired one, each with its reason', async () => {
      const invalid = await graphql(app.url, '{ me }', tampered(emulator.issueToken('viewer')));
      expect(refusalOf(invalid)).toMatchObject({
        code: 'UNAUTHENTICATED',
        message: 'invalid token',
      });
      const expired = emulator.issueToken('viewer', { ttlSeconds: -60 });
      expect(refusalOf(await graphql(app.url, '{ me }', expired))).toMatchObject({
        code: 'UNAUTHENTICATED',
        message: 'token expired',
      });
    });

    it('answers a valid token, with @CurrentUser() and @AuthToken() as resolver parameters', async () => {
      const answer = await graphql(app.url, '{ me }', emulator.issueToken('viewer'));
      expect(answer.errors).toEqual([]);
      expect(answer.data.me).toBe('viewer (with a token)');
    });

    it('refuses a missing permission with FORBIDDEN naming it, and grants it', async () => {
      const refused = await graphql(app.url, 'mutation { edit }', emulator.issueToken('viewer'));
      expect(refusalOf(refused)).toMatchObject({
        code: 'FORBIDDEN',
        message: 'missing permission: canEdit',
      });
      const granted = await graphql(app.url, 'mutation { edit }', emulator.issueToken('editor'));
      expect(granted.data.edit).toBe('edited by editor');
    });

    it('serves a @Public() query to anyone; a valid token still sets the user, a bad one is ignored', async () => {
      expect((await graphql(app.url, '{ catalog }')).data.catalog).toBe('anonymous');
      const viewer = await graphql(app.url, '{ catalog }', emulator.issueToken('viewer'));
      expect(viewer.data.catalog).toBe('viewer');
      const bad = await graphql(app.url, '{ catalog }', tampered(emulator.issueToken('editor')));
      expect(bad.data.catalog).toBe('anonymous');
    });

    it('answers SERVICE_UNAVAILABLE when the auth-service fails, never UNAUTHENTICATED or its body', async () => {
      emulator.fail(
        { kind: 'status', status: 503, body: '{"detail":"upstream-body-marker"}' },
        { endpoints: ['user'] },
      );
      const answer = await graphql(app.url, '{ me }', emulator.issueToken('editor'));
      expect(refusalOf(answer)).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        message: 'auth-service unavailable',
      });
      expect(answer.errors[0].extensions?.retryAfter).toEqual(expect.any(Number));
      expect(JSON.stringify(answer)).not.toContain('upstream-body-marker');
    });

    it('a requirement on a handler of a @Public() resolver wins: UNAUTHENTICATED, then FORBIDDEN', async () => {
      expect(refusalOf(await graphql(app.url, '{ openEdit }'))).toMatchObject({
        code: 'UNAUTHENTICATED',
        message: 'missing token',
      });
      const viewer = await graphql(app.url, '{ openEdit }', emulator.issueToken('viewer'));
      expect(refusalOf(viewer)).toMatchObject({ code: 'FORBIDDEN' });
      const editor = await graphql(app.url, '{ openEdit }', emulator.issueToken('editor'));
      expect(editor.data.openEdit).toBe('open edit by editor');
      expect((await graphql(app.url, '{ openHello }')).data.openHello).toBe('hello anonymous');
    });

    it('a guarded field of a public query resolves to an error for that field, never to its value', async () => {
      const anonymous = await graphql(app.url, '{ product { name cost } }');
      expect(anonymous.data.product).toEqual({ name: 'apple', cost: null });
      expect(refusalOf(anonymous)).toEqual({
        code: 'UNAUTHENTICATED',
        message: 'missing token',
        path: ['product', 'cost'],
      });
      const viewer = await graphql(app.url, '{ product { cost } }', emulator.issueToken('viewer'));
      expect(viewer.data.product.cost).toBeNull();
      expect(refusalOf(viewer)).toMatchObject({ code: 'FORBIDDEN', path: ['product', 'cost'] });
      const editor = await graphql(app.url, '{ product { cost } }', emulator.issueToken('editor'));
      expect(editor.errors).toEqual([]);
      expect(editor.data.product.cost).toBe('cost: 4.20');
    });
  });

  describe('subscriptions (graphql-ws): the token of connectionParams', () => {
    const TICKS = 'subscription { ticks { at username } }';

    it('refuses a subscription without a token, with an invalid and with an expired one', async () => {
      for (const [params, message] of [
        [undefined, 'missing token'],
        [{ authorization: `Bearer ${tampered(emulator.issueToken('viewer'))}` }, 'invalid token'],
        [{ Authorization: emulator.issueToken('viewer', { ttlSeconds: -60 }) }, 'token expired'],
        [{ authorization: 'Bearer not-a-token' }, 'invalid token'],
      ] as const) {
        const run = subscribe(app.url, TICKS, params);
        expect(refusalOf(await run.refused), message).toMatchObject({
          code: 'UNAUTHENTICATED',
          message,
        });
        expect(run.events.filter((event) => event.data?.ticks)).toEqual([]);
        await run.dispose();
      }
    });

    it('delivers events to a valid token, with or without Bearer, either spelling of the key', async () => {
      for (const params of [
        { authorization: emulator.issueToken('viewer') },
        { Authorization: `Bearer ${emulator.issueToken('viewer')}` },
      ]) {
        const run = subscribe(app.url, TICKS, params);
        await expect.poll(() => run.events.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
        expect(run.events[0].errors).toEqual([]);
        expect(run.events[0].data.ticks.username).toBe('viewer');
        await run.dispose();
      }
    });

    it('refuses a subscription that needs a permission the user lacks: FORBIDDEN', async () => {
      const run = subscribe(app.url, TICKS, { authorization: emulator.issueToken('auditor') });
      expect(refusalOf(await run.refused)).toMatchObject({
        code: 'FORBIDDEN',
        message: 'missing permission: canView',
      });
      await run.dispose();
    });

    it('refuses with SERVICE_UNAVAILABLE when the auth-service fails', async () => {
      emulator.fail({ kind: 'status', status: 503 }, { endpoints: ['user'] });
      const run = subscribe(app.url, TICKS, { authorization: emulator.issueToken('editor') });
      expect(refusalOf(await run.refused)).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        message: 'auth-service unavailable',
      });
      await run.dispose();
    });

    it('closes the connection within 5 s after the token expires, and delivers nothing after', async () => {
      const token = emulator.issueToken('viewer', { ttlSeconds: 2 });
      const exp = expOf(token);
      const run = subscribe(app.url, TICKS, { authorization: token });
      const closed = await run.closed;
      expect(closed).toMatchObject({ code: 4401 });
      expect(closed.reason).toBe('token expired');
      expect(closed.at).toBeGreaterThanOrEqual(exp * 1000);
      expect(closed.at).toBeLessThan(exp * 1000 + 5_000);
      expect(run.events.length).toBeGreaterThan(0);
      expect(run.events.every((event) => event.data.ticks.at <= closed.at)).toBe(true);
      expect(run.late()).toBe(0);
      await run.dispose();
    }, 15_000);
  });
});

describe('GraphQL on mercurius without apexSubscriptionContext', () => {
  let emulator: AuthServiceEmulator;
  const start = useShopEmulator('fastify', {}, (started) => {
    emulator = started;
  });

  it('still closes a connection whose token expired, without its reason', async () => {
    const features = [graphqlModule('mercurius', [ShopResolver], { mercuriusHook: false })];
    const app = await start({}, { features });
    const token = emulator.issueToken('viewer', { ttlSeconds: 2 });
    const run = subscribe(app.url, 'subscription { ticks { at username } }', {
      authorization: token,
    });
    const closed = await run.closed;
    expect(closed.at).toBeGreaterThanOrEqual(expOf(token) * 1000);
    expect(closed.at).toBeLessThan(expOf(token) * 1000 + 5_000);
    expect(run.events.length).toBeGreaterThan(0);
    expect(run.late()).toBe(0);
    await run.dispose();
  }, 15_000);
});
