import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { AuthServiceUnavailableError } from '@apex/nest-auth';
import { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuthenticationFailure } from '../../lib/verification/authentication-failure.js';
import {
  JWKS_MIN_REFRESH_INTERVAL_MS,
  JwksKeySource,
} from '../../lib/verification/jwks-key-source.js';
import { call, show, type Answer } from '../fixtures/http.js';
import { JWKS_DOWN_AT_STARTUP } from '../fixtures/jwks-down.js';
import { useShopApp } from '../fixtures/shop-suite.js';
import { PLATFORMS, shopAuth, startApp, type RunningApp } from '../fixtures/start-app.js';
import { inMode, MODES } from '../fixtures/verification-modes.js';
import {
  craftToken,
  expectUnauthorized,
  expectUnavailable,
  goodClaims,
  startTrap,
  upstreamCalls,
  useTrap,
  type Trap,
} from './fixtures/security.js';

/** An attacker's own key pair, to sign tokens that carry their key with them. */
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
const attackerJwk = attacker.publicKey.export({ format: 'jwk' });

/**
 * Header parameters that point at keys or extensions, each on a token that is otherwise
 * good (signed by the auth-service's key with its kid): only the parameter can refuse it.
 */
function pointingHeaders(
  trap: Pick<Trap, 'url'>,
  kid: string,
): [string, Record<string, unknown>][] {
  return [
    ['crit naming an extension', { crit: ['exp'] }],
    ['crit with b64', { crit: ['b64'], b64: true }],
    ['an empty crit', { crit: [] }],
    ['jku', { jku: `${trap.url}/jwks.json` }],
    ['x5u', { x5u: `${trap.url}/cert.pem` }],
    ['an embedded jwk', { jwk: { ...attackerJwk, kid } }],
    ['x5c', { x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] }],
    ['jku and kid of a key at the jku', { jku: `${trap.url}/jwks.json`, kid: 'attacker' }],
  ];
}

