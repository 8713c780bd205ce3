import { HttpService } from '@nestjs/axios';
import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import axios from 'axios';
import { Agent, createServer, request, type IncomingMessage } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthApi } from '../../lib/client/index.js';
import { PROXY_VARIABLES, undiciAdapter } from '../../lib/client/undici-adapter.js';
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

/** What a double was asked: the request line's target and the headers. */
interface Asked {
  url: string;
  headers: IncomingMessage['headers'];
}

/** An auth-service double whose every answer is `body` with `headers`; it counts its connections and notes what was asked. */
async function startDouble(
  headers: Record<string, string>,
  body: Buffer | string,
): Promise<LoopbackServer & { connections: () => number; asked: Asked[] }> {
  let connections = 0;
  const asked: Asked[] = [];
  const server = createServer((incoming, outgoing) => {
    asked.push({ url: incoming.url ?? '', headers: incoming.headers });
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
      expect(double.asked.map(({ headers }) => headers['accept-encoding'])).toEqual(
        Array(10).fill('identity'),
      );
      expect(double.asked[0].headers['user-agent']).toBe(`axios/${axios.VERSION}`);
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

  it('fails a call whose answer is longer than the bound', async () => {
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

  it("goes through the application's own agent: on its instance, or on axios's defaults", async () => {
    let connections = 0;
    class CountingAgent extends Agent {
      override createConnection(...args: Parameters<Agent['createConnection']>) {
        connections++;
        return super.createConnection(...args);
      }
    }
    const agent = new CountingAgent({ keepAlive: false });
    const own = await clientOf(emulator.url, axios.create({ httpAgent: agent }))
      .forToken(token)
      .user();
    expect(own.username).toBe(ALICE.username);
    expect(connections).toBe(1);
    // The module's HttpService is @nestjs/axios's default one, on axios's default instance.
    axios.defaults.httpAgent = agent;
    try {
      await clientOf(emulator.url, axios).forToken(token).user();
      expect(connections).toBe(2);
    } finally {
      delete axios.defaults.httpAgent;
    }
  });

  it("sends neither the app's params nor its credentials, on either adapter", async () => {
    const double = await startDouble({}, userBody);
    try {
      const app = { params: { api_key: 'APP-SECRET' }, auth: { username: 'app', password: 'pw' } };
      const agent = new Agent({ keepAlive: false });
      for (const instance of [axios.create(app), axios.create({ ...app, httpAgent: agent })]) {
        await clientOf(double.url, instance).forToken(token).user();
      }
      expect(double.asked.map(({ url }) => url)).toEqual(['/auth/user', '/auth/user']);
      for (const { headers } of double.asked) {
        expect(headers.authorization).toBe(`Bearer ${token}`);
      }
    } finally {
      await double.stop();
    }
  });

  it("never sends a default Authorization header of the app's on a call without a token", async () => {
    const double = await startDouble({}, '{}');
    try {
      const instance = axios.create({ headers: { Authorization: 'Basic APP-SECRET' } });
      await clientOf(double.url, instance)
        .login(ALICE.username, ALICE.password)
        .catch(() => undefined);
      expect(double.asked).toHaveLength(1);
      expect(double.asked[0].headers.authorization).toBeUndefined();
    } finally {
      await double.stop();
    }
  });

  it("answers when the app's instance asks for gzip or sets a Keep-Alive header", async () => {
    const double = await startDouble({}, userBody);
    try {
      const instance = axios.create({
        headers: { 'accept-encoding': 'gzip', 'Keep-Alive': 'timeout=5' },
      });
      expect((await clientOf(double.url, instance).forToken(token).user()).username).toBe(
        ALICE.username,
      );
      expect(double.asked[0].headers['accept-encoding']).toBe('identity');
    } finally {
      await double.stop();
    }
  });

  describe("with proxy variables: axios's http adapter, as without this module", () => {
    const VARIABLES = [...PROXY_VARIABLES, 'no_proxy', 'NO_PROXY'];
    const saved = new Map(VARIABLES.map((name) => [name, process.env[name]]));
    const useProxy = (proxyUrl: string, noProxy?: string) => {
      process.env.HTTP_PROXY = proxyUrl;
      if (noProxy !== undefined) process.env.NO_PROXY = noProxy;
    };
    let proxy: LoopbackServer & { seen: string[] };
    beforeEach(async () => {
      // The machine's own proxy settings must not decide these tests.
      for (const name of VARIABLES) delete process.env[name];
      proxy = await startForwardProxy();
    });
    afterEach(async () => {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await proxy.stop();
    });

    it('sends through the proxy that HTTP_PROXY names, in absolute form', async () => {
      useProxy(proxy.url);
      const user = await clientOf(emulator.url).forToken(token).user();
      expect(user.username).toBe(ALICE.username);
      expect(proxy.seen).toEqual([`GET ${emulator.url}/auth/user`]);
    });

    it('reads the variables on every call, and takes one without a scheme', async () => {
      const client = clientOf(emulator.url).forToken(token);
      await client.user();
      useProxy(proxy.url.replace('http://', ''));
      await client.user();
      expect(proxy.seen).toEqual([`GET ${emulator.url}/auth/user`]);
    });

    it.each(['127.0.0.1', 'localhost', '127.0.0.0/8'])(
      'goes direct to 127.0.0.1 with NO_PROXY=%s',
      async (noProxy) => {
        useProxy(proxy.url, noProxy);
        const user = await clientOf(emulator.url).forToken(token).user();
        expect(user.username).toBe(ALICE.username);
        expect(proxy.seen).toEqual([]);
      },
    );

    it('keeps the 16 MiB bound through the proxy', async () => {
      const double = await startDouble({}, Buffer.alloc(17 * 1024 * 1024, 'x'));
      try {
        useProxy(proxy.url);
        const error = await rejectionOf(clientOf(double.url).forToken(token).user());
        expect(proxy.seen.length).toBeGreaterThan(0);
        expect(error).toBeInstanceOf(AuthServiceUnavailableError);
        expect((error as AuthServiceUnavailableError).reason).toBe('connection');
      } finally {
        await double.stop();
      }
    });
  });
});
