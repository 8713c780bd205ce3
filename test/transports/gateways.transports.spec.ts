import { setTimeout as sleep } from 'node:timers/promises';
import { WsAdapter } from '@nestjs/platform-ws';
import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useShopEmulator } from '../fixtures/shop-suite.js';
import type { Platform, RunningApp, StartOptions } from '../fixtures/start-app.js';
import {
  connect,
  type Adapter,
  type GatewayClient,
  type Handshake,
  type HandshakeOptions,
} from './fixtures/gateway-clients.js';
import { gatewayModule } from './fixtures/gateway-shop.js';
import { tampered } from './fixtures/tokens.js';

/** What each adapter tells a client its handshake refused, for each reason. */
const REFUSED: Record<Adapter, Record<string, unknown>> = {
  'socket.io': {
    'invalid token': 'UNAUTHENTICATED',
    'token expired': 'UNAUTHENTICATED',
    'auth-service unavailable': 'SERVICE_UNAVAILABLE',
  },
  ws: { 'invalid token': 4401, 'token expired': 4401, 'auth-service unavailable': 4503 },
};

describe.each<[Adapter, Platform]>([
  ['socket.io', 'express'],
  ['ws', 'fastify'],
])('gateways on %s (%s)', (adapter, platform) => {
  let emulator: AuthServiceEmulator;
  let app: RunningApp;
  const clients: GatewayClient[] = [];
  const start = useShopEmulator(platform, {}, (started) => {
    emulator = started;
  });
  const appOptions: StartOptions = {
    features: [gatewayModule()],
    // socket.io is Nest's default adapter; ws is set as the app sets it.
    beforeListen: (nest) => {
      if (adapter === 'ws') nest.useWebSocketAdapter(new WsAdapter(nest));
    },
  };
  beforeAll(async () => {
    app = await start({}, appOptions);
  });
  afterEach(() => {
    emulator.clearFaults();
    for (const client of clients.splice(0)) client.close();
  });

  async function client(options: HandshakeOptions = {}, url = app.url): Promise<GatewayClient> {
    const handshake = await connect(adapter, url, options);
    expect(handshake.accepted, JSON.stringify(handshake)).toBe(true);
    const accepted = (handshake as Extract<Handshake, { accepted: true }>).client;
    clients.push(accepted);
    return accepted;
  }

  async function refused(options: HandshakeOptions): Promise<{ message: string; code: unknown }> {
    const handshake = await connect(adapter, app.url, options);
    expect(handshake.accepted).toBe(false);
    const { message, code } = handshake as Extract<Handshake, { accepted: false }>;
    return { message, code };
  }

  it('lets a client without a token in, for @Public() messages only', async () => {
    const anonymous = await client();
    expect(await anonymous.ask('catalog')).toEqual({ event: 'catalog', data: 'anonymous' });
    expect(await anonymous.ask('me')).toEqual({
      event: 'exception',
      data: { status: 'error', code: 'UNAUTHENTICATED', message: 'missing token' },
    });
  });

  it('refuses an invalid and an expired token at the handshake, with the reason', async () => {
    for (const [token, message] of [
      [tampered(emulator.issueToken('viewer')), 'invalid token'],
      [emulator.issueToken('viewer', { ttlSeconds: -60 }), 'token expired'],
    ]) {
      expect(await refused({ token })).toEqual({ message, code: REFUSED[adapter][message] });
    }
  });

  it('serves a valid token, with @CurrentUser() and @AuthToken() in the handlers', async () => {
    const viewer = await client({ token: emulator.issueToken('viewer') });
    expect(await viewer.ask('me')).toEqual({ event: 'me', data: 'viewer (with a token)' });
    expect(await viewer.ask('catalog')).toEqual({ event: 'catalog', data: 'viewer' });
  });

  it('refuses a message that needs a permission the user lacks, per message', async () => {
    const viewer = await client({ token: emulator.issueToken('viewer') });
    expect(await viewer.ask('edit')).toEqual({
      event: 'exception',
      data: { status: 'error', code: 'FORBIDDEN', message: 'missing permission: canEdit' },
    });
    const editor = await client({ token: emulator.issueToken('editor') });
    expect(await editor.ask('edit')).toEqual({ event: 'edit', data: 'edited by editor' });
  });

  it('refuses the handshake when the auth-service fails (the 503), never as a bad token', async () => {
    emulator.fail({ kind: 'status', status: 503 }, { endpoints: ['user'] });
    expect(await refused({ token: emulator.issueToken('editor') })).toEqual({
      message: 'auth-service unavailable',
      code: REFUSED[adapter]['auth-service unavailable'],
    });
  });

  it('a requirement on a handler of a @Public() gateway wins', async () => {
    const anonymous = await client();
    expect((await anonymous.ask('openEdit')).data).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await anonymous.ask('openHello')).toEqual({
      event: 'openHello',
      data: 'hello anonymous',
    });
    const viewer = await client({ token: emulator.issueToken('viewer') });
    expect((await viewer.ask('openEdit')).data).toMatchObject({ code: 'FORBIDDEN' });
    const editor = await client({ token: emulator.issueToken('editor') });
    expect(await editor.ask('openEdit')).toEqual({
      event: 'openEdit',
      data: 'open edit by editor',
    });
  });

  it('stops accepting a token that expires while connected', async () => {
    const viewer = await client({ token: emulator.issueToken('viewer', { ttlSeconds: 2 }) });
    expect((await viewer.ask('me')).event).toBe('me');
    await sleep(2_100);
    expect(await viewer.ask('me')).toEqual({
      event: 'exception',
      data: { status: 'error', code: 'UNAUTHENTICATED', message: 'token expired' },
    });
    // Public messages go on, anonymously: the expired user is no longer the caller.
    expect(await viewer.ask('catalog')).toEqual({ event: 'catalog', data: 'anonymous' });
  }, 10_000);

  it('ignores a token in the query unless the app names the parameter', async () => {
    const token = emulator.issueToken('viewer');
    const ignored = await client({ query: { access_token: token } });
    expect((await ignored.ask('me')).data).toMatchObject({ message: 'missing token' });
    const opted = await start({ wsTokenQuery: 'access_token' }, appOptions);
    const read = await client({ query: { access_token: token } }, opted.url);
    expect(await read.ask('me')).toEqual({ event: 'me', data: 'viewer (with a token)' });
  });

  if (adapter === 'socket.io') {
    it("reads socket.io's auth.token, with or without Bearer, and refuses two different tokens", async () => {
      for (const token of [
        emulator.issueToken('viewer'),
        `Bearer ${emulator.issueToken('viewer')}`,
      ]) {
        const viewer = await client({ auth: { token } });
        expect((await viewer.ask('me')).data).toBe('viewer (with a token)');
      }
      expect(
        await refused({
          token: emulator.issueToken('viewer'),
          auth: { token: emulator.issueToken('editor') },
        }),
      ).toEqual({ message: 'invalid token', code: 'UNAUTHENTICATED' });
    });
  }
});
