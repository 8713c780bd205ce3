import { describe, expect, it } from 'vitest';
import { AuthenticationFailure } from '../../lib/verification/authentication-failure.js';
import { screenToken, type TokenClaimsPolicy } from '../../lib/verification/token-screen.js';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const NOW = 1_700_000_000_000;
const policy: TokenClaimsPolicy = {
  audiences: ['shop'],
  audienceRequired: false,
  clockToleranceSeconds: 0,
};
const token = (payload: unknown, header: unknown = { alg: 'HS256' }): string =>
  `${b64(header)}.${b64(payload)}.c2ln`;
const refusalOf = (jwt: string, rules = policy): AuthenticationFailure => {
  try {
    screenToken(jwt, rules, NOW);
  } catch (error) {
    expect(error).toBeInstanceOf(AuthenticationFailure);
    return error as AuthenticationFailure;
  }
  throw new Error('passed the screen');
};
const exp = NOW / 1000 + 60;

describe('screenToken', () => {
  it('passes a well-formed token and gives its expiry', () => {
    expect(screenToken(token({ exp, aud: ['x', 'shop'] }), policy, NOW)).toEqual({
      header: { alg: 'HS256' },
      expiresAt: exp * 1000,
    });
  });

  it.each([
    ['two parts', 'a.b', 'not a compact JWS'],
    ['no signature', `${b64({ alg: 'HS256' })}.${b64({ exp })}.`, 'unsigned'],
    ['a header that is not an object', token({ exp }, [1]), 'header is not a JSON object'],
    ['no alg', token({ exp }, { typ: 'JWT' }), 'no alg'],
    ['alg none', token({ exp }, { alg: 'NoNe' }), 'alg none'],
    ['a jku', token({ exp }, { alg: 'HS256', jku: 'http://x' }), 'header parameter jku'],
    ['a payload that is not an object', token('str'), 'payload is not a JSON object'],
    ['no exp', token({ sub: 'a' }), 'no exp'],
    ['a fractional exp', token({ exp: exp + 0.5 }), 'malformed exp'],
    ['an iat that is a string', token({ exp, iat: 'now' }), 'malformed iat'],
    ['an nbf in the future', token({ exp, nbf: exp }), 'not valid yet (nbf)'],
    ['another audience', token({ exp, aud: 'billing' }), 'audience'],
    ['a malformed audience', token({ exp, aud: [1] }), 'malformed aud'],
  ])('refuses %s', (_what, jwt, detail) => {
    expect(refusalOf(jwt)).toMatchObject({ reason: 'invalid token', detail });
  });

  it('calls an expired token expired, with the clock tolerance applied', () => {
    expect(refusalOf(token({ exp: NOW / 1000 - 1 })).reason).toBe('token expired');
    expect(() =>
      screenToken(token({ exp: NOW / 1000 - 1 }), { ...policy, clockToleranceSeconds: 5 }, NOW),
    ).not.toThrow();
  });

  it('requires aud and iss as configured', () => {
    const strict = { ...policy, audienceRequired: true, issuers: ['https://auth'] };
    expect(refusalOf(token({ exp, iss: 'https://auth' }), strict).detail).toBe('no aud');
    expect(refusalOf(token({ exp, aud: 'shop' }), strict).detail).toBe('issuer');
    expect(() =>
      screenToken(token({ exp, aud: 'shop', iss: 'https://auth' }), strict, NOW),
    ).not.toThrow();
  });
});
