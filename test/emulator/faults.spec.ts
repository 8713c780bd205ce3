import {
  AuthServiceEmulator,
  type EmulatorEndpoint,
  type EmulatorFault,
} from '@apex/nest-auth/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { bearer, call, form } from './helpers.js';

const seed = { users: [{ username: 'alice', password: 'pw' }] };

describe('faults', () => {
  let emulator: AuthServiceEmulator;
  let token: string;
  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({ seed });
    token = emulator.issueToken('alice');
  });
  afterEach(() => {
    emulator.clearFaults();
    emulator.resetCounters();
  });
  afterAll(() => emulator.stop());

  const getUser = () => call(emulator, '/auth/user', bearer(token));
  const postLogin = () =>
    call(emulator, '/auth/login', form({ username: 'alice', password: 'pw' }));

  it('answers a status fault with a FastAPI-like default body', async () => {
    emulator.fail({ kind: 'status', status: 503 });
    const answer = await getUser();
    expect(answer.status).toBe(503);
    expect(answer.headers.get('content-type')).toBe('application/json');
    expect(answer.body).toEqual({ detail: 'Service Unavailable' });
    // Even endpoints that need no token fault before any check.
    expect((await call(emulator, '/auth/user')).status).toBe(503);
  });

  it('answers a status fault with the given body, content type and headers', async () => {
    emulator.fail({
      kind: 'status',
      status: 502,
      body: '<html>Bad Gateway</html>',
      contentType: 'text/html',
      headers: { 'Retry-After': '7', 'X-Proxy': 'edge' },
    });
    const answer = await getUser();
    expect(answer.status).toBe(502);
    expect(answer.text).toBe('<html>Bad Gateway</html>');
    expect(answer.headers.get('content-type')).toBe('text/html');
    expect(answer.headers.get('retry-after')).toBe('7');
    expect(answer.headers.get('x-proxy')).toBe('edge');
  });

  it('can fake success statuses too (say, a 200 with a body the client cannot use)', async () => {
    emulator.fail({ kind: 'status', status: 200, body: 'not json' }, { endpoints: ['user'] });
    const answer = await getUser();
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('not json');
    expect(answer.headers.get('content-type')).toBe('application/json');
  });

  it("hangs: the client's timeout aborts the request", async () => {
    emulator.fail({ kind: 'hang' });
    const started = Date.now();
    await expect(
      fetch(`${emulator.url}/auth/user`, { ...bearer(token), signal: AbortSignal.timeout(300) }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(emulator.requestCount('user')).toBe(1);
  });

  it('resets: the connection is destroyed without a response', async () => {
    emulator.fail({ kind: 'reset' });
    await expect(fetch(`${emulator.url}/auth/user`, bearer(token))).rejects.toThrow(TypeError);
    await expect(
      fetch(`${emulator.url}/auth/login`, form({ username: 'alice', password: 'pw' })),
    ).rejects.toThrow(TypeError);
    expect(emulator.requestCount('user')).toBe(1);
    expect(emulator.requestCount('login')).toBe(1);
  });

  it('stops after `times` requests', async () => {
    emulator.fail({ kind: 'status', status: 500 }, { times: 2 });
    expect((await getUser()).status).toBe(500);
    expect((await postLogin()).status).toBe(500);
    expect((await getUser()).status).toBe(200);
    expect((await postLogin()).status).toBe(200);
  });

  it('applies only to the endpoints given, and counts down only there', async () => {
    emulator.fail({ kind: 'status', status: 504 }, { endpoints: ['login', 'refresh'], times: 1 });
    expect((await getUser()).status).toBe(200);
    expect((await call(emulator, '/services/x/permissions', bearer(token))).status).toBe(404);
    expect((await postLogin()).status).toBe(504);
    expect((await postLogin()).status).toBe(200);
  });

  it('tells login from refresh by the grant type', async () => {
    emulator.fail({ kind: 'status', status: 500 }, { endpoints: ['refresh'] });
    expect((await postLogin()).status).toBe(200);
    const refresh = await call(
      emulator,
      '/auth/login',
      form({ grant_type: 'refresh_token', refresh_token: 'x' }),
    );
    expect(refresh.status).toBe(500);
    expect(emulator.requestCount('refresh')).toBe(1);
    expect(emulator.requestCount('login')).toBe(1);
  });

  it('applies the newest matching fault, falling back to older ones', async () => {
    emulator.fail({ kind: 'status', status: 500 });
    emulator.fail({ kind: 'status', status: 502 }, { endpoints: ['user'], times: 1 });
    expect((await postLogin()).status).toBe(500);
    expect((await getUser()).status).toBe(502);
    expect((await getUser()).status).toBe(500);
  });

  it('clears every fault', async () => {
    emulator.fail({ kind: 'status', status: 500 });
    emulator.fail({ kind: 'reset' }, { endpoints: ['login'] });
    emulator.clearFaults();
    expect((await getUser()).status).toBe(200);
    expect((await postLogin()).status).toBe(200);
  });

  it('never faults or counts unknown paths or wrong methods', async () => {
    emulator.fail({ kind: 'reset' });
    const unknown = await call(emulator, '/nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ detail: 'Not Found' });
    const wrongMethod = await call(emulator, '/auth/login');
    expect(wrongMethod.status).toBe(405);
    expect(Object.values(emulator.requestCounts()).every((count) => count === 0)).toBe(true);
  });

  it('takes a copy: changing the fault object afterwards changes nothing', async () => {
    const fault: EmulatorFault = { kind: 'status', status: 503, headers: { 'X-A': '1' } };
    emulator.fail(fault);
    fault.status = 200;
    fault.headers!['X-A'] = '2';
    const answer = await getUser();
    expect(answer.status).toBe(503);
    expect(answer.headers.get('x-a')).toBe('1');
  });

  it('rejects invalid faults and options where they are written', () => {
    const invalid: [EmulatorFault, object?][] = [
      [{ kind: 'status', status: 99 }],
      [{ kind: 'status', status: 600 }],
      [{ kind: 'status', status: 500.5 }],
      [{ kind: 'status', status: 500, headers: { 'Bad Header': 'x' } }],
      [{ kind: 'status', status: 500, headers: { 'X-Ok': 'line\nbreak' } }],
      [{ kind: 'explode' } as unknown as EmulatorFault],
      [{ kind: 'hang' }, { times: 0 }],
      [{ kind: 'hang' }, { times: 1.5 }],
      [{ kind: 'hang' }, { endpoints: [] }],
      [{ kind: 'hang' }, { endpoints: ['user', 'nope'] }],
    ];
    for (const [fault, options] of invalid) {
      expect(() => emulator.fail(fault, options as { endpoints?: EmulatorEndpoint[] })).toThrow();
    }
  });
});

describe('request counters', () => {
  let emulator: AuthServiceEmulator;
  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({ seed });
  });
  afterAll(() => emulator.stop());

  it('starts with every endpoint at zero', () => {
    expect(emulator.requestCounts()).toEqual({
      login: 0,
      refresh: 0,
      oauthToken: 0,
      user: 0,
      metadata: 0,
      serviceUser: 0,
      serviceUsers: 0,
      permissions: 0,
      createPermission: 0,
      updatePermission: 0,
      deletePermission: 0,
      jwks: 0,
    });
  });

  it('counts each endpoint, failed and faulted requests included, and resets', async () => {
    const token = emulator.issueToken('alice');
    await call(emulator, '/auth/user', bearer(token));
    await call(emulator, '/auth/user');
    await call(emulator, '/auth/login', form({ username: 'alice', password: 'wrong' }));
    await call(emulator, '/auth/oauth/token', form({}));
    await call(emulator, '/services/s/metadata/u', bearer(token));
    await call(emulator, '/services/s/users/u', bearer(token));
    await call(emulator, '/services/s/users', bearer(token));
    await call(emulator, '/services/s/permissions', bearer(token));
    await call(emulator, '/services/s/permissions', bearer(token, 'POST'));
    await call(emulator, '/services/s/permissions/1', bearer(token, 'PUT'));
    await call(emulator, '/services/s/permissions/1', bearer(token, 'DELETE'));
    await call(emulator, '/.well-known/jwks.json');
    emulator.fail({ kind: 'status', status: 500 }, { endpoints: ['user'] });
    await call(emulator, '/auth/user', bearer(token));
    emulator.clearFaults();

    expect(emulator.requestCount('user')).toBe(3);
    expect(emulator.requestCounts()).toEqual({
      login: 1,
      refresh: 0,
      oauthToken: 1,
      user: 3,
      metadata: 1,
      serviceUser: 1,
      serviceUsers: 1,
      permissions: 1,
      createPermission: 1,
      updatePermission: 1,
      deletePermission: 1,
      jwks: 1,
    });

    const snapshot = emulator.requestCounts();
    snapshot.user = 100;
    expect(emulator.requestCount('user')).toBe(3);

    emulator.resetCounters();
    expect(Object.values(emulator.requestCounts()).every((count) => count === 0)).toBe(true);
  });

  it('throws for an unknown endpoint name', () => {
    expect(() => emulator.requestCount('nope' as EmulatorEndpoint)).toThrow(RangeError);
  });
});

describe('stop()', () => {
  it('ends hanging requests and idle connections, and is idempotent', async () => {
    const emulator = await AuthServiceEmulator.start({ seed });
    // An idle keep-alive connection left by a completed request.
    expect((await call(emulator, '/auth/user')).status).toBe(401);
    emulator.fail({ kind: 'hang' });
    const hanging = fetch(`${emulator.url}/auth/user`).then(
      () => 'answered',
      () => 'failed',
    );
    await waitFor(() => emulator.requestCount('user') === 2);

    const started = Date.now();
    await emulator.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await hanging).toBe('failed');
    await emulator.stop();
    await expect(fetch(`${emulator.url}/auth/user`)).rejects.toThrow(TypeError);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200 && !condition(); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  expect(condition()).toBe(true);
}