describe.each(PLATFORMS)('JWS header screening on %s', (platform) => {
  describe('jwt: { secret }', () => {
    let emulator: AuthServiceEmulator;
    let app: RunningApp;
    const trap = useTrap();
    const products = (token: string): Promise<Answer> => call(`${app.url}/products`, { token });

    useShopApp(
      platform,
      inMode(MODES.localHs256, { syncPermissions: false }),
      (shop) => ({ emulator, app } = shop),
    );
    beforeEach(() => emulator.resetCounters());

    it('refuses crit, jku, x5u, jwk and x5c on a correctly signed token, fetching nothing', async () => {
      for (const [what, header] of pointingHeaders(trap, emulator.keyId)) {
        const answer = await products(emulator.signToken(goodClaims('editor'), header));
        expect(answer.status, `${what}: ${show(answer)}`).toBe(401);
        expectUnauthorized(answer, 'invalid token');
      }
      expect(trap.hits).toEqual([]);
      expect(upstreamCalls(emulator, [])).toBe(0);
      // The same token without those parameters is fine.
      expect((await products(emulator.signToken(goodClaims('editor')))).status).toBe(200);
    });

    it('refuses an RS256 token that embeds its own key (jwk) and is signed with it', async () => {
      const token = craftToken(
        { alg: 'RS256', typ: 'JWT', jwk: attackerJwk },
        goodClaims('root'),
        attacker.privateKey,
      );
      expectUnauthorized(await products(token), 'invalid token');
      expect(upstreamCalls(emulator, [])).toBe(0);
    });

    it.each<[string, unknown]>([
      ['a number', 7],
      ['an object', { id: 'x' }],
      ['257 characters', 'k'.repeat(257)],
    ])('refuses a kid that is %s', async (_what, kid) => {
      expectUnauthorized(
        await products(emulator.signToken(goodClaims('editor'), { kid })),
        'invalid token',
      );
      expect(upstreamCalls(emulator, [])).toBe(0);
    });
  });

  describe('jwt: { jwksUri }', () => {
    let emulator: AuthServiceEmulator;
    let app: RunningApp;
    const trap = useTrap();
    const products = (token: string): Promise<Answer> => call(`${app.url}/products`, { token });

    useShopApp(
      platform,
      inMode(MODES.localRs256Jwks, { syncPermissions: false, timeoutMs: 300 }),
      (shop) => ({ emulator, app } = shop),
    );
    beforeEach(() => emulator.resetCounters());
    afterEach(() => emulator.clearFaults());

    it('refuses crit, jku, x5u, jwk and x5c on a correctly signed token, fetching nothing', async () => {
      for (const [what, header] of pointingHeaders(trap, emulator.keyId)) {
        const answer = await products(emulator.signToken(goodClaims('editor'), header));
        expect(answer.status, `${what}: ${show(answer)}`).toBe(401);
      }
      expect(trap.hits).toEqual([]);
      expect(upstreamCalls(emulator, [])).toBe(0);
    });

    it('refuses unknown kids, refetching the JWKS at most once per 15 s', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) {
        const kid = `random-${Math.random().toString(36).slice(2)}`;
        const answer = await products(emulator.signToken(goodClaims('editor'), { kid }));
        statuses.push(answer.status);
        expect(answer.body.message).toBe('invalid token');
      }
      expect(statuses).toEqual(Array(10).fill(401));
      expect(emulator.requestCount('jwks')).toBeLessThanOrEqual(1);
      expect(upstreamCalls(emulator)).toBe(0);
    });

    it('refuses an algorithm the JWK does not allow (PS256 for an RS256 key)', async () => {
      const token = emulator.signToken(goodClaims('editor'), { alg: 'PS256' });
      expectUnauthorized(await products(token), 'invalid token');
      expect(upstreamCalls(emulator, [])).toBe(0);
    });

    it('keeps verifying with the keys it has while the JWKS endpoint fails', async () => {
      emulator.fail({ kind: 'status', status: 503 }, { endpoints: ['jwks'] });
      for (const user of ['viewer', 'editor'] as const) {
        const answer = await products(emulator.issueToken(user));
        expect(answer.status, show(answer)).toBe(200);
        expect(answer.body.username).toBe(user);
      }
      // An unknown kid is still a plain refusal (the keys are there), not a 503.
      const unknown = await products(emulator.signToken(goodClaims('editor'), { kid: 'rotated' }));
      expectUnauthorized(unknown, 'invalid token');
    });
  });

  describe('JWKS unreachable with nothing cached', () => {
    let emulator: AuthServiceEmulator;
    let app: RunningApp;

    useShopApp(platform, JWKS_DOWN_AT_STARTUP, (shop) => ({ emulator, app } = shop));

    it('answers 503, not 401, for a good token and for an unknown kid', async () => {
      const good = await call(`${app.url}/products`, { token: emulator.issueToken('editor') });
      expectUnavailable(good);
      const unknown = await call(`${app.url}/products`, {
        token: emulator.signToken(goodClaims('editor'), { kid: 'whatever' }),
      });
      expectUnavailable(unknown);
      expect(emulator.requestCount('user')).toBe(0);
    });

    it('still refuses what the header alone condemns with 401', async () => {
      const answer = await call(`${app.url}/products`, {
        token: emulator.signToken(goodClaims('editor'), { jku: 'http://127.0.0.1:9/k' }),
      });
      expectUnauthorized(answer, 'invalid token');
    });
  });
});

describe.each(PLATFORMS)('where the JWKS comes from on %s', (platform) => {
  let trap: Trap;
  let app: RunningApp | undefined;
  afterAll(async () => {
    await app?.close();
    await trap?.stop();
  });

  it('is fetched from the configured URL, query included, and from nowhere else', async () => {
    trap = await startTrap();
    app = await startApp(
      platform,
      shopAuth('http://127.0.0.1:9', {
        syncPermissions: false,
        timeoutMs: 300,
        jwt: { jwksUri: `${trap.url}/tenants/shop/discovery/keys?appid=shop-api&v=2` },
      }),
    );
    expect(trap.hits).toEqual(['GET /tenants/shop/discovery/keys?appid=shop-api&v=2']);
    // A token pointing elsewhere changes nothing.
    const token = craftToken(
      { alg: 'RS256', typ: 'JWT', kid: 'elsewhere', jku: `${trap.url}/evil` },
      goodClaims('editor'),
      attacker.privateKey,
    );
    expectUnauthorized(await call(`${app.url}/products`, { token }), 'invalid token');
    expect(trap.hits).toHaveLength(1);
  });
});

