import { createHmac, createPublicKey, verify, type JsonWebKey } from 'node:crypto';

import { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, call, decodeJwt, login, type Json } from './helpers.js';

const users = [
  { id: 'id-alice', username: 'alice', password: 'alice-pw' },
  { id: 'id-bob', username: 'bob', password: 'bob-pw' },
];

function flipCharAt(text: string, index: number): string {
  const replacement = text[index] === 'A' ? 'B' : 'A';
  return `${text.slice(0, index)}${replacement}${text.slice(index + 1)}`;
}

function tamperSignature(token: string): string {
  const signatureStart = token.lastIndexOf('.') + 1;
  return flipCharAt(token, signatureStart + 5);
}

describe('HS256 signing', () => {
  let emulator: AuthServiceEmulator;
  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({ seed: { users } });
  });
  afterAll(() => emulator.stop());

  it('defaults to HS256 with a random secret and no public key', () => {
    expect(emulator.hmacSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(emulator.publicKeyPem).toBeUndefined();
    expect(emulator.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emulator.jwksUri).toBe(`${emulator.url}/.well-known/jwks.json`);
  });

  it('issues login tokens signed with the secret, with the standard claims', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { access_token: token } = await login(emulator, 'alice', 'alice-pw');
    const [head, body, signature] = token.split('.');
    const expected = createHmac('sha256', emulator.hmacSecret!)
      .update(`${head}.${body}`)
      .digest('base64url');
    expect(signature).toBe(expected);

    const { header, payload } = decodeJwt(token);
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT', kid: emulator.keyId });
    expect(Object.keys(payload).sort()).toEqual(['exp', 'iat', 'jti', 'sub']);
    expect(payload.sub).toBe('alice');
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(payload.exp).toBe(payload.iat + 3600);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives every token its own jti', () => {
    const first = decodeJwt(emulator.issueToken('alice')).payload;
    const second = decodeJwt(emulator.issueToken('alice')).payload;
    expect(first.jti).not.toBe(second.jti);
  });

  it('answers 404 for the JWKS, which HS256 does not have, and still counts it', async () => {
    const before = emulator.requestCount('jwks');
    const answer = await call(emulator, '/.well-known/jwks.json');
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({ detail: 'Not Found' });
    expect(emulator.requestCount('jwks')).toBe(before + 1);
  });

  it('uses a configured secret', async () => {
    const other = await AuthServiceEmulator.start({
      signing: { algorithm: 'HS256', secret: 'shared-secret' },
      seed: { users },
    });
    try {
      expect(other.hmacSecret).toBe('shared-secret');
      const token = other.issueToken('bob');
      const [head, body, signature] = token.split('.');
      expect(signature).toBe(
        createHmac('sha256', 'shared-secret').update(`${head}.${body}`).digest('base64url'),
      );
      // A token of another emulator (another secret) is refused.
      const foreign = await call(emulator, '/auth/user', bearer(token));
      expect(foreign.status).toBe(401);
    } finally {
      await other.stop();
    }
  });
});

describe('RS256 signing', () => {
  let emulator: AuthServiceEmulator;
  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({
      signing: { algorithm: 'RS256' },
      issuer: 'https://auth.example',
      audience: 'billing',
      tokenTtlSeconds: 120,
      seed: { users },
    });
  });
  afterAll(() => emulator.stop());

  it('exposes the public key and no secret', () => {
    expect(emulator.hmacSecret).toBeUndefined();
    expect(emulator.publicKeyPem).toMatch(
      /^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/,
    );
  });

  it('serves a JWKS whose key verifies login tokens', async () => {
    const jwks: Json = await (await fetch(emulator.jwksUri)).json();
    expect(jwks.keys).toHaveLength(1);
    const [jwk] = jwks.keys;
    expect(jwk).toMatchObject({ kty: 'RSA', kid: emulator.keyId, alg: 'RS256', use: 'sig' });
    expect(Object.keys(jwk).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);

    const { access_token: token } = await login(emulator, 'bob', 'bob-pw');
    const [head, body, signature] = token.split('.');
    const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    const data = Buffer.from(`${head}.${body}`);
    expect(verify('sha256', data, key, Buffer.from(signature, 'base64url'))).toBe(true);
    // The PEM is the same key.
    expect(
      verify('sha256', data, emulator.publicKeyPem!, Buffer.from(signature, 'base64url')),
    ).toBe(true);

    const { header, payload } = decodeJwt(token);
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: emulator.keyId });
    expect(payload).toMatchObject({ sub: 'bob', iss: 'https://auth.example', aud: 'billing' });
    expect(payload.exp - payload.iat).toBe(120);
  });

  it('refuses a token signed with HS256 using the public key as the secret (alg confusion)', async () => {
    const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
    const body = Buffer.from(
      JSON.stringify({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 60 }),
    ).toString('base64url');
    const signature = createHmac('sha256', emulator.publicKeyPem!)
      .update(`${head}.${body}`)
      .digest('base64url');
    const answer = await call(emulator, '/auth/user', bearer(`${head}.${body}.${signature}`));
    expect(answer.status).toBe(401);
  });
});

