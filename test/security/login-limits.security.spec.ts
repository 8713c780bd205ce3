import { BoundedThrottlerStorage, type ApexAuthModuleOptions } from '@apex/nest-auth';
import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { call, show, type Answer } from '../fixtures/http.js';
import type { LoopbackServer } from '../fixtures/loopback.js';
import { startProxy } from '../fixtures/proxy.js';
import { PASSWORDS } from '../fixtures/seed.js';
import { useShopEmulator } from '../fixtures/shop-suite.js';
import { PLATFORMS, type RunningApp } from '../fixtures/start-app.js';

const minute = 60_000;
// eslint-disable-next-line no-control-regex -- what Python's str.strip() strips at the ends
const PYTHON_STRIP = /^[\s\u001c-\u001f\u0085]+|[\s\u001c-\u001f\u0085]+$/g;
const perUsername = (maxFailures: number): ApexAuthModuleOptions['login'] => ({
  minFailureMs: 0,
  maxFailureMs: 0,
  limits: { perUsername: { maxFailures, windowMs: minute, blockMs: minute }, perIp: false },
});
const perAddress = (maxFailures: number): ApexAuthModuleOptions['login'] => ({
  minFailureMs: 0,
  maxFailureMs: 0,
  limits: { perUsername: false, perIp: { maxFailures, windowMs: minute, blockMs: minute } },
});

describe.each(PLATFORMS)('login limits that cannot be sidestepped, on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  let normalising: LoopbackServer;
  const startShopApp = useShopEmulator(platform, {}, (started) => (emulator = started));
  const start = (options: Partial<ApexAuthModuleOptions>, trustProxy = false) =>
    startShopApp({ syncPermissions: false, ...options }, { trustProxy });
  const login = (
    app: RunningApp,
    username: string,
    password: string,
    forwardedFor?: string,
  ): Promise<Answer> =>
    call(`${app.url}/auth/login`, {
      method: 'POST',
      form: { username, password },
      headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
    });
  beforeAll(async () => {
    // An auth-service that matches usernames as a Python one would: NFKC, casefold(), strip().
    normalising = await startProxy(emulator.url, {
      intercept: (request) => {
        if (request.method === 'POST' && request.path === '/auth/login') {
          const form = new URLSearchParams(request.body);
          const username = form.get('username') ?? '';
          const casefolded = username.normalize('NFKC').toLowerCase().replace(/ß/g, 'ss');
          form.set('username', casefolded.replace(PYTHON_STRIP, ''));
          request.body = form.toString();
        }
        return undefined;
      },
    });
  });
  afterAll(() => normalising.stop());
  beforeEach(() => emulator.resetCounters());

  it('variants of one username share one counter, against an auth-service that folds them into one account', async () => {
    const app = await start({ baseUrl: normalising.url, login: perUsername(3) });
    // Each variant logs in as editor at this auth-service: it is the same account.
    const variant = await login(app, 'ＥＤＩＴＯＲ', PASSWORDS.editor);
    expect(variant.status, show(variant)).toBe(200);
    for (const guess of ['ｅｄｉｔｏｒ', ' Editor ', 'EDITOR']) {
      expect((await login(app, guess, 'wrong')).status, guess).toBe(401);
    }
    // Three failures under three spellings: the account is blocked, whatever the spelling.
    for (const spelling of ['editor', 'Ｅｄｉｔｏｒ']) {
      const blocked = await login(app, spelling, PASSWORDS.editor);
      expect(blocked.status, `${spelling}: ${show(blocked)}`).toBe(429);
    }
    expect(emulator.requestCount('login')).toBe(4);
  });

  it('ß and ẞ fold like ss; usernames with control characters are refused before they count', async () => {
    emulator.addUser({ username: 'strasse', password: 'strasse-password-8' });
    const app = await start({ baseUrl: normalising.url, login: perUsername(2) });
    expect((await login(app, 'straße', 'wrong')).status).toBe(401);
    expect((await login(app, 'STRASSE', 'wrong')).status).toBe(401);
    for (const spelling of ['STRAẞE', 'strasse', 'Straße']) {
      const blocked = await login(app, spelling, 'strasse-password-8');
      expect(blocked.status, `${spelling}: ${show(blocked)}`).toBe(429);
    }
    for (const control of ['\u001c', '\u001f', '\u0085', '\u0000', '\n']) {
      const refused = await login(app, `strasse${control}`, 'strasse-password-8');
      expect(refused.status, JSON.stringify(control)).toBe(400);
      expect(refused.body.message).toEqual(['username has characters a username cannot have']);
    }
  });

  it('counts IPv6 addresses per /64, and IPv4-mapped addresses as IPv4', async () => {
    const app = await start({ login: perAddress(2) }, true);
    expect((await login(app, 'viewer', 'wrong', '2001:db8:1:2::1')).status).toBe(401);
    expect((await login(app, 'editor', 'wrong', '2001:db8:1:2:ffff:ffff:ffff:fffe')).status).toBe(
      401,
    );
    const sameNetwork = await login(app, 'admin', PASSWORDS.admin, '2001:db8:1:2:abcd::9');
    expect(sameNetwork.status, show(sameNetwork)).toBe(429);
    const otherNetwork = await login(app, 'admin', PASSWORDS.admin, '2001:db8:1:3::1');
    expect(otherNetwork.status, show(otherNetwork)).toBe(200);

    expect((await login(app, 'viewer', 'wrong', '::ffff:203.0.113.9')).status).toBe(401);
    expect((await login(app, 'viewer', 'wrong', '203.0.113.9')).status).toBe(401);
    for (const address of ['203.0.113.9', '::ffff:203.0.113.9', '::ffff:cb00:7109']) {
      expect((await login(app, 'root', PASSWORDS.root, address)).status, address).toBe(429);
    }
  });

  it('many honest users behind one address log in at once: the ones past the limit wait, none is refused', async () => {
    const app = await start({ login: perAddress(3) });
    emulator.setLatency({ login: 150 });
    try {
      const users = ['viewer', 'editor', 'admin', 'root', 'outsider', 'auditor'] as const;
      const answers = await Promise.all(
        users.map((username) => login(app, username, PASSWORDS[username])),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(users.length).fill(200));
    } finally {
      emulator.setLatency(0);
    }
  });

  it('takes another IPv6 prefix when told', async () => {
    const app = await start({ login: perAddress(1), ipv6PrefixLength: 48 }, true);
    expect((await login(app, 'viewer', 'wrong', '2001:db8:7:1::1')).status).toBe(401);
    expect((await login(app, 'root', PASSWORDS.root, '2001:db8:7:2::1')).status).toBe(429);
    expect((await login(app, 'root', PASSWORDS.root, '2001:db8:8::1')).status).toBe(200);
  });

  it('a flood of new usernames does not lift a lockout from the bounded storage', async () => {
    const storage = new BoundedThrottlerStorage(50);
    const app = await start({
      login: {
        minFailureMs: 0,
        maxFailureMs: 0,
        limits: {
          perUsername: { maxFailures: 2, windowMs: minute, blockMs: minute },
          perIp: false,
          storage,
        },
      },
    });
    for (let i = 0; i < 2; i++)
      expect((await login(app, 'auditor', `wrong-${i}`)).status).toBe(401);
    expect((await login(app, 'auditor', PASSWORDS.auditor)).status).toBe(429);
    for (let i = 0; i < 120; i++) await login(app, `flood-${i}`, 'wrong');
    expect(storage.size).toBeLessThanOrEqual(50);
    const still = await login(app, 'auditor', PASSWORDS.auditor);
    expect(still.status, show(still)).toBe(429);
  });
});
