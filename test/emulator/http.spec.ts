import { connect } from 'node:net';

import { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, call, form, json, permissionBody } from './helpers.js';

/** Sends raw bytes over a fresh connection and collects whatever comes back until it closes. */
function raw(
  emulator: AuthServiceEmulator,
  payload: string | Buffer,
  endAfterWrite = false,
): Promise<string> {
  const { hostname, port } = new URL(emulator.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // One response is enough; keep-alive would otherwise hold the socket open.
      if (Buffer.concat(chunks).toString('latin1').includes('\r\n\r\n')) socket.end();
    });
    socket.on('error', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(payload, () => {
      if (endAfterWrite) socket.end();
    });
    setTimeout(() => socket.destroy(), 1000);
  });
}

describe('HTTP behaviour and robustness', () => {
  let emulator: AuthServiceEmulator;
  let admin: string;
  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({
      seed: {
        users: [{ id: 'u-admin', username: 'admin', password: 'pw', isAdmin: true }],
        services: [{ name: 'billing' }],
      },
    });
    admin = emulator.issueToken('admin');
  });
  afterAll(() => emulator.stop());

  async function expectAlive(): Promise<void> {
    expect((await call(emulator, '/auth/user', bearer(admin))).status).toBe(200);
  }

  it('answers 404 {"detail":"Not Found"} for unknown paths', async () => {
    for (const path of [
      '/',
      '/auth',
      '/auth/user/',
      '/auth//user',
      '/services/billing',
      '/services/billing/permissions/1/x',
    ]) {
      const answer = await call(emulator, path, bearer(admin));
      expect(answer.status, path).toBe(404);
      expect(answer.body).toEqual({ detail: 'Not Found' });
    }
  });

  it('answers 405 with Allow for a known path and a wrong method', async () => {
    const cases: [string, string, string][] = [
      ['/auth/login', 'GET', 'POST'],
      ['/auth/user', 'POST', 'GET'],
      ['/auth/user', 'HEAD', 'GET'],
      ['/services/billing/permissions', 'DELETE', 'GET, POST'],
      ['/services/billing/permissions/1', 'PATCH', 'PUT, DELETE'],
      ['/.well-known/jwks.json', 'OPTIONS', 'GET'],
    ];
    for (const [path, method, allow] of cases) {
      const answer = await call(emulator, path, bearer(admin, method));
      expect(answer.status, `${method} ${path}`).toBe(405);
      if (method !== 'HEAD') expect(answer.body).toEqual({ detail: 'Method Not Allowed' });
      expect(answer.headers.get('allow')).toBe(allow);
    }
  });

  it('ignores the query string', async () => {
    expect((await call(emulator, '/auth/user?verbose=1#x', bearer(admin))).status).toBe(200);
  });

  it('keeps malformed percent-escapes as written', async () => {
    const answer = await call(emulator, '/services/%E0%A4%A/permissions', bearer(admin));
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({ detail: 'Service not found' });
  });

  it('answers 413 for bodies over 64 KiB, and counts them', async () => {
    const before = emulator.requestCount('login');
    const big = await call(
      emulator,
      '/auth/login',
      form({ username: 'admin', password: 'x'.repeat(70 * 1024) }),
    );
    expect(big.status).toBe(413);
    expect(emulator.requestCount('login')).toBe(before + 1);

    const bigJson = await call(
      emulator,
      '/services/billing/permissions',
      json('POST', admin, permissionBody({ description: 'x'.repeat(65 * 1024) })),
    );
    expect(bigJson.status).toBe(413);
    expect(emulator.permissionsOf('billing')).toEqual([]);
  });

  it('accepts a body of exactly 64 KiB', async () => {
    const base = JSON.stringify(permissionBody({ description: '' }));
    const body = JSON.stringify(
      permissionBody({ description: 'x'.repeat(64 * 1024 - base.length) }),
    );
    expect(Buffer.byteLength(body)).toBe(64 * 1024);
    const answer = await call(emulator, '/services/billing/permissions', {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body,
    });
    expect(answer.status).toBe(201);
  });

  it('survives odd bodies: binary, deeply nested, huge numbers', async () => {
    const send = (body: string | Uint8Array) =>
      call(emulator, '/services/billing/permissions', {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body,
      });
    expect((await send(new Uint8Array([0xff, 0xfe, 0x00, 0x7b]))).status).toBe(422);
    expect((await send('['.repeat(5000) + ']'.repeat(5000))).status).toBe(422);
    expect((await send('{"name": "n", "__proto__": {"polluted": true}}')).status).toBe(422);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await send('null')).status).toBe(422);
    expect(
      (await send(JSON.stringify(permissionBody({ name: 'big', values: [], default: 1e308 }))))
        .status,
    ).toBe(201);
    const login = await call(emulator, '/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new Uint8Array([0x75, 0x3d, 0xff, 0x26, 0x25, 0x25]),
    });
    expect(login.status).toBe(422);
    await expectAlive();
  });

  it('survives raw protocol garbage and clients that vanish mid-body', async () => {
    expect(await raw(emulator, 'NOT HTTP AT ALL\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    const weird = await raw(
      emulator,
      Buffer.concat([
        Buffer.from('GET /auth/user HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer '),
        Buffer.from([0xff, 0xfe, 0x80]),
        Buffer.from('\r\nConnection: close\r\n\r\n'),
      ]),
    );
    expect(weird).toMatch(/^HTTP\/1\.1 401/);
    expect(weird).toContain('Could not validate credentials');
    await raw(
      emulator,
      'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nusername=a',
      true,
    );
    expect(
      await raw(
        emulator,
        `GET /auth/user HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      ),
    ).toMatch(/^HTTP\/1\.1 431/);
    await expectAlive();
  });

  it('answers 500 without details only for genuine emulator failures', async () => {
    // A BigInt cannot be serialized: the reply fails inside the emulator.
    emulator.setMetadata('billing', 'admin', { count: 10n });
    const answer = await call(emulator, '/services/billing/metadata/u-admin', bearer(admin));
    expect(answer.status).toBe(500);
    expect(answer.body).toEqual({ detail: 'Internal Server Error' });
    emulator.setMetadata('billing', 'admin', {});
    await expectAlive();
  });
});
