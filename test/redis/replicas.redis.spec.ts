import { Redis } from 'ioredis';
import { TokenVerifier } from '@apex/nest-auth';
import { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, show } from '../fixtures/http.js';
import { PASSWORDS, shopSeed } from '../fixtures/seed.js';
import { startRedis, type RunningRedis } from '../fixtures/redis-server.js';
import { PLATFORMS, shopAuth, startApp, type RunningApp } from '../fixtures/start-app.js';

describe.each(PLATFORMS)('replicas sharing one Redis, on %s', (platform) => {
  let redis: RunningRedis;
  let emulator: AuthServiceEmulator;
  let replicas: RunningApp[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    emulator = await AuthServiceEmulator.start({ seed: shopSeed() });
  });
  afterEach(async () => {
    await Promise.all(replicas.map((replica) => replica.close()));
    replicas = [];
    emulator.resetCounters();
    await redis.flush();
  });
  afterAll(async () => {
    await emulator?.stop();
    await redis?.stop();
  });

  async function start(count: number, overrides: Parameters<typeof shopAuth>[1] = {}) {
    replicas = await Promise.all(
      Array.from({ length: count }, () =>
        startApp(platform, shopAuth(emulator.url, { redis: redis.url, ...overrides })),
      ),
    );
    emulator.resetCounters();
    return replicas;
  }

  it('a token validated on one replica is served by another without a lookup', async () => {
    const [a, b] = await start(2);
    const token = emulator.issueToken('editor');
    const first = await call(`${a.url}/products/mine`, { token });
    expect(first.status, show(first)).toBe(200);
    const second = await call(`${b.url}/products/mine`, { token });
    expect(second.status, show(second)).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(second.body.isInstance).toBe(true);
    expect(emulator.requestCount('user')).toBe(1);
    expect(emulator.requestCount('serviceUser')).toBe(1);
  });

  it('50 concurrent first uses of one token spread over three replicas make one lookup', async () => {
    const apps = await start(3);
    // Held answers: every request is in flight before the first lookup ends.
    emulator.setLatency({ user: 150 });
    const token = emulator.issueToken('viewer');
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => call(`${apps[i % 3].url}/products`, { token })),
    );
    emulator.setLatency(0);
    expect(answers.map((answer) => answer.status)).toEqual(Array(50).fill(200));
    expect(emulator.requestCount('user')).toBe(1);
  });

  it('a refusal on one replica is known to the others', async () => {
    const [a, b] = await start(2);
    const token = emulator.issueToken('viewer');
    emulator.revokeToken(token);
    expect((await call(`${a.url}/products`, { token })).status).toBe(401);
    expect((await call(`${b.url}/products`, { token })).status).toBe(401);
    expect(emulator.requestCount('user')).toBe(1);
  });

  it('a logout on one replica makes every replica look the token up again', async () => {
    const [a, b] = await start(2);
    const token = emulator.issueToken('editor');
    expect((await call(`${a.url}/products`, { token })).status).toBe(200);
    expect((await call(`${b.url}/products`, { token })).status).toBe(200);
    const verifierOfB = b.app.get(TokenVerifier, { strict: false });
    expect(verifierOfB.cached(token)).toBeDefined();

    const logout = await call(`${a.url}/auth/logout`, { method: 'POST', token });
    expect(logout.status, show(logout)).toBe(204);
    // Published before the 204: B forgets it as soon as the message arrives (well within 1 s).
    await until(() => verifierOfB.cached(token) === undefined, 1_000);
    expect((await call(`${b.url}/products`, { token })).status).toBe(200);
    expect(emulator.requestCount('user')).toBe(2);
  });

  it('local mode: a user validated on one replica is known to another, until a logout on either', async () => {
    const [a, b] = await start(2, { jwt: { secret: emulator.hmacSecret! } });
    const token = emulator.issueToken('auditor');
    expect((await call(`${a.url}/products`, { token })).status).toBe(200);
    expect(emulator.requestCount('user')).toBe(1);
    // B never saw a token of theirs, and knows the user from Redis: a new (here revoked) token
    // of theirs is served without asking, the known-user trade-off.
    const revoked = () => {
      const next = emulator.issueToken('auditor');
      emulator.revokeToken(next);
      return { token: next };
    };
    expect((await call(`${b.url}/products`, revoked())).status).toBe(200);
    expect(emulator.requestCount('user')).toBe(1);

    expect((await call(`${a.url}/auth/logout`, { method: 'POST', token })).status).toBe(204);
    // B forgets the user within a second: until then its new tokens cost nothing, after it
    // the first one is asked about in full, and refused.
    const deadline = Date.now() + 1_000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      status = (await call(`${b.url}/products`, revoked())).status;
    }
    expect(status).toBe(401);
    expect(emulator.requestCount('user')).toBe(2);
  });

  it('local mode: a token refused on one replica never gets in through a known user on another', async () => {
    const [a, b] = await start(2, { jwt: { secret: emulator.hmacSecret! } });
    const revoked = emulator.issueToken('auditor');
    emulator.revokeToken(revoked);
    expect((await call(`${a.url}/products`, { token: revoked })).status).toBe(401);
    await sleep(20);
    // B learns the user afterwards, from another token of theirs.
    const other = await call(`${b.url}/products`, { token: emulator.issueToken('auditor') });
    expect(other.status, show(other)).toBe(200);
    expect((await call(`${b.url}/products`, { token: revoked })).status).toBe(401);
  });

  it('remote mode: a user validated on one replica costs another one call for a new token', async () => {
    const [a, b] = await start(2);
    expect((await call(`${a.url}/products`, { token: emulator.issueToken('editor') })).status).toBe(
      200,
    );
    expect((await call(`${b.url}/products`, { token: emulator.issueToken('editor') })).status).toBe(
      200,
    );
    expect(emulator.requestCount('user')).toBe(2);
    expect(emulator.requestCount('serviceUser')).toBe(1);
  });

  it("remote mode: a replica serving another's answer reuses the user's record no longer than that answer", async () => {
    const [a, b] = await start(2, { cache: { ttlMs: 800 } });
    const token = emulator.issueToken('editor');
    expect((await call(`${a.url}/products`, { token })).status).toBe(200);
    const answered = Date.now();
    await sleep(400);
    // B gets A's answer from Redis (fresh until 800 ms after A asked), and knows the user's record from it.
    expect((await call(`${b.url}/products`, { token })).status).toBe(200);
    const newToken = () => ({ token: emulator.issueToken('editor') });
    expect((await call(`${b.url}/products`, newToken())).status).toBe(200);
    expect(emulator.requestCount('serviceUser')).toBe(1);
    // Past A's answer's lifetime (though within 800 ms of B's reading it), B asks for the record again.
    await sleep(answered + 950 - Date.now());
    expect((await call(`${b.url}/products`, newToken())).status).toBe(200);
    expect(emulator.requestCount('serviceUser')).toBe(2);
  });

  it('five failed logins spread over three replicas make the sixth a 429 on any of them', async () => {
    const apps = await start(3);
    const attempt = (i: number) =>
      call(`${apps[i % 3].url}/auth/login`, {
        method: 'POST',
        json: { username: 'viewer', password: `wrong-${i}` },
      });
    for (let i = 0; i < 5; i++) expect((await attempt(i)).status).toBe(401);
    for (let i = 5; i < 8; i++) {
      const refused = await attempt(i);
      expect(refused.status, show(refused)).toBe(429);
      expect(refused.headers.get('retry-after')).not.toBeNull();
    }
    // The right password too, while blocked: the limit is per username, across replicas.
    const right = await call(`${apps[2].url}/auth/login`, {
      method: 'POST',
      json: { username: 'viewer', password: PASSWORDS.viewer },
    });
    expect(right.status).toBe(429);
    expect(emulator.requestCount('login')).toBe(5);
  });

  it('parallel guesses spread over the replicas cannot pass the limit before they are counted', async () => {
    const apps = await start(3);
    emulator.setLatency({ login: 200 });
    const answers = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        call(`${apps[i % 3].url}/auth/login`, {
          method: 'POST',
          json: { username: 'editor', password: `guess-${i}` },
        }),
      ),
    );
    emulator.setLatency(0);
    // At most as many reach the auth-service at once, across replicas, as the limit allows failures.
    expect(emulator.requestCount('login')).toBeLessThanOrEqual(5);
    expect(answers.filter((answer) => answer.status === 429).length).toBeGreaterThanOrEqual(10);
  });

  it('keeps no token, password or password hash in Redis', async () => {
    const apps = await start(2);
    const login = await call(`${apps[0].url}/auth/login`, {
      method: 'POST',
      json: { username: 'admin', password: PASSWORDS.admin },
    });
    const token = login.body.access_token as string;
    await call(`${apps[1].url}/products/mine`, { token });
    await call(`${apps[0].url}/auth/login`, {
      method: 'POST',
      json: { username: 'viewer', password: 'a-wrong-password' },
    });
    const dump = await redisDump(redis.url);
    expect(dump).toContain('"username":"admin"');
    for (const secret of [
      ...emulator.issuedTokens(),
      ...Object.values(PASSWORDS),
      'a-wrong-password',
      'hashed_password',
      emulator.hmacSecret!,
    ]) {
      expect(dump).not.toContain(secret);
    }
    expect(dump).not.toMatch(/"viewer"|login:user:viewer/);
  });
});

/** Every key and value in Redis, as text. */
async function redisDump(url: string): Promise<string> {
  const client = new Redis(url);
  try {
    const parts: string[] = [];
    for (const key of await client.keys('*')) {
      const type = await client.type(key);
      const value =
        type === 'string'
          ? await client.get(key)
          : type === 'hash'
            ? JSON.stringify(await client.hgetall(key))
            : type;
      parts.push(`${key} = ${value}`);
    }
    return parts.join('\n');
  } finally {
    await client.quit();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

async function until(condition: () => boolean, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
