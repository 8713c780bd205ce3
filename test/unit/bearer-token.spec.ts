import { describe, expect, it } from 'vitest';
import {
  MAX_TOKEN_LENGTH,
  readBearerToken as readCredential,
} from '../../lib/auth/bearer-token.js';

/** What was read: the token, or the problem. */
const readBearerToken = (request: Parameters<typeof readCredential>[0]) => {
  const result = readCredential(request);
  return 'credential' in result ? { token: result.credential.token } : result;
};

const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';
const request = (authorization?: string, rawHeaders?: string[]) => ({
  headers: authorization === undefined ? {} : { authorization },
  rawHeaders: rawHeaders ?? (authorization === undefined ? [] : ['Authorization', authorization]),
});

describe('readBearerToken', () => {
  it('reads a Bearer token, the scheme in any case', () => {
    expect(readBearerToken(request(`Bearer ${jwt}`))).toEqual({ token: jwt });
    expect(readBearerToken(request(`bearer ${jwt}`))).toEqual({ token: jwt });
    expect(readBearerToken(request(`BEARER  ${jwt}`))).toEqual({ token: jwt });
  });

  it('tells a missing header from a malformed one', () => {
    expect(readBearerToken(request())).toEqual({ problem: 'missing' });
    expect(readBearerToken(request(''))).toEqual({ problem: 'missing' });
    for (const header of [
      `Basic ${jwt}`,
      'Bearer',
      'Bearer not-a-jwt',
      `Bearer ${jwt} extra`,
      `Bearer ${jwt}.x`,
      `Token ${jwt}`,
    ]) {
      expect(readBearerToken(request(header)), header).toEqual({ problem: 'malformed' });
    }
  });

  it('refuses a huge token and two Authorization headers', () => {
    const huge = `Bearer ${'a'.repeat(MAX_TOKEN_LENGTH)}.b.c`;
    expect(readBearerToken(request(huge))).toEqual({ problem: 'malformed' });
    const twice = request(`Bearer ${jwt}`, [
      'authorization',
      `Bearer ${jwt}`,
      'AUTHORIZATION',
      'Bearer other.x.y',
    ]);
    expect(readBearerToken(twice)).toEqual({ problem: 'malformed' });
  });

  it('reads Fastify raw headers too', () => {
    const fastify = {
      headers: { authorization: `Bearer ${jwt}` },
      raw: { rawHeaders: ['authorization', 'a', 'authorization', 'b'] },
    };
    expect(readBearerToken(fastify)).toEqual({ problem: 'malformed' });
  });
});