describe('JwksKeySource with a fake clock (real HTTP to the emulator)', () => {
  let emulator: AuthServiceEmulator;
  let clock = 0;
  let source: JwksKeySource;
  const fetchJwks = async (url: URL): Promise<unknown> => {
    const response = await fetch(url);
    if (!response.ok) throw new AuthServiceUnavailableError('jwks', 'status', response.status);
    return response.json();
  };
  const keyFor = (kid: string): Promise<KeyObject> =>
    Promise.resolve(source.keyFor({ alg: 'RS256', kid }));

  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({ signing: { algorithm: 'RS256' } });
  });
  afterAll(async () => {
    await emulator?.stop();
  });
  beforeEach(() => {
    emulator.clearFaults();
    emulator.resetCounters();
    // jose's remote key set and the source both read Date.now(): the clock is the fake one.
    vi.useFakeTimers({ toFake: ['Date'] });
    clock = 1_000_000;
    vi.setSystemTime(clock);
    source = new JwksKeySource(new URL(emulator.jwksUri), fetchJwks, undefined, new Logger('test'));
  });
  afterEach(() => vi.useRealTimers());
  const advance = (ms: number): void => {
    clock += ms;
    vi.setSystemTime(clock);
  };

  it('refetches on an unknown kid at most once per interval, coalescing concurrent ones', async () => {
    await source.warmUp();
    expect(emulator.requestCount('jwks')).toBe(1);
    await expect(keyFor('unknown-1')).rejects.toBeInstanceOf(AuthenticationFailure);
    expect(emulator.requestCount('jwks')).toBe(1);

    advance(JWKS_MIN_REFRESH_INTERVAL_MS);
    const attempts = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => keyFor(`unknown-${i}`)),
    );
    expect(attempts.map((attempt) => attempt.status)).toEqual(Array(10).fill('rejected'));
    expect(emulator.requestCount('jwks')).toBe(2);
    for (let i = 0; i < 10; i++) {
      advance(1000);
      await expect(keyFor(`later-${i}`)).rejects.toBeInstanceOf(AuthenticationFailure);
    }
    // 10 s later: still inside the interval.
    expect(emulator.requestCount('jwks')).toBe(2);
    advance(JWKS_MIN_REFRESH_INTERVAL_MS);
    await expect(keyFor('unknown-again')).rejects.toBeInstanceOf(AuthenticationFailure);
    expect(emulator.requestCount('jwks')).toBe(3);
    // The known key never needs a fetch.
    await expect(keyFor(emulator.keyId)).resolves.toBeDefined();
    expect(emulator.requestCount('jwks')).toBe(3);
  });

  it('keeps the keys it has when a refresh fails', async () => {
    await source.warmUp();
    emulator.fail({ kind: 'status', status: 503 }, { endpoints: ['jwks'] });
    advance(JWKS_MIN_REFRESH_INTERVAL_MS);
    // The refresh fails; the verdict on the unknown kid stays a refusal.
    await expect(keyFor('unknown')).rejects.toBeInstanceOf(AuthenticationFailure);
    expect(emulator.requestCount('jwks')).toBe(2);
    await expect(keyFor(emulator.keyId)).resolves.toBeDefined();
    emulator.fail(
      { kind: 'status', status: 200, body: '{"keys":"gone"}' },
      { endpoints: ['jwks'] },
    );
    advance(JWKS_MIN_REFRESH_INTERVAL_MS);
    await expect(keyFor('unknown')).rejects.toBeInstanceOf(AuthenticationFailure);
    expect(emulator.requestCount('jwks')).toBe(3);
    await expect(keyFor(emulator.keyId)).resolves.toBeDefined();
  });

  it('without any key: unavailable (503), and it recovers once the JWKS is back', async () => {
    emulator.fail({ kind: 'status', status: 503 }, { endpoints: ['jwks'] });
    await expect(source.warmUp()).rejects.toBeInstanceOf(AuthServiceUnavailableError);
    await expect(keyFor(emulator.keyId)).rejects.toBeInstanceOf(AuthServiceUnavailableError);
    emulator.clearFaults();
    advance(JWKS_MIN_REFRESH_INTERVAL_MS);
    await expect(keyFor(emulator.keyId)).resolves.toBeDefined();
  });
});
