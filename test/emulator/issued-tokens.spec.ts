import { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { call, form, login } from './helpers.js';

const seed = {
  users: [
    { username: 'alice', password: 'alice-pw' },
    { username: 'bob', password: 'bob-pw' },
  ],
  clients: [{ clientId: 'web', clientSecret: 'web-secret' }],
};

describe('issuedTokens()', () => {
  let emulator: AuthServiceEmulator;
  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({ seed, refreshTokens: true });
  });
  afterAll(() => emulator.stop());

  it('lists every access and refresh token, oldest first, whoever issued it', async () => {
    expect(emulator.issuedTokens()).toEqual([]);

    const byLogin = await login(emulator, 'alice', 'alice-pw');
    const refreshed = await call(
      emulator,
      '/auth/login',
      form({ grant_type: 'refresh_token', refresh_token: byLogin.refresh_token }),
    );
    expect(refreshed.status).toBe(200);
    const code = emulator.issueCode('web', 'bob');
    const exchanged = await call(
      emulator,
      '/auth/oauth/token',
      form({ code, client_id: 'web', client_secret: 'web-secret' }),
    );
    expect(exchanged.status).toBe(200);
    const issued = emulator.issueToken('bob');
    const expired = emulator.issueToken('bob', { ttlSeconds: -10 });
    const crafted = emulator.signToken({ sub: 'alice' }, { kid: 'other' });
    emulator.revokeToken(issued);

    expect(emulator.issuedTokens()).toEqual([
      byLogin.access_token,
      byLogin.refresh_token,
      refreshed.body.access_token,
      refreshed.body.refresh_token,
      exchanged.body.access_token,
      exchanged.body.refresh_token,
      issued,
      expired,
      crafted,
    ]);
  });

  it('adds nothing for a refused login, a refused refresh or a refused code', async () => {
    const before = emulator.issuedTokens();
    expect(
      (await call(emulator, '/auth/login', form({ username: 'alice', password: 'x' }))).status,
    ).toBe(401);
    expect(
      (
        await call(
          emulator,
          '/auth/login',
          form({ grant_type: 'refresh_token', refresh_token: 'nope' }),
        )
      ).status,
    ).toBe(401);
    expect(
      (
        await call(
          emulator,
          '/auth/oauth/token',
          form({ code: 'nope', client_id: 'web', client_secret: 'web-secret' }),
        )
      ).status,
    ).toBe(401);
    expect(emulator.issuedTokens()).toEqual(before);
  });

  it('answers a copy, and each emulator lists only its own tokens', async () => {
    const copy = emulator.issuedTokens();
    copy.length = 0;
    expect(emulator.issuedTokens().length).toBeGreaterThan(0);

    const other = await AuthServiceEmulator.start({ seed });
    try {
      const token = other.issueToken('alice');
      expect(other.issuedTokens()).toEqual([token]);
      expect(emulator.issuedTokens()).not.toContain(token);
    } finally {
      await other.stop();
    }
  });
});
