import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../fixtures/capturing-logger.js';
import { useShopEmulator } from '../fixtures/shop-suite.js';
import {
  EditOrdersController,
  OpenOrdersController,
  OrdersController,
  rpcClient,
  rpcModule,
  rpcToken,
  tcpMicroservice,
} from './fixtures/rpc-shop.js';
import { tampered } from './fixtures/tokens.js';

const refusal = (code: string, message: string) => ({
  error: { status: 'error', code, message },
});

describe('a TCP microservice with rpcToken', () => {
  let emulator: AuthServiceEmulator;
  let client: ReturnType<typeof rpcClient>;
  const start = useShopEmulator('express', {}, (started) => {
    emulator = started;
  });
  beforeAll(async () => {
    const tcp = tcpMicroservice();
    await start(
      { rpcToken },
      {
        features: [rpcModule([OrdersController, EditOrdersController, OpenOrdersController])],
        beforeListen: tcp.beforeListen,
      },
    );
    client = rpcClient(tcp.port());
  });
  afterAll(() => client.close());
  afterEach(() => emulator.clearFaults());

  it('refuses a message without a token: an RpcException, missing token', async () => {
    expect(await client.send('me')).toEqual(refusal('UNAUTHENTICATED', 'missing token'));
  });

  it('refuses an invalid and an expired token, each with its reason', async () => {
    const invalid = tampered(emulator.issueToken('viewer'));
    expect(await client.send('me', { token: invalid })).toEqual(
      refusal('UNAUTHENTICATED', 'invalid token'),
    );
    const expired = emulator.issueToken('viewer', { ttlSeconds: -60 });
    expect(await client.send('me', { token: expired })).toEqual(
      refusal('UNAUTHENTICATED', 'token expired'),
    );
  });

  it('serves a valid token, with or without Bearer, and @CurrentUser() and @AuthToken()', async () => {
    for (const token of [
      emulator.issueToken('viewer'),
      `Bearer ${emulator.issueToken('viewer')}`,
    ]) {
      expect(await client.send('me', { token })).toEqual({ reply: 'viewer (with a token)' });
    }
  });

  it('refuses a missing permission with FORBIDDEN naming it, and grants it', async () => {
    expect(await client.send('edit', { token: emulator.issueToken('viewer') })).toEqual(
      refusal('FORBIDDEN', 'missing permission: canEdit'),
    );
    expect(await client.send('edit', { token: emulator.issueToken('editor') })).toEqual({
      reply: 'edited by editor',
    });
  });

  it('serves a @Public() handler to anyone; a valid token still sets the user', async () => {
    expect(await client.send('catalog')).toEqual({ reply: 'anonymous' });
    expect(await client.send('catalog', { token: emulator.issueToken('viewer') })).toEqual({
      reply: 'viewer',
    });
  });

  it('answers SERVICE_UNAVAILABLE when the auth-service fails, with when to retry', async () => {
    emulator.fail({ kind: 'status', status: 503 }, { endpoints: ['user'] });
    const outcome = await client.send('me', { token: emulator.issueToken('editor') });
    expect(outcome).toEqual({
      error: {
        status: 'error',
        code: 'SERVICE_UNAVAILABLE',
        message: 'auth-service unavailable',
        retryAfter: expect.any(Number),
      },
    });
  });

  it('a requirement on a handler of a @Public() controller wins', async () => {
    expect(await client.send('openEdit')).toEqual(refusal('UNAUTHENTICATED', 'missing token'));
    expect(await client.send('openEdit', { token: emulator.issueToken('viewer') })).toEqual(
      refusal('FORBIDDEN', 'missing permission: canEdit'),
    );
    expect(await client.send('openEdit', { token: emulator.issueToken('editor') })).toEqual({
      reply: 'open edit by editor',
    });
    expect(await client.send('openHello')).toEqual({ reply: 'hello anonymous' });
  });
});

describe('a TCP microservice without rpcToken', () => {
  let emulator: AuthServiceEmulator;
  let client: ReturnType<typeof rpcClient>;
  const logger = new CapturingLogger();
  const start = useShopEmulator('express', {}, (started) => {
    emulator = started;
  });
  beforeAll(async () => {
    const tcp = tcpMicroservice();
    await start(
      {},
      { features: [rpcModule([OrdersController])], beforeListen: tcp.beforeListen, logger },
    );
    client = rpcClient(tcp.port());
  });
  afterAll(() => client.close());

  it('denies every message, @Public() or not, whatever token it carries, and says so at startup', async () => {
    const token = emulator.issueToken('root');
    for (const pattern of ['catalog', 'me']) {
      const outcome = await client.send(pattern, { token });
      expect(outcome, pattern).toEqual({
        error: { status: 'error', message: 'Internal server error' },
      });
    }
    expect(logger.apexAuth('warn')).toContain(
      '2 microservice message handler(s) are denied to every caller: give the rpcToken option to have them served (see the README)',
    );
  });
});
