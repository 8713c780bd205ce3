import { describe, expect, it } from 'vitest';
import { CachedAdminLogin, unverifiedJwtExpiry } from '../../lib/client/admin-token.js';
import type { TokenSet } from '../../lib/client/auth-service.entities.js';

// The clock is the one thing the emulator-backed tests cannot move: these drive it.

function jwt(payload: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}.signature`;
}

function setup(tokens: (n: number) => TokenSet) {
  let now = 1_000_000_000_000;
  let logins = 0;
  const cache = new CachedAdminLogin(
    () => Promise.resolve(tokens(++logins)),
    () => now,
  );
  return {
    cache,
    logins: () => logins,
    advance: (ms: number) => {
      now += ms;
    },
    nowSeconds: () => now / 1000,
  };
}

describe('CachedAdminLogin', () => {
  it('keeps a token until 30 s before expires_in runs out', async () => {
    const t = setup((n) => ({ accessToken: `t${n}`, tokenType: 'bearer', expiresIn: 120 }));
    expect(await t.cache.get()).toBe('t1');
    t.advance(89_000);
    expect(await t.cache.get()).toBe('t1');
    t.advance(1_000);
    expect(await t.cache.get()).toBe('t2');
    expect(t.logins()).toBe(2);
  });

  it('prefers expires_in over the JWT exp', async () => {
    let exp = 0;
    const t = setup((n) => ({
      accessToken: jwt({ sub: 'admin', exp, n }),
      tokenType: 'bearer',
      expiresIn: 60,
    }));
    exp = t.nowSeconds() + 3600;
    await t.cache.get();
    t.advance(31_000);
    await t.cache.get();
    expect(t.logins()).toBe(2);
  });

  it('uses the JWT exp when expires_in is absent', async () => {
    const t = setup(() => ({
      accessToken: jwt({ exp: t.nowSeconds() + 600 }),
      tokenType: 'bearer',
    }));
    await t.cache.get();
    t.advance(569_000);
    await t.cache.get();
    expect(t.logins()).toBe(1);
    t.advance(1_000);
    await t.cache.get();
    expect(t.logins()).toBe(2);
  });

  it('assumes 5 minutes for an opaque token', async () => {
    const t = setup((n) => ({ accessToken: `opaque-${n}`, tokenType: 'bearer' }));
    await t.cache.get();
    t.advance(269_000);
    expect(await t.cache.get()).toBe('opaque-1');
    t.advance(1_000);
    expect(await t.cache.get()).toBe('opaque-2');
  });

  it('shares one login between concurrent callers', async () => {
    const t = setup((n) => ({ accessToken: `t${n}`, tokenType: 'bearer' }));
    expect(await Promise.all([t.cache.get(), t.cache.get(), t.cache.get()])).toEqual([
      't1',
      't1',
      't1',
    ]);
    expect(t.logins()).toBe(1);
  });

  it('forgets an invalidated token, but not for another token', async () => {
    const t = setup((n) => ({ accessToken: `t${n}`, tokenType: 'bearer' }));
    await t.cache.get();
    t.cache.invalidate('some-other-token');
    expect(await t.cache.get()).toBe('t1');
    t.cache.invalidate('t1');
    expect(await t.cache.get()).toBe('t2');
  });

  it('lets every waiter see a failed login, and tries again next time', async () => {
    let fail = true;
    const cache = new CachedAdminLogin(() =>
      fail
        ? Promise.reject(new Error('down'))
        : Promise.resolve({ accessToken: 'ok', tokenType: 'bearer' }),
    );
    const results = await Promise.allSettled([cache.get(), cache.get()]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await cache.get()).toBe('ok');
  });
});

describe('unverifiedJwtExpiry', () => {
  it('reads exp in milliseconds', () => {
    expect(unverifiedJwtExpiry(jwt({ exp: 1700000000 }))).toBe(1700000000000);
  });

  it.each([
    ['an opaque token', 'opaque'],
    ['two parts', 'a.b'],
    ['a payload that is not base64 JSON', 'a.%%%.c'],
    ['a JSON payload that is not an object', `a.${Buffer.from('42').toString('base64url')}.c`],
    ['no exp', jwt({ sub: 'x' })],
    ['a string exp', jwt({ exp: '1700000000' })],
    [
      'an exp under __proto__',
      `a.${Buffer.from('{"__proto__":{"exp":1}}').toString('base64url')}.c`,
    ],
  ])('gives undefined for %s', (_case, token) => {
    expect(unverifiedJwtExpiry(token)).toBeUndefined();
  });
});