describe.each([
  { name: 'HS256', signing: undefined },
  { name: 'RS256', signing: { algorithm: 'RS256' as const } },
])('Bearer token validation ($name)', ({ signing }) => {
  let emulator: AuthServiceEmulator;
  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({ signing, seed: { users } });
  });
  afterAll(() => emulator.stop());

  const invalid = { detail: 'Could not validate credentials' };
  const now = (): number => Math.floor(Date.now() / 1000);

  async function expectRefused(token: string): Promise<void> {
    const answer = await call(emulator, '/auth/user', bearer(token));
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual(invalid);
    expect(answer.headers.get('www-authenticate')).toBe('Bearer');
  }

  it('accepts a valid token', async () => {
    const answer = await call(emulator, '/auth/user', bearer(emulator.issueToken('alice')));
    expect(answer.status).toBe(200);
    expect(answer.body.username).toBe('alice');
  });

  it('refuses an expired token', async () => {
    await expectRefused(emulator.issueToken('alice', { ttlSeconds: -1 }));
  });

  it('refuses a tampered signature', async () => {
    await expectRefused(tamperSignature(emulator.issueToken('alice')));
  });

  it('refuses a non-canonical spelling of a valid signature', async () => {
    const token = emulator.issueToken('alice');
    // The last character carries spare bits; changing only those keeps the bytes the same.
    const last = token.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const value = alphabet.indexOf(last);
    const sibling = alphabet[value ^ 1];
    const twin = `${token.slice(0, -1)}${sibling}`;
    const signature = (t: string): Buffer =>
      Buffer.from(t.slice(t.lastIndexOf('.') + 1), 'base64url');
    expect(signature(twin).equals(signature(token))).toBe(true);
    await expectRefused(twin);
  });

  it('refuses a payload swapped under a valid signature', async () => {
    const [, , signature] = emulator.issueToken('alice').split('.');
    const [head, body] = emulator.issueToken('bob').split('.');
    await expectRefused(`${head}.${body}.${signature}`);
  });

  it('refuses a revoked token but keeps other tokens of the user valid', async () => {
    const revoked = emulator.issueToken('alice');
    const other = emulator.issueToken('alice');
    expect((await call(emulator, '/auth/user', bearer(revoked))).status).toBe(200);
    emulator.revokeToken(revoked);
    await expectRefused(revoked);
    expect((await call(emulator, '/auth/user', bearer(other))).status).toBe(200);
  });

  it('refuses a header naming another algorithm, even with a valid signature', async () => {
    await expectRefused(emulator.signToken({ sub: 'alice', exp: now() + 60 }, { alg: 'none' }));
    await expectRefused(
      emulator.signToken({ sub: 'alice', exp: now() + 60 }, { alg: signing ? 'HS256' : 'RS256' }),
    );
  });

  it('refuses tokens without a usable exp or sub, or for an unknown user', async () => {
    await expectRefused(emulator.signToken({ sub: 'alice' }));
    await expectRefused(emulator.signToken({ sub: 'alice', exp: String(now() + 60) }));
    await expectRefused(emulator.signToken({ exp: now() + 60 }));
    await expectRefused(emulator.signToken({ sub: 42, exp: now() + 60 }));
    await expectRefused(emulator.signToken({ sub: 'nobody', exp: now() + 60 }));
  });

  it('accepts a raw token whose sub is a user id', async () => {
    const answer = await call(
      emulator,
      '/auth/user',
      bearer(emulator.signToken({ sub: 'id-bob', exp: now() + 60 })),
    );
    expect(answer.status).toBe(200);
    expect(answer.body.username).toBe('bob');
  });

  it('refuses malformed and oversized tokens', async () => {
    await expectRefused('abc');
    await expectRefused('a.b');
    await expectRefused('a.b.c.d');
    await expectRefused('..');
    await expectRefused('e30.e30.');
    await expectRefused('not!base64.e30.e30');
    await expectRefused(`${'A'.repeat(8000)}.${'B'.repeat(4000)}.${'C'.repeat(300)}`);
    const [head, , signature] = emulator.issueToken('alice').split('.');
    await expectRefused(`${head}.${Buffer.from('[1,2]').toString('base64url')}.${signature}`);
  });

  it('answers "Not authenticated" without a Bearer credential', async () => {
    const token = emulator.issueToken('alice');
    const headersList: Record<string, string>[] = [
      {},
      { authorization: '' },
      { authorization: '   ' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer    ' },
      { authorization: `Basic ${token}` },
      { authorization: token },
    ];
    for (const headers of headersList) {
      const answer = await call(emulator, '/auth/user', { headers });
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ detail: 'Not authenticated' });
      expect(answer.headers.get('www-authenticate')).toBe('Bearer');
    }
  });

  it('takes the scheme case-insensitively', async () => {
    const token = emulator.issueToken('alice');
    const answer = await call(emulator, '/auth/user', {
      headers: { authorization: `bearer ${token}` },
    });
    expect(answer.status).toBe(200);
  });
});

describe('issueToken and signToken', () => {
  let emulator: AuthServiceEmulator;
  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({ issuer: 'iss-1', seed: { users } });
  });
  afterAll(() => emulator.stop());

  it('issues a token like a login, with claims added or replaced', async () => {
    const token = emulator.issueToken('id-alice', {
      ttlSeconds: 30,
      claims: { scope: 'read', iss: 'other-issuer' },
    });
    const { payload } = decodeJwt(token);
    expect(payload).toMatchObject({ sub: 'alice', scope: 'read', iss: 'other-issuer' });
    expect(payload.exp - payload.iat).toBe(30);
    expect((await call(emulator, '/auth/user', bearer(token))).status).toBe(200);
  });

  it('signs exactly the payload given, merging header fields', () => {
    const token = emulator.signToken({ hello: 'world' }, { kid: 'custom', cty: 'x' });
    const { header, payload } = decodeJwt(token);
    expect(payload).toEqual({ hello: 'world' });
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'custom', cty: 'x' });
  });

  it('throws for an unknown user or a non-integer lifetime', () => {
    expect(() => emulator.issueToken('nobody')).toThrow(/Unknown user/);
    expect(() => emulator.issueToken('alice', { ttlSeconds: Number.NaN })).toThrow(RangeError);
  });
});
