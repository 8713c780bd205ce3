import { createHmac } from 'node:crypto';
import type { ApexAuthModuleOptions } from '@apex/nest-auth';
import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { call, show, type Answer } from '../fixtures/http.js';
import type { LoopbackServer } from '../fixtures/loopback.js';
import { startProxy, type InterceptedRequest } from '../fixtures/proxy.js';
import { PASSWORDS } from '../fixtures/seed.js';
import { useShopEmulator } from '../fixtures/shop-suite.js';
import { PLATFORMS, type RunningApp } from '../fixtures/start-app.js';
import { MODES } from '../fixtures/verification-modes.js';
import { goodClaims, segment, sleep, upstreamCalls } from './fixtures/security.js';

const ATTACKER = '127.0.0.66';
const bearerOf = (request: InterceptedRequest): string =>
  String(request.headers.authorization ?? '').replace(/^Bearer /i, '');

/**
 * An auth-service that crashes on what it cannot decode: `500` for a token whose HS256
 * signature does not hold, and for a login whose username is not plain ASCII.
 */
function crashingOnJunk(secret: string) {
  return (request: InterceptedRequest) => {
    if (request.method === 'GET' && request.path === '/auth/user') {
      const [header, payload, signature] = bearerOf(request).split('.');
      const expected = createHmac('sha256', secret)
        .update(`${header}.${payload}`)
        .digest('base64url');
      if (signature !== expected)
        return { status: 500, body: '{"detail":"Internal Server Error"}' };
    }
    if (request.method === 'POST' && request.path === '/auth/login') {
      const username = new URLSearchParams(request.body).get('username') ?? '';
      if (!/^[\x20-\x7e]*$/.test(username)) {
        return { status: 500, body: '{"detail":"Internal Server Error"}' };
      }
    }
    return undefined;
  };
}

describe.each(PLATFORMS)('one caller against everyone on %s', (platform) => {
  describe.each([MODES.remote, MODES.localHs256])('$name', (mode) => {
    let emulator: AuthServiceEmulator;
    let double: LoopbackServer;
    let app: RunningApp;
    const startShopApp = useShopEmulator(
      platform,
      mode.emulator,
      (started) => (emulator = started),
    );
    const start = (options: Partial<ApexAuthModuleOptions> = {}): Promise<RunningApp> =>
      startShopApp({
        baseUrl: double.url,
        syncPermissions: false,
        jwt: mode.jwt(emulator),
        login: { minFailureMs: 0, maxFailureMs: 0 },
        // New tokens of known users are judged by the auth-service here: what the budget bounds.
        cache: { knownUsers: false },
        ...options,
      });
    beforeAll(async () => {
      double = await startProxy(emulator.url, { intercept: crashingOnJunk(emulator.hmacSecret!) });
      app = await start();
    });
    afterAll(() => double.stop());
    beforeEach(() => emulator.resetCounters());

    /** A token the emulator would sign, but with a made-up signature. */
    const forged = (i: number): string =>
      `${segment({ alg: 'HS256', typ: 'JWT', kid: emulator.keyId })}.${segment(
        goodClaims('root', { jti: `forged-${i}` }),
      )}.${Buffer.from(`not-a-signature-${i}`).toString('base64url')}`;
    /** Tokens that cannot even be a JWS, or say they expired. */
    const junk = (i: number): string[] => [
      `${segment({ typ: 'JWT' })}.${segment(goodClaims('root'))}.c2ln${i}`,
      `${segment({ alg: 'none' })}.${segment(goodClaims('root'))}.c2ln${i}`,
      `${segment({ alg: 'HS256' })}.${segment({ sub: 'root' })}.c2ln${i}`,
      `${segment({ alg: 'HS256' })}.${segment(goodClaims('root', { exp: 1 }))}.c2ln${i}`,
      `${segment([1])}.${segment(goodClaims('root'))}.c2ln${i}`,
      `not.base64!.json${i}`,
    ];
    const attack = (token: string, path: string): Promise<Answer> =>
      call(`${app.url}${path}`, { token, from: ATTACKER });

    it('junk tokens are refused locally, through guarded and public routes, without a single upstream call', async () => {
      for (let i = 0; i < 5; i++) {
        for (const token of junk(i)) {
          expect((await attack(token, '/products')).status).toBe(401);
          const open = await attack(token, '/products/catalog');
          expect(open.status, show(open)).toBe(200);
          expect(open.body.viewer).toBeNull();
        }
      }
      expect(upstreamCalls(emulator, [])).toBe(0);
    });

    it("a flood of forged tokens and junk logins leaves other callers' new tokens and logins working", async () => {
      const flood = Array.from({ length: 60 }, (_, i) =>
        Promise.all([
          attack(forged(i), i % 2 === 0 ? '/products' : '/products/catalog'),
          attack(junk(i)[i % 6], '/products'),
          call(`${app.url}/auth/login`, {
            method: 'POST',
            form: { username: `ｒｏｏｔ-${i}`, password: 'guess' },
            from: ATTACKER,
          }),
        ]),
      );
      const attackerAnswers = (await Promise.all(flood)).flat();
      // Nothing the attacker sent was let in.
      for (const answer of attackerAnswers) {
        expect([200, 401, 429, 503], show(answer)).toContain(answer.status);
        if (answer.status === 200) expect(answer.body.viewer ?? null).toBeNull();
      }
      // Everyone else: new tokens (never seen, so looked up) and logins work.
      for (let i = 0; i < 12; i++) {
        const from = `127.0.0.${100 + i}`;
        const fresh = await call(`${app.url}/products`, {
          token: emulator.issueToken('editor'),
          from,
        });
        expect(fresh.status, show(fresh)).toBe(200);
        const login = await call(`${app.url}/auth/login`, {
          method: 'POST',
          form: { username: 'viewer', password: PASSWORDS.viewer },
          from,
        });
        expect(login.status, show(login)).toBe(200);
      }
      if (mode.local) {
        // Forged signatures never leave the service.
        expect(emulator.requestCount('user')).toBe(12);
      }
    });

    it('a client whose new tokens the auth-service keeps refusing gets 429; valid tokens and other clients do not', async () => {
      const limited = await start({ lookupLimit: { maxRefusedTokens: 5, windowMs: 60_000 } });
      const from = '127.0.0.80';
      const products = (token: string, client = from) =>
        call(`${limited.url}/products`, { token, from: client });
      // Valid new tokens cost nothing, however many.
      const first = emulator.issueToken('viewer');
      expect((await products(first)).status).toBe(200);
      for (let i = 0; i < 8; i++) {
        const answer = await products(emulator.issueToken('editor'));
        expect(answer.status, show(answer)).toBe(200);
      }
      // Tokens the auth-service refuses (revoked: they pass every local check) spend it.
      for (let i = 0; i < 5; i++) {
        const revoked = emulator.issueToken('editor');
        emulator.revokeToken(revoked);
        expect((await products(revoked)).status).toBe(401);
      }
      emulator.resetCounters();
      const over = await products(emulator.issueToken('admin'));
      expect(over.status, show(over)).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(over.text).not.toContain('eyJ');
      expect(emulator.requestCount('user')).toBe(0);
      // What costs no lookup still works for it; a public route ignores the token it cannot afford.
      expect((await products(first)).status).toBe(200);
      const open = await call(`${limited.url}/products/catalog`, {
        token: emulator.issueToken('root'),
        from,
      });
      expect(open.status, show(open)).toBe(200);
      expect(open.body.viewer).toBeNull();
      // Another address has a budget of its own.
      expect((await products(emulator.issueToken('admin'), '127.0.0.81')).status).toBe(200);
    });

    it('many honest users behind one address get their new tokens, however many at once', async () => {
      const office = await start({ lookupLimit: { maxRefusedTokens: 5, windowMs: 60_000 } });
      emulator.setLatency({ user: 200 });
      try {
        const answers = await Promise.all(
          Array.from({ length: 12 }, () =>
            call(`${office.url}/products`, {
              token: emulator.issueToken('editor'),
              from: '127.0.0.95',
            }),
          ),
        );
        // Five at a time went to the auth-service; the rest waited their turn, and none was refused.
        expect(answers.map((answer) => answer.status)).toEqual(Array(12).fill(200));
      } finally {
        emulator.setLatency(0);
      }
    });

    it('a caller who opened its own circuit cannot keep a revoked token alive with it', async () => {
      const graced = await start({ cache: { ttlMs: 200, staleIfErrorMs: 60_000 } });
      const from = '127.0.0.90';
      const token = emulator.issueToken('viewer');
      expect((await call(`${graced.url}/products`, { token, from })).status).toBe(200);
      emulator.revokeToken(token);
      await sleep(300);
      // Its own forged tokens open the circuit of its address...
      for (let i = 0; i < 3; i++) {
        await call(`${graced.url}/products`, { token: forged(100 + i), from });
      }
      // ...which must not count as the auth-service being down for its old token.
      for (let i = 0; i < 3; i++) {
        const answer = await call(`${graced.url}/products`, { token, from });
        expect(answer.status, show(answer)).toBe(401);
      }
    });
  });
});

