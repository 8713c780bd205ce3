import { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, call, decodeJwt, form } from './helpers.js';

const seed = {
  users: [
    { username: 'alice', password: 'alice-pw' },
    { username: 'bob', password: 'bob-pw' },
  ],
  clients: [
    { clientId: 'web', clientSecret: 'web-secret' },
    { clientId: 'cli', clientSecret: 'cli-secret' },
  ],
};

function expectNoInputEcho(detail: unknown[]): void {
  for (const issue of detail)
    expect(Object.keys(issue as object).sort()).toEqual(['loc', 'msg', 'type']);
}

describe('POST /auth/login, password grant (endpoint 1)', () => {
  let emulator: AuthServiceEmulator;
  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({ seed });
  });
  afterAll(() => emulator.stop());

  it('answers a bearer token, without refresh fields while refresh tokens are off', async () => {
    const answer = await call(
      emulator,
      '/auth/login',
      form({
        grant_type: 'password',
        username: 'alice',
        password: 'alice-pw',
        scope: '',
        client_id: 'placeholder',
        client_secret: 'placeholder',
      }),
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json');
    expect(Object.keys(answer.body).sort()).toEqual(['access_token', 'token_type']);
    expect(answer.body.token_type).toBe('bearer');
    const user = await call(emulator, '/auth/user', bearer(answer.body.access_token));
    expect(user.body.username).toBe('alice');
  });

  it('takes an absent or empty grant_type as the password grant', async () => {
    for (const grant of [{}, { grant_type: '' }] as Record<string, string>[]) {
      const answer = await call(
        emulator,
        '/auth/login',
        form({ ...grant, username: 'bob', password: 'bob-pw' }),
      );
      expect(answer.status).toBe(200);
      expect(decodeJwt(answer.body.access_token).payload.sub).toBe('bob');
    }
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    for (const fields of [
      { username: 'alice', password: 'wrong' },
      { username: 'alice', password: 'bob-pw' },
      { username: 'nobody', password: 'alice-pw' },
    ]) {
      const answer = await call(emulator, '/auth/login', form(fields));
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ detail: 'Incorrect username or password' });
      expect(answer.headers.get('www-authenticate')).toBe('Bearer');
    }
  });

  it('answers 422 listing the missing fields, an empty value counting as missing', async () => {
    const answer = await call(emulator, '/auth/login', form({ password: '' }));
    expect(answer.status).toBe(422);
    expect(answer.body.detail).toEqual([
      { loc: ['body', 'username'], msg: 'Field required', type: 'missing' },
      { loc: ['body', 'password'], msg: 'Field required', type: 'missing' },
    ]);
    const onlyPassword = await call(emulator, '/auth/login', form({ username: 'alice' }));
    expect(onlyPassword.body.detail).toEqual([
      { loc: ['body', 'password'], msg: 'Field required', type: 'missing' },
    ]);
  });

  it('answers 422 for a body that is not a form', async () => {
    const answer = await call(emulator, '/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'alice-pw' }),
    });
    expect(answer.status).toBe(422);
    expect(answer.body.detail.map((issue: { loc: string[] }) => issue.loc[1])).toEqual([
      'username',
      'password',
    ]);
    const noBody = await call(emulator, '/auth/login', { method: 'POST' });
    expect(noBody.status).toBe(422);
  });

  it('answers 422 for another grant type, without echoing it', async () => {
    const answer = await call(
      emulator,
      '/auth/login',
      form({ grant_type: 'client_credentials', username: 'alice', password: 'alice-pw' }),
    );
    expect(answer.status).toBe(422);
    expect(answer.body.detail).toEqual([
      {
        loc: ['body', 'grant_type'],
        msg: "String should match pattern '^password$'",
        type: 'string_pattern_mismatch',
      },
    ]);
    expect(answer.text).not.toContain('client_credentials');
    expect(answer.text).not.toContain('alice-pw');
  });

  it('refuses the refresh grant while refresh tokens are off, counting it as a refresh', async () => {
    const before = emulator.requestCounts();
    const answer = await call(
      emulator,
      '/auth/login',
      form({ grant_type: 'refresh_token', refresh_token: 'anything' }),
    );
    expect(answer.status).toBe(422);
    expect(answer.body.detail[0]).toEqual({
      loc: ['body', 'grant_type'],
      msg: "String should match pattern '^password$'",
      type: 'string_pattern_mismatch',
    });
    expectNoInputEcho(answer.body.detail);
    expect(emulator.requestCount('refresh')).toBe(before.refresh + 1);
    expect(emulator.requestCount('login')).toBe(before.login);
  });
});

