import { HttpService } from '@nestjs/axios';
import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthApi } from '../../lib/client/index.js';
import {
  ApexAuthOptionsError,
  AuthServiceNotFoundError,
  AuthServiceUnauthorizedError,
} from '../../lib/errors/index.js';
import {
  ADMIN,
  ALICE,
  CLIENT,
  SERVICE,
  expectNoSecrets,
  plainClient,
  rejectionOf,
  startEmulator,
  thrownBy,
} from './client-fixtures.js';

describe('AuthApi: login, refresh, code exchange', () => {
  let emulator: AuthServiceEmulator;
  let refreshing: AuthServiceEmulator;

  beforeAll(async () => {
    [emulator, refreshing] = await Promise.all([
      startEmulator(),
      startEmulator({ refreshTokens: true, tokenTtlSeconds: 900 }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([emulator.stop(), refreshing.stop()]);
  });

  it('logs in with a password and gets a token of that user', async () => {
    const auth = plainClient(emulator);
    const tokens = await auth.login(ALICE.username, ALICE.password);
    expect(tokens).toEqual({ accessToken: expect.any(String), tokenType: 'bearer' });
    expect(tokens).not.toHaveProperty('refreshToken');
    expect((await auth.forToken(tokens.accessToken).user()).username).toBe(ALICE.username);
  });

  it('also logs in without an oauthClient (empty placeholders)', async () => {
    const auth = plainClient(emulator, { oauthClient: undefined });
    await expect(auth.login(ALICE.username, ALICE.password)).resolves.toHaveProperty('accessToken');
  });

  it.each([
    ['a wrong password', ALICE.username, 'not-the-password'],
    ['an unknown user', 'nobody', ALICE.password],
  ])('refuses %s with AuthServiceUnauthorizedError', async (_case, username, password) => {
    const error = await rejectionOf(plainClient(emulator).login(username, password));
    expect(error).toBeInstanceOf(AuthServiceUnauthorizedError);
    expect(error).toMatchObject({ operation: 'login', status: 401 });
    expectNoSecrets(error, [password, ALICE.password, CLIENT.clientSecret]);
  });

  it('reads refresh_token and expires_in when the auth-service sends them', async () => {
    const tokens = await plainClient(refreshing).login(ALICE.username, ALICE.password);
    expect(tokens).toEqual({
      accessToken: expect.any(String),
      tokenType: 'bearer',
      refreshToken: expect.any(String),
      expiresIn: 900,
    });
  });

  it('refreshes with rotation: the new tokens work, the old refresh token is spent', async () => {
    const auth = plainClient(refreshing);
    const first = await auth.login(ALICE.username, ALICE.password);
    const second = await auth.refresh(first.refreshToken!);
    expect(second.refreshToken).toEqual(expect.any(String));
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect((await auth.forToken(second.accessToken).user()).username).toBe(ALICE.username);

    const reused = await rejectionOf(auth.refresh(first.refreshToken!));
    expect(reused).toBeInstanceOf(AuthServiceUnauthorizedError);
    expect(reused).toMatchObject({ operation: 'refresh' });
    expectNoSecrets(reused, [first.refreshToken!]);
  });

  it('reports a missing refresh endpoint as AuthServiceNotFoundError', async () => {
    const error = await rejectionOf(plainClient(emulator).refresh('some-refresh-token'));
    expect(error).toBeInstanceOf(AuthServiceNotFoundError);
    expect(error).toMatchObject({ operation: 'refresh' });
    expect([404, 405]).toContain((error as AuthServiceNotFoundError).status);
    expectNoSecrets(error, ['some-refresh-token']);
  });

  it('exchanges an authorization code once, as the configured OAuth client', async () => {
    const auth = plainClient(emulator);
    const code = emulator.issueCode(CLIENT.clientId, ALICE.username);
    const tokens = await auth.exchangeCode(code);
    expect((await auth.forToken(tokens.accessToken).user()).username).toBe(ALICE.username);

    const again = await rejectionOf(auth.exchangeCode(code));
    expect(again).toBeInstanceOf(AuthServiceUnauthorizedError);
    expect(again).toMatchObject({ operation: 'exchangeCode' });
    expectNoSecrets(again, [code, CLIENT.clientSecret]);
  });

  it('refuses a code exchange with a wrong client secret', async () => {
    const auth = plainClient(emulator, {
      oauthClient: { clientId: CLIENT.clientId, clientSecret: 'wrong-SECRET-f6' },
    });
    const code = emulator.issueCode(CLIENT.clientId, ALICE.username);
    const error = await rejectionOf(auth.exchangeCode(code));
    expect(error).toBeInstanceOf(AuthServiceUnauthorizedError);
    expectNoSecrets(error, ['wrong-SECRET-f6', code]);
  });

  it('needs an oauthClient to exchange a code', async () => {
    const auth = plainClient(emulator, { oauthClient: undefined });
    emulator.resetCounters();
    const error = await rejectionOf(auth.exchangeCode('a-code'));
    expect(error).toBeInstanceOf(ApexAuthOptionsError);
    expect(error).toMatchObject({ option: 'oauthClient' });
    expect(emulator.requestCount('oauthToken')).toBe(0);
  });

  it('ignores what the application configured on its axios instance', async () => {
    const instance = axios.create({
      baseURL: 'http://127.0.0.1:9/elsewhere/',
      timeout: 1,
      maxRedirects: 5,
      validateStatus: (status) => status === 299,
      responseType: 'json',
      transformResponse: [() => ({ hijacked: true })],
    });
    const auth = new AuthApi(new HttpService(instance), {
      baseUrl: `${emulator.url}/`, // a trailing slash is tolerated
      serviceName: SERVICE,
    });
    const tokens = await auth.login(ALICE.username, ALICE.password);
    expect((await auth.forToken(tokens.accessToken).user()).username).toBe(ALICE.username);
  });
});

describe('AuthApi.forToken', () => {
  const auth = plainClient({ url: 'http://127.0.0.1:9' });

  it.each([
    ['empty', ''],
    ['with a space', 'abc def'],
    ['with a newline', 'abc\nInjected: header'],
    ['with a tab', 'abc\tdef'],
    ['with a control character', 'abc\u0000def'],
    ['with non-ASCII characters', 'tökén'],
    ['not a string', 42 as unknown as string],
  ])('refuses a token %s with a TypeError that does not quote it', (_case, token) => {
    const error = thrownBy(() => auth.forToken(token));
    expect(error).toBeInstanceOf(TypeError);
    if (String(token).length > 0) expect(error.message).not.toContain(String(token));
  });

  it('takes a JWT-shaped token without sending anything', () => {
    expect(() => auth.forToken('aaa.bbb.ccc')).not.toThrow();
  });
});

describe('AuthApi options', () => {
  const http = new HttpService(axios.create());
  const valid = { baseUrl: 'http://auth:8000', serviceName: SERVICE };

  it.each([
    ['baseUrl', { baseUrl: 'auth:8000/x' }],
    ['baseUrl', { baseUrl: 'auth' }],
    ['baseUrl', { baseUrl: 'ftp://auth' }],
    ['baseUrl', { baseUrl: 'http://user:SECRET-url@auth' }],
    ['baseUrl', { baseUrl: 'http://auth/?x=1' }],
    ['baseUrl', { baseUrl: 42 }],
    ['serviceName', { serviceName: '' }],
    ['serviceName', { serviceName: '   ' }],
    ['serviceName', { serviceName: '..' }],
    ['serviceName', { serviceName: 'shop\ud800' }],
    ['serviceName', { serviceName: undefined }],
    ['timeoutMs', { timeoutMs: 0 }],
    ['timeoutMs', { timeoutMs: -5 }],
    ['timeoutMs', { timeoutMs: Number.POSITIVE_INFINITY }],
    ['timeoutMs', { timeoutMs: Number.NaN }],
    ['timeoutMs', { timeoutMs: 120_001 }],
    ['timeoutMs', { timeoutMs: '5000' }],
    ['oauthClient', { oauthClient: 'shop-web' }],
    ['oauthClient.clientId', { oauthClient: { clientId: '', clientSecret: 'SECRET-x' } }],
    ['oauthClient.clientSecret', { oauthClient: { clientId: 'shop-web' } }],
    ['admin', { admin: null }],
    ['admin', { admin: {} }],
    ['admin', { admin: { username: 'a', password: 'SECRET-y', token: () => 't' } }],
    ['admin.username', { admin: { password: 'SECRET-y' } }],
    ['admin.password', { admin: { username: 'a', password: '' } }],
    ['admin.token', { admin: { token: 'SECRET-static-token' } }],
    ['permissions', { permissions: class NoFields {} }],
  ])('names %s when it is invalid: %j', (option, override) => {
    const error = thrownBy(
      () => new AuthApi(http, { ...valid, ...(override as Record<string, unknown>) }),
    );
    expect(error).toBeInstanceOf(ApexAuthOptionsError);
    expect((error as ApexAuthOptionsError).option).toBe(option);
    expectNoSecrets(error, ['SECRET']);
  });

  it('accepts the extremes and both admin shapes', () => {
    for (const options of [
      { ...valid, timeoutMs: 1 },
      { ...valid, timeoutMs: 120_000 },
      { ...valid, baseUrl: 'https://auth.example.com/prefix/' },
      { ...valid, admin: { token: () => 'tok' } },
      { ...valid, admin: { ...ADMIN } },
    ]) {
      expect(new AuthApi(http, options).serviceName).toBe(SERVICE);
    }
  });

  it('keeps credentials out of JSON and inspection of the client', async () => {
    const { inspect } = await import('node:util');
    const auth = new AuthApi(http, { ...valid, admin: { ...ADMIN }, oauthClient: { ...CLIENT } });
    for (const rendering of [JSON.stringify(auth), inspect(auth, { depth: 10 })]) {
      expect(rendering).not.toContain(ADMIN.password);
      expect(rendering).not.toContain(CLIENT.clientSecret);
    }
    const forToken = auth.forToken('token-SECRET-g7');
    expect(JSON.stringify(forToken)).not.toContain('token-SECRET-g7');
    expect(inspect(forToken, { depth: 10 })).not.toContain('token-SECRET-g7');
  });
});
