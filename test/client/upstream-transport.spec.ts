import { HttpService } from '@nestjs/axios';
import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import axios from 'axios';
import { Agent, createServer, request, type IncomingMessage } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthApi } from '../../lib/client/index.js';
import { undiciAdapter } from '../../lib/client/undici-adapter.js';
import { AuthServicePayloadError, AuthServiceUnavailableError } from '../../lib/errors/index.js';
import { listenOnLoopback, type LoopbackServer } from '../fixtures/loopback.js';
import { ALICE, rejectionOf, SERVICE, startEmulator } from './client-fixtures.js';

const clientOf = (url: string, instance = axios.create()) =>
  new AuthApi(new HttpService(instance), { baseUrl: url, serviceName: SERVICE });

/**
 * A forward proxy as `HTTP_PROXY` names one: requests in absolute form
 * (`GET http://host:port/path`), passed on to their target.
 */
function startForwardProxy(): Promise<LoopbackServer & { seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((incoming: IncomingMessage, outgoing) => {
    seen.push(`${incoming.method} ${incoming.url}`);
    const target = new URL(incoming.url!);
    const forwarded = request(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: `${target.pathname}${target.search}`,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  return listenOnLoopback(server).then((listening) => Object.assign(listening, { seen }));
}

/** An auth-service double whose every answer is `body` with `headers`; it counts its connections and notes what was asked. */
async function startDouble(
  headers: Record<string, string>,
  body: Buffer | string,
): Promise<LoopbackServer & { connections: () => number; asked: IncomingMessage['headers'][] }> {
  let connections = 0;
  const asked: IncomingMessage['headers'][] = [];
  const server = createServer((incoming, outgoing) => {
    asked.push(incoming.headers);
    incoming.resume();
    outgoing.writeHead(200, { 'content-type': 'application/json', ...headers });
    outgoing.end(body);
  });
  server.on('connection', () => connections++);
  return Object.assign(await listenOnLoopback(server), { connections: () => connections, asked });
}

describe('the upstream transport (undici under axios)', () => {
  let emulator: AuthServiceEmulator;
  let token: string;
  /** What the auth-service answers `GET /auth/user` for alice. */
  let userBody: string;
  beforeAll(async () => {
    emulator = await startEmulator();
    token = (await clientOf(emulator.url).login(ALICE.username, ALICE.password)).accessToken;
    const answer = await fetch(`${emulator.url}/auth/user`, {
      headers: { authorization: `Bearer ${token}` },
    });
    userBody = await answer.text();
  });
  afterAll(() => emulator.stop());

  it('keeps its connections alive across calls, and asks for an uncompressed answer', async () => {
    const double = await startDouble({}, userBody);
    try {
      const user = clientOf(double.url).forToken(token);
      for (let call = 0; call < 10; call++) {
        expect((await user.user()).username).toBe(ALICE.username);
      }
      // undici may open a second one while the first is being released, then reuses both.
      expect(double.connections()).toBeLessThanOrEqual(2);
      expect(double.asked.map((headers) => headers['accept-encoding'])).toEqual(
        Array(10).fill('identity'),
      );
    } finally {
      await double.stop();
    }
  });

  it('refuses a compressed answer sent anyway as a payload that is not text', async () => {
    const double = await startDouble({ 'content-encoding': 'gzip' }, gzipSync(userBody));
    try {
      const error = await rejectionOf(clientOf(double.url).forToken(token).user());
      expect(error).toBeInstanceOf(AuthServicePayloadError);
      expect(error.message).toContain('body is not text');
    } finally {
      await double.stop();
    }
  });

  it('fails a call whose answer is longer than the bound, unread', async () => {
    const double = await startDouble({}, Buffer.alloc(64 * 1024, 'x'));
    try {
      const instance = axios.create({ adapter: undiciAdapter(1024) });
      const error = await rejectionOf(instance.get(`${double.url}/auth/user`));
      expect(axios.isAxiosError(error) && error.code).toBe('UND_ERR_RES_EXCEEDED_MAX_SIZE');
    } finally {
      await double.stop();
    }
  });

  it("counts an answer past the client's 16 MiB bound as the auth-service failing", async () => {
    const double = await startDouble({}, Buffer.alloc(17 * 1024 * 1024, 'x'));
    try {
      const error = await rejectionOf(clientOf(double.url).forToken(token).user());
      expect(error).toBeInstanceOf(AuthServiceUnavailableError);
      expect((error as AuthServiceUnavailableError).reason).toBe('connection');
    } finally {
      await double.stop();
    }
  });

  it("goes through the application's own agent when its axios instance has one", async () => {
    let connections = 0;
    class CountingAgent extends Agent {
      override createConnection(...args: Parameters<Agent['createConnection']>) {
        connections++;
        return super.createConnection(...args);
      }
    }
    const instance = axios.create({ httpAgent: new CountingAgent({ keepAlive: false }) });
    const user = await clientOf(emulator.url, instance).forToken(token).user();
    expect(user.username).toBe(ALICE.username);
    expect(connections).toBe(1);
  });

  describe('HTTP_PROXY and NO_PROXY', () => {
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY };
    afterEach(() => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });

    it('sends through the proxy that HTTP_PROXY names, in absolute form', async () => {
      const proxy = await startForwardProxy();
      try {
        process.env.HTTP_PROXY = proxy.url;
        delete process.env.NO_PROXY;
        const user = await clientOf(emulator.url).forToken(token).user();
        expect(user.username).toBe(ALICE.username);
        expect(proxy.seen).toEqual([`GET ${emulator.url}/auth/user`]);
      } finally {
        await proxy.stop();
      }
    });

    it('goes direct to a host that NO_PROXY lists', async () => {
      const proxy = await startForwardProxy();
      try {
        process.env.HTTP_PROXY = proxy.url;
        process.env.NO_PROXY = '127.0.0.1';
        const user = await clientOf(emulator.url).forToken(token).user();
        expect(user.username).toBe(ALICE.username);
        expect(proxy.seen).toEqual([]);
      } finally {
        await proxy.stop();
      }
    });
  });
});
