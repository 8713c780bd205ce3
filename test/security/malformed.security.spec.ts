import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { call, show, type Answer } from '../fixtures/http.js';
import { foreignRsaPrivateKey } from '../fixtures/jwt.js';
import { useShopApp } from '../fixtures/shop-suite.js';
import { PLATFORMS, type RunningApp } from '../fixtures/start-app.js';
import { inMode, MODES } from '../fixtures/verification-modes.js';
import {
  craftToken,
  expectUnauthorized,
  goodClaims,
  rawRequest,
  segment,
  upstreamCalls,
} from './fixtures/security.js';

/** The JSON value of `{ raw }` text, when it is JSON. */
function jsonOf(value: unknown): { value: unknown } | undefined {
  if (typeof value !== 'object' || value === null || !('raw' in value)) return { value };
  try {
    return { value: JSON.parse(String(value.raw)) };
  } catch {
    return undefined;
  }
}

/**
 * Exactly this header and payload (JSON values, or `{ raw }` text), signed with the
 * emulator's key whenever the emulator can sign it (an object header, a JSON payload),
 * so that only the malformed part can be why it is refused.
 */
function sign(emulator: AuthServiceEmulator, header: unknown, payload: unknown): string {
  const json = jsonOf(payload);
  const plainHeader =
    typeof header === 'object' && header !== null && !('raw' in header) && 'alg' in header;
  if (emulator.hmacSecret !== undefined) return craftToken(header, payload, emulator.hmacSecret);
  if (plainHeader && json !== undefined) {
    // signToken serialises whatever it is given: null, arrays and strings included.
    return emulator.signToken(
      json.value as Record<string, unknown>,
      header as object as Record<string, unknown>,
    );
  }
  // Refused before any signature check: any key will do.
  return craftToken(header, payload, foreignRsaPrivateKey());
}

