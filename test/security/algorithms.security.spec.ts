import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { ApexAuthOptionsError } from '@apex/nest-auth';
import type { JwtVerificationOptions } from '../../lib/module/apex-auth.options.js';
import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../fixtures/capturing-logger.js';
import { call, show, type Answer } from '../fixtures/http.js';
import { foreignRsaPrivateKey, signHs256, signRs256 } from '../fixtures/jwt.js';
import { useShopApp, useShopEmulator } from '../fixtures/shop-suite.js';
import { PLATFORMS, shopAuth, startApp, type RunningApp } from '../fixtures/start-app.js';
import { inMode, MODES } from '../fixtures/verification-modes.js';
import {
  craftToken,
  expectUnauthorized,
  goodClaims,
  segment,
  startTrap,
  upstreamCalls,
  type Trap,
} from './fixtures/security.js';

/** Every spelling of "no algorithm" an attacker could try. */
const NONE_SPELLINGS = ['none', 'None', 'NONE', 'nOnE'];

/** `alg: none` tokens: empty signature, or a signature attached anyway. */
function noneTokens(kid?: string): [string, string][] {
  return NONE_SPELLINGS.flatMap((alg) => {
    const unsigned = `${segment({ alg, typ: 'JWT', ...(kid ? { kid } : {}) })}.${segment(goodClaims('editor'))}`;
    return [
      [`alg ${alg}, empty signature`, `${unsigned}.`],
      [`alg ${alg}, some signature`, `${unsigned}.c2lnbmF0dXJl`],
    ] as [string, string][];
  });
}

