import { HttpService } from '@nestjs/axios';
import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import axios from 'axios';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthApi } from '../../lib/client/index.js';
import { ApexAuthOptionsError, AuthServiceUnauthorizedError } from '../../lib/errors/index.js';
import {
  ADMIN,
  SERVICE,
  expectNoSecrets,
  plainClient,
  rejectionOf,
  startEmulator,
} from './client-fixtures.js';

describe('AuthApi.asAdmin', () => {
  let emulator: AuthServiceEmulator;
  let shortLived: AuthServiceEmulator;

  beforeAll(async () => {
    [emulator, shortLived] = await Promise.all([
      startEmulator(),
      // Tokens living less than the 30 s renewal margin are never reused.
      startEmulator({ tokenTtlSeconds: 20 }),
    ]);
  });
  beforeEach(() => {
    emulator.resetCounters();
    shortLived.resetCounters();
  });
  afterAll(async () => {
    await Promise.all([emulator.stop(), shortLived.stop()]);
  });

  it('logs in once and shares the token between concurrent and later calls', async () => {
    const auth = plainClient(emulator);
    const admins = await Promise.all([auth.asAdmin(), auth.asAdmin(), auth.asAdmin()]);
    await auth.asAdmin();
    await auth.asAdmin();
    expect(emulator.requestCount('login')).toBe(1);
    for (const admin of admins) {
      expect((await admin.user()).username).toBe(ADMIN.username);
    }
    await expect((await auth.asAdmin()).permissions()).resolves.toEqual(expect.any(Array));
    expect(emulator.requestCount('login')).toBe(1);
  });

  it('logs in again when the token is about to expire (read from the JWT exp)', async () => {
    const auth = plainClient(shortLived);
    await auth.asAdmin();
    await auth.asAdmin();
    expect(shortLived.requestCount('login')).toBe(2);
  });

  it('logs in again after the auth-service refused the cached token', async () => {
    // A request interceptor of the application's own axios instance sees the token that is sent.
    const sent: string[] = [];
    const instance = axios.create();
    instance.interceptors.request.use((config) => {
      const authorization = config.headers.get('Authorization');
      if (typeof authorization === 'string') sent.push(authorization.replace(/^Bearer /, ''));
      return config;
    });
    const auth = new AuthApi(new HttpService(instance), {
      baseUrl: emulator.url,
      serviceName: SERVICE,
      admin: { ...ADMIN },
    });
    const admin = await auth.asAdmin();
    await admin.user();
    const cached = sent.at(-1)!;
    emulator.revokeToken(cached);
    await expect(admin.permissions()).rejects.toBeInstanceOf(AuthServiceUnauthorizedError);

    const again = await auth.asAdmin();
    await expect(again.permissions()).resolves.toEqual(expect.any(Array));
    expect(sent.at(-1)).not.toBe(cached);
    expect(emulator.requestCount('login')).toBe(2);
  });

  it('does not cache a failed login', async () => {
    const auth = plainClient(emulator, {
      admin: { username: ADMIN.username, password: 'wrong-SECRET-k1' },
    });
    for (let i = 0; i < 2; i++) {
      const error = await rejectionOf(auth.asAdmin());
      expect(error).toBeInstanceOf(AuthServiceUnauthorizedError);
      expectNoSecrets(error, ['wrong-SECRET-k1']);
    }
    expect(emulator.requestCount('login')).toBe(2);
  });

  it('asks a token function every time and never logs in', async () => {
    let calls = 0;
    const auth = plainClient(emulator, {
      admin: {
        // A promise, as an application fetching its token from a vault would return.
        token: () => {
          calls += 1;
          return Promise.resolve(emulator.issueToken(ADMIN.username));
        },
      },
    });
    await (await auth.asAdmin()).permissions();
    await (await auth.asAdmin()).permissions();
    expect(calls).toBe(2);
    expect(emulator.requestCount('login')).toBe(0);
    expect((await (await auth.asAdmin()).user()).username).toBe(ADMIN.username);
  });

  it('refuses what a token function returns when it is no token', async () => {
    const auth = plainClient(emulator, { admin: { token: () => 'not a token SECRET-l2' } });
    const error = await rejectionOf(auth.asAdmin());
    expect(error).toBeInstanceOf(ApexAuthOptionsError);
    expect(error).toMatchObject({ option: 'admin.token' });
    expectNoSecrets(error, ['SECRET-l2']);
  });

  it('needs an admin', async () => {
    const auth = plainClient(emulator, { admin: undefined });
    const error = await rejectionOf(auth.asAdmin());
    expect(error).toBeInstanceOf(ApexAuthOptionsError);
    expect(error).toMatchObject({ option: 'admin' });
    expect(emulator.requestCount('login')).toBe(0);
  });

  it('is bound to the service', () => {
    expect(plainClient(emulator).serviceName).toBe(SERVICE);
  });
});
