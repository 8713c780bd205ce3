import { ApexAuthOptionsError, type ApexAuthModuleOptions } from '@apex/nest-auth';
import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { call, show, type Answer } from '../fixtures/http.js';
import { useShopEmulator } from '../fixtures/shop-suite.js';
import { PLATFORMS, shopAuth, startApp, type RunningApp } from '../fixtures/start-app.js';
import { MODES } from '../fixtures/verification-modes.js';
import { craftToken, expectUnauthorized, upstreamCalls } from './fixtures/security.js';

const ISSUER = 'https://auth.apex.test';
const now = (): number => Math.floor(Date.now() / 1000);

describe.each(PLATFORMS)('claims on %s', (platform) => {
  describe.each([MODES.localHs256, MODES.remote])('$name', (mode) => {
    let emulator: AuthServiceEmulator;
    /** Default claims checks. */
    let plain: RunningApp;
    /** `issuer` and `audience` configured. */
    let strict: RunningApp;
    /** `clockToleranceSeconds: 30` (local verification only: remote mode has no leeway). */
    let tolerant: RunningApp;
    const products = (app: RunningApp, token: string): Promise<Answer> =>
      call(`${app.url}/products`, { token });
    /** A token of `editor` signed with the emulator's key, with exactly these claims. */
    const token = (claims: Record<string, unknown>): string =>
      emulator.signToken({ sub: 'editor', iat: now(), jti: String(Math.random()), ...claims });

    const startShopApp = useShopEmulator(platform, {}, (started) => (emulator = started));
    beforeAll(async () => {
      const start = (options: Partial<ApexAuthModuleOptions>, clockToleranceSeconds = 0) =>
        startShopApp({
          syncPermissions: false,
          ...options,
          jwt: mode.local ? { secret: emulator.hmacSecret!, clockToleranceSeconds } : undefined,
        });
      [plain, strict, tolerant] = await Promise.all([
        start({}),
        start({ issuer: ISSUER, audience: ['shop', 'shop-admin'] }),
        start({}, 30),
      ]);
    });
    beforeEach(() => emulator.resetCounters());

    describe('exp', () => {
      it('refuses a token without exp (jsonwebtoken alone would accept it), locally', async () => {
        expectUnauthorized(await products(plain, token({})), 'invalid token');
        expectUnauthorized(await products(tolerant, token({})), 'invalid token');
        expect(upstreamCalls(emulator, [])).toBe(0);
      });

      it.each([
        ['a string', String(now() + 3600)],
        ['null', null],
        ['an object', { value: now() + 3600 }],
        ['a number in a string with spaces', ` ${now() + 3600} `],
        ['a fraction', now() + 3600.5],
        ['negative', -1],
        ['past year 9999', 253_402_300_800],
      ])('refuses exp that is %s, locally', async (_what, exp) => {
        expectUnauthorized(await products(plain, token({ exp })), 'invalid token');
        expect(upstreamCalls(emulator, [])).toBe(0);
      });

      it.each([
        ['exp', '1e309'],
        ['exp', '-1e309'],
        ['nbf', '1e309'],
        ['iat', '1e309'],
      ])('refuses %s: %s (Infinity once parsed), locally', async (claim, raw) => {
        const claims = { sub: 'editor', exp: now() + 3600, nbf: now() - 5, iat: now() };
        const payload = JSON.stringify(claims).replace(
          new RegExp(`"${claim}":-?\\d+`),
          `"${claim}":${raw}`,
        );
        expect(payload).toContain(raw);
        const crafted = craftToken(
          { alg: 'HS256', typ: 'JWT', kid: emulator.keyId },
          { raw: payload },
          emulator.hmacSecret!,
        );
        expectUnauthorized(await products(plain, crafted), 'invalid token');
        expect(upstreamCalls(emulator, [])).toBe(0);
      });

      it.each([
        ['a string', 'yesterday'],
        ['a fraction', 1.5],
        ['negative', -5],
      ])('refuses an iat that is %s, locally', async (_what, iat) => {
        expectUnauthorized(
          await products(plain, token({ exp: now() + 3600, iat })),
          'invalid token',
        );
        expect(upstreamCalls(emulator, [])).toBe(0);
      });

      it("refuses an expired token as 'token expired', locally", async () => {
        const answer = await products(plain, emulator.issueToken('editor', { ttlSeconds: -1 }));
        expectUnauthorized(answer, 'token expired');
        expect(answer.headers.get('www-authenticate')).toContain('error="invalid_token"');
        expect(upstreamCalls(emulator, [])).toBe(0);
      });

      it('accepts a token that expires in the future', async () => {
        const answer = await products(plain, token({ exp: now() + 60 }));
        expect(answer.status, show(answer)).toBe(200);
      });
    });

    describe('nbf', () => {
      it('refuses a token that is not valid yet, locally', async () => {
        const answer = await products(plain, token({ exp: now() + 3600, nbf: now() + 60 }));
        expectUnauthorized(answer, 'invalid token');
        expect(upstreamCalls(emulator, [])).toBe(0);
      });

      it('refuses a non-numeric nbf, locally', async () => {
        const answer = await products(plain, token({ exp: now() + 3600, nbf: 'yesterday' }));
        expectUnauthorized(answer, 'invalid token');
        expect(upstreamCalls(emulator, [])).toBe(0);
      });

      it('accepts a token whose nbf has passed', async () => {
        const answer = await products(plain, token({ exp: now() + 3600, nbf: now() - 5 }));
        expect(answer.status, show(answer)).toBe(200);
      });
    });

    describe('iss and aud (configured)', () => {
      const exp = (): number => now() + 3600;

      it('accepts the configured issuer with any of the configured audiences', async () => {
        for (const aud of ['shop', 'shop-admin', ['billing', 'shop']]) {
          const answer = await products(strict, token({ exp: exp(), iss: ISSUER, aud }));
          expect(answer.status, `${JSON.stringify(aud)}: ${show(answer)}`).toBe(200);
        }
      });

      it.each<[string, Record<string, unknown>]>([
        ['no iss', { aud: 'shop' }],
        ['another iss', { iss: 'https://evil.test', aud: 'shop' }],
        ['an iss that only starts like the right one', { iss: `${ISSUER}.evil.test`, aud: 'shop' }],
        ['iss as an array', { iss: [ISSUER], aud: 'shop' }],
        ['no aud', { iss: ISSUER }],
        ['another aud', { iss: ISSUER, aud: 'billing' }],
        ['an aud that differs in case', { iss: ISSUER, aud: 'SHOP' }],
        ['an empty aud list', { iss: ISSUER, aud: [] }],
      ])('refuses a token with %s, locally', async (_what, claims) => {
        const answer = await products(strict, token({ exp: exp(), ...claims }));
        expectUnauthorized(answer, 'invalid token');
        expect(upstreamCalls(emulator, [])).toBe(0);
      });
    });

    describe('iss and aud (not configured)', () => {
      const exp = (): number => now() + 3600;

      it('refuses a token minted for another audience: by default the audience is the service name', async () => {
        for (const aud of ['billing', ['billing', 'reports'], 'Shop', []]) {
          const answer = await products(plain, token({ exp: exp(), aud }));
          expectUnauthorized(answer, 'invalid token');
        }
        expect(upstreamCalls(emulator, [])).toBe(0);
      });

      it.each([
        ['shop', { aud: 'shop' }],
        ['a list naming shop', { aud: ['billing', 'shop'] }],
        ['no aud at all', {}],
        ['any iss', { iss: 'anyone' }],
      ])('accepts a token with %s', async (_what, claims) => {
        const answer = await products(plain, token({ exp: exp(), ...claims }));
        expect(answer.status, show(answer)).toBe(200);
      });

      it.each([
        ['a number', 42],
        ['a list with a number', ['shop', 7]],
        ['an object', { shop: true }],
      ])('refuses an aud that is %s, locally', async (_what, aud) => {
        expectUnauthorized(await products(plain, token({ exp: exp(), aud })), 'invalid token');
        expect(upstreamCalls(emulator, [])).toBe(0);
      });
    });

    if (mode.local)
      describe('clockToleranceSeconds', () => {
        it('default 0: a token expired 10 s ago is expired', async () => {
          const answer = await products(plain, token({ exp: now() - 10 }));
          expectUnauthorized(answer, 'token expired');
          expect(upstreamCalls(emulator, [])).toBe(0);
        });

        it('30: a token expired 10 s ago passes local verification', async () => {
          const answer = await products(tolerant, token({ exp: now() - 10 }));
          // Through the local checks to the user lookup, where the emulator (no leeway) refuses it.
          expect(emulator.requestCount('user')).toBe(1);
          expectUnauthorized(answer, 'invalid token');
        });

        it('30: a token expired 40 s ago is still expired', async () => {
          expectUnauthorized(await products(tolerant, token({ exp: now() - 40 })), 'token expired');
          expect(upstreamCalls(emulator, [])).toBe(0);
        });

        it('30: a token valid from 10 s in the future is accepted; default 0 refuses it', async () => {
          const early = token({ exp: now() + 3600, nbf: now() + 10 });
          expectUnauthorized(await products(plain, early), 'invalid token');
          expect(upstreamCalls(emulator, [])).toBe(0);
          const answer = await products(tolerant, early);
          expect(answer.status, show(answer)).toBe(200);
        });

        it.each([
          [301, true],
          [3600, true],
          [-1, true],
          [Number.NaN, true],
          [Number.POSITIVE_INFINITY, true],
          ['30', true],
          [300, false],
        ])('%s seconds: refused at startup = %s', async (seconds, refused) => {
          const starting = startApp(
            platform,
            shopAuth(emulator.url, {
              syncPermissions: false,
              jwt: { secret: emulator.hmacSecret!, clockToleranceSeconds: seconds as number },
            }),
          );
          if (refused) {
            await expect(starting).rejects.toBeInstanceOf(ApexAuthOptionsError);
            await expect(starting).rejects.toThrow(
              /^jwt\.clockToleranceSeconds: must be a number of seconds from 0 to 300/,
            );
          } else {
            await (await starting).close();
          }
        });
      });
  });
});