describe.each(PLATFORMS)('a partial outage against one caller on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  let double: LoopbackServer;
  let reachedHanging = 0;
  const startShopApp = useShopEmulator(platform, {}, (started) => (emulator = started));
  beforeAll(async () => {
    // Its database is gone: a valid token's lookup hangs; a bad signature is refused at once.
    double = await startProxy(emulator.url, {
      intercept: async (request) => {
        if (request.method !== 'GET' || request.path !== '/auth/user') return undefined;
        if (crashingOnJunk(emulator.hmacSecret!)(request) !== undefined) {
          return { status: 401, body: '{"detail":"Could not validate credentials"}' };
        }
        reachedHanging++;
        return new Promise<never>(() => undefined);
      },
    });
  });
  afterAll(() => double.stop());

  it("one caller's junk, refused at once, does not keep the circuit closed for the others", async () => {
    const app = await startShopApp({
      baseUrl: double.url,
      syncPermissions: false,
      timeoutMs: 400,
      circuitBreaker: { minimumCalls: 4 },
    });
    const junk = (i: number): string =>
      `${segment({ alg: 'HS256', typ: 'JWT', kid: emulator.keyId })}.${segment(
        goodClaims('root', { jti: `junk-${i}` }),
      )}.${Buffer.from(`junk-${i}`).toString('base64url')}`;
    let attacking = true;
    const attacker = (async () => {
      for (let i = 0; attacking; i++) {
        await call(`${app.url}/products`, { token: junk(i), from: ATTACKER });
        await sleep(50);
      }
    })();
    try {
      for (let i = 0; i < 12; i++) {
        const answer = await call(`${app.url}/products`, {
          token: emulator.issueToken('editor'),
          from: `127.0.0.${120 + i}`,
        });
        expect(answer.status, show(answer)).toBe(503);
      }
    } finally {
      attacking = false;
      await attacker;
    }
    // The first few waited out their timeout; then the circuit opened and the rest failed fast.
    expect(reachedHanging).toBeLessThanOrEqual(7);
  });
});