describe.each(PLATFORMS)('algorithms on %s', (platform) => {
  describe('jwt: { secret } (HS256)', () => {
    let emulator: AuthServiceEmulator;
    let app: RunningApp;
    const products = (token: string): Promise<Answer> => call(`${app.url}/products`, { token });

    useShopApp(
      platform,
      inMode(MODES.localHs256, { syncPermissions: false }),
      (shop) => ({ emulator, app } = shop),
    );
    beforeEach(() => emulator.resetCounters());

    it('accepts a token signed with the secret (the baseline the refusals are measured against)', async () => {
      const answer = await products(emulator.issueToken('editor'));
      expect(answer.status, show(answer)).toBe(200);
    });

    it('refuses alg "none" in any spelling, signed or not, without an upstream call', async () => {
      for (const [what, token] of noneTokens()) {
        const answer = await products(token);
        expectUnauthorized(answer, 'invalid token');
        expect(answer.status, what).toBe(401);
      }
      expect(upstreamCalls(emulator, [])).toBe(0);
    });

    it('refuses an RS256 token when only a secret is configured', async () => {
      const rs256 = signRs256(goodClaims('editor'), foreignRsaPrivateKey());
      expectUnauthorized(await products(rs256), 'invalid token');
      // RS256 "signed" with the HMAC secret as if it were a key: still not HMAC.
      const forged = craftToken(
        { alg: 'RS256', typ: 'JWT' },
        goodClaims('editor'),
        emulator.hmacSecret!,
      );
      expectUnauthorized(await products(forged), 'invalid token');
      expect(upstreamCalls(emulator, [])).toBe(0);
    });

    it('refuses HS256/384/512 tokens signed with a wrong secret, locally', async () => {
      for (const bits of [256, 384, 512] as const) {
        const token = craftToken(
          { alg: `HS${bits}`, typ: 'JWT' },
          goodClaims('editor'),
          'another-secret-that-is-long-enough-0123456789',
          bits,
        );
        expectUnauthorized(await products(token), 'invalid token');
      }
      expect(upstreamCalls(emulator, [])).toBe(0);
    });

    it('verifies HS256 only: HS384 and HS512 tokens signed with the right secret are refused, locally', async () => {
      // RFC 8725 §3.1: one algorithm per key, and the auth-service signs with HS256.
      for (const bits of [384, 512] as const) {
        const token = craftToken(
          { alg: `HS${bits}`, typ: 'JWT' },
          goodClaims('editor'),
          emulator.hmacSecret!,
          bits,
        );
        expectUnauthorized(await products(token), 'invalid token');
      }
      expect(upstreamCalls(emulator, [])).toBe(0);
    });
  });

  describe('jwt: { publicKey } and { jwksUri } (RS256)', () => {
    let emulator: AuthServiceEmulator;
    let pemApp: RunningApp;
    let jwksApp: RunningApp;

    const start = useShopEmulator(
      platform,
      { signing: { algorithm: 'RS256' } },
      (started) => (emulator = started),
    );
    beforeAll(async () => {
      pemApp = await start({ syncPermissions: false, jwt: { publicKey: emulator.publicKeyPem! } });
      jwksApp = await start({ syncPermissions: false, jwt: { jwksUri: emulator.jwksUri } });
    });
    beforeEach(() => emulator.resetCounters());

    /** HS256 tokens keyed with every public form of the RSA key an attacker can get. */
    function confusionTokens(): [string, string][] {
      const pem = emulator.publicKeyPem!;
      const publicKey = createPublicKey(pem);
      const secrets: [string, string | Buffer][] = [
        ['the PEM', pem],
        ['the PEM without its final newline', pem.trimEnd()],
        ['the PEM with CRLF line ends', pem.replace(/\n/g, '\r\n')],
        ['the DER', publicKey.export({ type: 'spki', format: 'der' })],
        ['the JWK', JSON.stringify(publicKey.export({ format: 'jwk' }))],
      ];
      return secrets.flatMap(([what, secret]) => [
        [
          `HS256 keyed with ${what}, with kid`,
          signHs256(goodClaims('editor'), secret, { kid: emulator.keyId }),
        ],
        [`HS256 keyed with ${what}, without kid`, signHs256(goodClaims('editor'), secret)],
      ]);
    }

    it.each([
      ['publicKey', () => pemApp],
      ['jwksUri', () => jwksApp],
    ])('%s: accepts the auth-service RS256 token', async (_what, app) => {
      const answer = await call(`${app().url}/products`, { token: emulator.issueToken('editor') });
      expect(answer.status, show(answer)).toBe(200);
    });

    it.each([
      ['publicKey', () => pemApp],
      ['jwksUri', () => jwksApp],
    ])(
      '%s: refuses HS256 signed with the public key as secret (algorithm confusion), locally',
      async (_what, app) => {
        for (const [what, token] of confusionTokens()) {
          const answer = await call(`${app().url}/products`, { token });
          expect(answer.status, `${what}: ${show(answer)}`).toBe(401);
          expectUnauthorized(answer, 'invalid token');
        }
        // Refused on the header's alg alone: not even a JWKS refresh.
        expect(upstreamCalls(emulator, [])).toBe(0);
      },
    );

    it.each([
      ['publicKey', () => pemApp],
      ['jwksUri', () => jwksApp],
    ])('%s: refuses alg "none" in any spelling', async (_what, app) => {
      for (const [what, token] of noneTokens(emulator.keyId)) {
        const answer = await call(`${app().url}/products`, { token });
        expect(answer.status, `${what}: ${show(answer)}`).toBe(401);
      }
      expect(upstreamCalls(emulator, [])).toBe(0);
    });

    it.each([
      ['publicKey', () => pemApp],
      ['jwksUri', () => jwksApp],
    ])('%s: refuses RS256 signed by another key with the right kid', async (_what, app) => {
      const token = signRs256(goodClaims('editor'), foreignRsaPrivateKey(), {
        kid: emulator.keyId,
      });
      expectUnauthorized(await call(`${app().url}/products`, { token }), 'invalid token');
      expect(upstreamCalls(emulator, [])).toBe(0);
    });
  });

  describe('jwt.algorithms takes effect', () => {
    let emulator: AuthServiceEmulator;
    let app: RunningApp;

    useShopApp(
      platform,
      {
        auth: (emulator) => ({
          syncPermissions: false,
          jwt: { secret: emulator.hmacSecret!, algorithms: ['HS384'] },
        }),
      },
      (shop) => ({ emulator, app } = shop),
    );
    beforeEach(() => emulator.resetCounters());

    it("refuses an HS256 token signed with the right secret when only ['HS384'] is allowed", async () => {
      const answer = await call(`${app.url}/products`, { token: emulator.issueToken('editor') });
      expectUnauthorized(answer, 'invalid token');
      expect(upstreamCalls(emulator, [])).toBe(0);
    });

    it('lets an HS384 token with the right secret through local verification', async () => {
      const token = craftToken(
        { alg: 'HS384', typ: 'JWT' },
        goodClaims('editor'),
        emulator.hmacSecret!,
        384,
      );
      await call(`${app.url}/products`, { token });
      // Verified locally, then looked up: the emulator itself only speaks HS256.
      expect(emulator.requestCount('user')).toBe(1);
    });
  });

  describe('startup refuses unsafe key configurations', () => {
    let trap: Trap | undefined;
    afterAll(async () => {
      await trap?.stop();
    });

    const start = (jwt: JwtVerificationOptions): Promise<RunningApp> =>
      startApp(
        platform,
        shopAuth('http://127.0.0.1:9', {
          syncPermissions: false,
          jwt,
        }),
      );
    const secret = 'a-test-secret-of-at-least-32-bytes!!';
    const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pem = (key: typeof rsa2048.publicKey): string =>
      key.export({ type: 'spki', format: 'pem' }).toString();

    it.each<[string, JwtVerificationOptions, RegExp]>([
      [
        'a secret and a public key at once',
        { secret, publicKey: pem(rsa2048.publicKey) },
        /^jwt: takes one key source, not secret and publicKey/,
      ],
      [
        'a secret and a JWKS at once',
        { secret, jwksUri: 'http://127.0.0.1:9/jwks' },
        /^jwt: takes one key source, not secret and jwksUri/,
      ],
      [
        "algorithms: ['RS256'] with a secret",
        { secret, algorithms: ['RS256'] },
        /^jwt\.algorithms: "RS256" does not fit the configured key/,
      ],
      [
        "algorithms: ['HS256'] with a public key",
        { publicKey: pem(rsa2048.publicKey), algorithms: ['HS256'] },
        /^jwt\.algorithms: "HS256" does not fit the configured key/,
      ],
      [
        "algorithms: ['none']",
        { secret, algorithms: ['none' as never] },
        /^jwt\.algorithms: "none" does not fit/,
      ],
      [
        'a 31-byte secret',
        { secret: 'x'.repeat(31) },
        /^jwt\.secret: is 31 bytes long; an HMAC secret must have at least 32 bytes, or it can be brute-forced/,
      ],
      ['an empty secret', { secret: '' }, /^jwt\.secret: is 0 bytes long/],
      [
        'a 1024-bit RSA key',
        { publicKey: pem(rsa1024.publicKey) },
        /^jwt\.publicKey: RSA key has 1024 bits; at least 2048 are required/,
      ],
      [
        'a private key given as the public key',
        {
          publicKey: rsa2048.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        },
        /^jwt\.publicKey: is a private key/,
      ],
    ])('%s', async (_what, jwt, message) => {
      const failure = start(jwt);
      await expect(failure).rejects.toBeInstanceOf(ApexAuthOptionsError);
      await expect(failure).rejects.toThrow(message);
    });

    it('starts with a 32-byte secret (the limit is bytes, not characters)', async () => {
      // 16 two-byte characters: 32 bytes.
      const app = await start({ secret: 'é'.repeat(16) });
      await app.close();
      await expect(start({ secret: 'é'.repeat(15) + 'x' })).rejects.toThrow(/is 31 bytes long/);
    });

    it('ignores a 1024-bit key in a JWKS, and refuses tokens it signed', async () => {
      const weak = rsa1024.publicKey.export({ format: 'jwk' });
      trap = await startTrap(() => ({
        status: 200,
        body: JSON.stringify({ keys: [{ ...weak, kid: 'weak', alg: 'RS256', use: 'sig' }] }),
      }));
      const logger = new CapturingLogger();
      const app = await startApp(
        platform,
        shopAuth('http://127.0.0.1:9', {
          syncPermissions: false,
          timeoutMs: 300,
          jwt: { jwksUri: `${trap.url}/jwks.json` },
        }),
        { logger },
      );
      try {
        expect(trap.hits).toEqual(['GET /jwks.json']);
        expect(logger.all()).toMatch(/Ignoring JWKS key "weak": .*1024 bits/);
        const token = craftToken(
          { alg: 'RS256', typ: 'JWT', kid: 'weak' },
          goodClaims('editor'),
          rsa1024.privateKey,
        );
        expectUnauthorized(await call(`${app.url}/products`, { token }), 'invalid token');
      } finally {
        await app.close();
      }
    });
  });
});