describe.each(PLATFORMS)('malformed input on %s', (platform) => {
  describe.each([MODES.localHs256, MODES.localRs256Jwks, MODES.remote])('$name', (mode) => {
    let emulator: AuthServiceEmulator;
    let app: RunningApp;
    const header = (extra: Record<string, unknown> = {}) => ({
      alg: emulator.hmacSecret === undefined ? 'RS256' : 'HS256',
      typ: 'JWT',
      kid: emulator.keyId,
      ...extra,
    });
    const products = (authorization?: string, path = '/products'): Promise<Answer> =>
      call(`${app.url}${path}`, {
        headers: authorization === undefined ? {} : { authorization },
      });
    /** 401 never 500, and nothing asked upstream, in every mode: junk costs no lookup. */
    const expectRefusedLocally = (answer: Answer, what: string): void => {
      expect(answer.status, `${what}: ${show(answer)}`).toBe(401);
      expect(upstreamCalls(emulator, []), what).toBe(0);
    };

    useShopApp(
      platform,
      inMode(mode, { syncPermissions: false, timeoutMs: 300 }),
      (shop) => ({ emulator, app } = shop),
    );
    beforeEach(() => emulator.resetCounters());

    it.each([
      ['one part', 'abcdef'],
      ['two parts', `${segment({ alg: 'HS256' })}.${segment({ sub: 'editor' })}`],
      ['four parts', 'a.b.c.d'],
      ['empty parts', '..'],
      ['an empty header part', `.${segment({ sub: 'editor' })}.c2ln`],
      ['an empty payload part', `${segment({ alg: 'HS256' })}..c2ln`],
      ['base64 padding', 'eyJhbGciOiJIUzI1NiJ9==.e30=.c2ln'],
      ['standard base64 characters', 'ab+c/d.ef+g.h/i'],
      ['other characters', 'a!b.c$d.e%f'],
      ['a comma', 'a.b.c,d.e.f'],
      ['nothing after the scheme', ''],
    ])('refuses a token with %s: 401, not 500', async (what, token) => {
      const answer = await products(`Bearer ${token}`);
      expectUnauthorized(answer, 'invalid token');
      // Refused by the header parser in every mode: not even the remote mode asks.
      expect(upstreamCalls(emulator, []), what).toBe(0);
    });

    it.each<[string, string]>([
      ['[]', '[]'],
      ['"x"', '"x"'],
      ['null', 'null'],
      ['1', '1'],
      ['true', 'true'],
      ['broken JSON', '{"alg":"HS256"'],
      ['not UTF-8 JSON', '\u0000\u0001\u0002'],
    ])('refuses a header that is %s', async (what, raw) => {
      const token = sign(emulator, { raw }, goodClaims('editor'));
      const answer = await products(`Bearer ${token}`);
      expectRefusedLocally(answer, what);
      expect(answer.body.message).toBe('invalid token');
    });

    it.each<[string, string]>([
      ['[]', '[]'],
      ['"x"', '"x"'],
      ['null', 'null'],
      ['1', '1'],
      ['broken JSON', '{"sub":"editor"'],
    ])('refuses a correctly signed payload that is %s', async (what, raw) => {
      const token = sign(emulator, header(), { raw });
      const answer = await products(`Bearer ${token}`);
      expectRefusedLocally(answer, what);
      expect(answer.body.message).toBe('invalid token');
    });

    it('refuses a header without alg, or with a non-string alg', async () => {
      for (const bad of [{ typ: 'JWT' }, { alg: null }, { alg: ['HS256'] }, { alg: 256 }]) {
        const token = sign(emulator, bad, goodClaims('editor'));
        expectRefusedLocally(await products(`Bearer ${token}`), JSON.stringify(bad));
      }
    });

    it('refuses a 10 KB token with 401 and a 100 KB one before it costs anything', async () => {
      const claims = goodClaims('editor', { pad: 'x'.repeat(10 * 1024) });
      const big = await products(`Bearer ${sign(emulator, header(), claims)}`);
      expectUnauthorized(big, 'invalid token');
      const huge = `${segment(header())}.${'A'.repeat(100 * 1024)}.c2ln`;
      const answer = await products(`Bearer ${huge}`);
      // Node's own header limit (16 KiB) may answer first with 431; the guard, with 401.
      expect([401, 431], show(answer)).toContain(answer.status);
      expect(upstreamCalls(emulator, [])).toBe(0);
    });

    it('refuses other schemes, and reads Bearer in any case', async () => {
      const token = emulator.issueToken('editor');
      for (const authorization of [
        `Basic ${Buffer.from('editor:editor-password-2').toString('base64')}`,
        `Token ${token}`,
        `JWT ${token}`,
        `Bearer${token}`,
        `Bearer: ${token}`,
        `Bearer ${token} ${token}`,
        token,
      ]) {
        const answer = await products(authorization);
        expectUnauthorized(answer, 'invalid token');
      }
      expect(upstreamCalls(emulator, [])).toBe(0);
      for (const scheme of ['bearer', 'BEARER', 'bEaReR']) {
        const answer = await products(`${scheme} ${token}`);
        expect(answer.status, `${scheme}: ${show(answer)}`).toBe(200);
      }
    });

    it('refuses two Authorization headers, even two good ones', async () => {
      const good = emulator.issueToken('editor');
      for (const [first, second] of [
        [good, good],
        [good, 'garbage'],
        ['garbage', good],
      ]) {
        const answer = await rawRequest(app.url, '/products', [
          ['Authorization', `Bearer ${first}`],
          ['authorization', `Bearer ${second}`],
        ]);
        expect(answer.status, answer.head).toBe(401);
        expect(answer.body).toContain('invalid token');
      }
      expect(upstreamCalls(emulator, [])).toBe(0);
      // One header with the same token works over the same raw path.
      const single = await rawRequest(app.url, '/products', [['Authorization', `Bearer ${good}`]]);
      expect(single.status, single.head).toBe(200);
    });

    it('ignores a token in the query string, a cookie or another header', async () => {
      const token = emulator.issueToken('editor');
      for (const [what, answer] of [
        ['query access_token', await products(undefined, `/products?access_token=${token}`)],
        ['query token', await products(undefined, `/products?token=${token}`)],
        [
          'cookie',
          await call(`${app.url}/products`, { headers: { cookie: `access_token=${token}` } }),
        ],
        [
          'x-access-token',
          await call(`${app.url}/products`, { headers: { 'x-access-token': token } }),
        ],
      ] as const) {
        expect(answer.status, `${what}: ${show(answer)}`).toBe(401);
        expect(answer.body.message).toBe('missing token');
      }
      expect(upstreamCalls(emulator, [])).toBe(0);
    });

    it('answers a public route normally whatever garbage the header holds', async () => {
      for (const authorization of ['Bearer a.b.c', 'Basic x', `Bearer ${'A'.repeat(9000)}.a.b`]) {
        const answer = await products(authorization, '/products/catalog');
        expect(answer.status, show(answer)).toBe(200);
        expect(answer.body.viewer).toBeNull();
      }
    });
  });
});