describe('refresh tokens (endpoint 11)', () => {
  let emulator: AuthServiceEmulator;
  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({ seed, refreshTokens: true, tokenTtlSeconds: 900 });
  });
  afterAll(() => emulator.stop());

  const refresh = (token: string) =>
    call(emulator, '/auth/login', form({ grant_type: 'refresh_token', refresh_token: token }));

  it('adds refresh_token and expires_in to login answers', async () => {
    const answer = await call(
      emulator,
      '/auth/login',
      form({ username: 'alice', password: 'alice-pw' }),
    );
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body).sort()).toEqual([
      'access_token',
      'expires_in',
      'refresh_token',
      'token_type',
    ]);
    expect(answer.body.expires_in).toBe(900);
    expect(answer.body.refresh_token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  });

  it('rotates: a refresh answers new tokens and the old refresh token stops working', async () => {
    const first = await call(
      emulator,
      '/auth/login',
      form({ username: 'bob', password: 'bob-pw' }),
    );
    const refreshed = await refresh(first.body.refresh_token);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.token_type).toBe('bearer');
    expect(refreshed.body.expires_in).toBe(900);
    expect(refreshed.body.refresh_token).not.toBe(first.body.refresh_token);
    expect(refreshed.body.access_token).not.toBe(first.body.access_token);
    const user = await call(emulator, '/auth/user', bearer(refreshed.body.access_token));
    expect(user.body.username).toBe('bob');

    const reused = await refresh(first.body.refresh_token);
    expect(reused.status).toBe(401);
    expect(reused.body).toEqual({ detail: 'Invalid refresh token' });
    expect(reused.headers.get('www-authenticate')).toBe('Bearer');

    expect((await refresh(refreshed.body.refresh_token)).status).toBe(200);
    expect(emulator.requestCount('refresh')).toBeGreaterThanOrEqual(3);
  });

  it('refuses an unknown or revoked refresh token', async () => {
    expect((await refresh('never-issued')).status).toBe(401);
    const { body } = await call(
      emulator,
      '/auth/login',
      form({ username: 'bob', password: 'bob-pw' }),
    );
    emulator.revokeToken(body.refresh_token);
    expect((await refresh(body.refresh_token)).status).toBe(401);
  });

  it('answers 422 without a refresh_token, and for other grant types', async () => {
    const missing = await call(emulator, '/auth/login', form({ grant_type: 'refresh_token' }));
    expect(missing.status).toBe(422);
    expect(missing.body.detail).toEqual([
      { loc: ['body', 'refresh_token'], msg: 'Field required', type: 'missing' },
    ]);
    const other = await call(
      emulator,
      '/auth/login',
      form({ grant_type: 'implicit', username: 'bob', password: 'bob-pw' }),
    );
    expect(other.status).toBe(422);
    expect(other.body.detail[0].msg).toBe(
      "String should match pattern '^(password|refresh_token)$'",
    );
  });

  it('gives refresh tokens on the code exchange too', async () => {
    const code = emulator.issueCode('web', 'alice');
    const answer = await call(
      emulator,
      '/auth/oauth/token',
      form({ code, client_id: 'web', client_secret: 'web-secret' }),
    );
    expect(answer.status).toBe(200);
    expect(answer.body.expires_in).toBe(900);
    expect((await refresh(answer.body.refresh_token)).status).toBe(200);
  });
});

describe('POST /auth/oauth/token (endpoint 2)', () => {
  let emulator: AuthServiceEmulator;
  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({ seed });
  });
  afterAll(() => emulator.stop());

  const exchange = (fields: Record<string, string>) =>
    call(emulator, '/auth/oauth/token', form(fields));

  it("exchanges a code for a token of the code's user, once", async () => {
    const code = emulator.issueCode('web', 'bob');
    const answer = await exchange({ code, client_id: 'web', client_secret: 'web-secret' });
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body).sort()).toEqual(['access_token', 'token_type']);
    const user = await call(emulator, '/auth/user', bearer(answer.body.access_token));
    expect(user.body.username).toBe('bob');

    const again = await exchange({ code, client_id: 'web', client_secret: 'web-secret' });
    expect(again.status).toBe(401);
    expect(again.body).toEqual({ detail: 'Invalid code' });
  });

  it('refuses an unknown client or a wrong secret without using up the code', async () => {
    const code = emulator.issueCode('web', 'alice');
    for (const client of [
      { client_id: 'web', client_secret: 'cli-secret' },
      { client_id: 'nope', client_secret: 'web-secret' },
    ]) {
      const answer = await exchange({ code, ...client });
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ detail: 'Invalid client' });
      expect(answer.text).not.toContain('secret');
    }
    expect((await exchange({ code, client_id: 'web', client_secret: 'web-secret' })).status).toBe(
      200,
    );
  });

  it('refuses an unknown code and a code issued to another client', async () => {
    const unknown = await exchange({
      code: 'bogus',
      client_id: 'web',
      client_secret: 'web-secret',
    });
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual({ detail: 'Invalid code' });

    const code = emulator.issueCode('web', 'alice');
    const stolen = await exchange({ code, client_id: 'cli', client_secret: 'cli-secret' });
    expect(stolen.status).toBe(401);
    expect(stolen.body).toEqual({ detail: 'Invalid code' });
    expect((await exchange({ code, client_id: 'web', client_secret: 'web-secret' })).status).toBe(
      200,
    );
  });

  it('answers 422 listing missing fields, and for a body that is not a form', async () => {
    const answer = await exchange({ client_id: 'web' });
    expect(answer.status).toBe(422);
    expect(answer.body.detail).toEqual([
      { loc: ['body', 'code'], msg: 'Field required', type: 'missing' },
      { loc: ['body', 'client_secret'], msg: 'Field required', type: 'missing' },
    ]);
    const json = await call(emulator, '/auth/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'x', client_id: 'web', client_secret: 'web-secret' }),
    });
    expect(json.status).toBe(422);
    expect(json.body.detail).toHaveLength(3);
  });

  it('counts exchanges', () => {
    expect(emulator.requestCount('oauthToken')).toBeGreaterThanOrEqual(8);
  });

  it('refuses to issue codes for unknown clients or users', () => {
    expect(() => emulator.issueCode('nope', 'alice')).toThrow(/Unknown client/);
    expect(() => emulator.issueCode('web', 'nobody')).toThrow(/Unknown user/);
  });
});
