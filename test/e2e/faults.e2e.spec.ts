import type { AuthServiceEmulator, EmulatorFault } from '@apex/nest-auth/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../fixtures/capturing-logger.js';
import { call, show, type Answer } from '../fixtures/http.js';
import { JWKS_DOWN_AT_STARTUP } from '../fixtures/jwks-down.js';
import { useShopApp } from '../fixtures/shop-suite.js';
import { PLATFORMS, type RunningApp } from '../fixtures/start-app.js';
import { inMode, MODES } from '../fixtures/verification-modes.js';

function expectUnavailable(answer: Answer, retryAfter = '5'): void {
  expect(answer.status, show(answer)).toBe(503);
  expect(answer.body.message).toBe('auth-service unavailable');
  expect(answer.headers.get('retry-after')).toBe(retryAfter);
}

describe.each(PLATFORMS)('auth-service faults on %s', (platform) => {
  describe.each([MODES.remote, MODES.localHs256])('$name verification', (mode) => {
    const { local } = mode;
    let emulator: AuthServiceEmulator;
    let app: RunningApp;
    const products = (token: string): Promise<Answer> => call(`${app.url}/products`, { token });

    useShopApp(
      platform,
      inMode(mode, {
        syncPermissions: false,
        timeoutMs: 300,
        // Every fault on its own here; the breaker has its own tests below.
        circuitBreaker: false,
        // Every new token meets the fault (known users in an outage: test/e2e/known-users.e2e.spec.ts).
        cache: { knownUsers: false },
      }),
      (shop) => ({ emulator, app } = shop),
    );
    beforeEach(() => emulator.resetCounters());
    afterEach(() => emulator.clearFaults());

    const faults: [string, EmulatorFault][] = [
      ['503', { kind: 'status', status: 503 }],
      ['500', { kind: 'status', status: 500 }],
      [
        '502 with an HTML body',
        { kind: 'status', status: 502, body: '<h1>Bad gateway</h1>', contentType: 'text/html' },
      ],
      ['a reset connection', { kind: 'reset' }],
      [
        '200 with a body that is not JSON',
        { kind: 'status', status: 200, body: 'OK', contentType: 'text/plain' },
      ],
      ['200 with JSON of another shape', { kind: 'status', status: 200, body: '{"id":42}' }],
    ];

    it.each(faults)(
      'answers 503 with Retry-After, never 200 or 401, for %s',
      async (_what, fault) => {
        emulator.fail(fault);
        const answer = await products(emulator.issueToken('editor'));
        expectUnavailable(answer);
        expect(emulator.requestCount('user')).toBeGreaterThan(0);
      },
    );

    it('answers 503 when only the service-user lookup fails (no access with default permissions)', async () => {
      emulator.fail({ kind: 'status', status: 503 }, { endpoints: ['serviceUser'] });
      const answer = await call(`${app.url}/products/mine`, {
        token: emulator.issueToken('editor'),
      });
      expectUnavailable(answer);
      expect(emulator.requestCount('user')).toBe(1);
    });

    it("answers 503 when the service-user record is another user's, and never grants with it", async () => {
      const admins = {
        user: {
          id: 'another-user',
          username: 'admin',
          first_name: '',
          last_name: '',
          email: '',
          phone_number: '',
          is_admin: false,
        },
        is_service_admin: true,
        metadata: { canView: true, canEdit: true, region: 'apac', maxDiscount: 50 },
      };
      emulator.fail(
        { kind: 'status', status: 200, body: JSON.stringify({ data: { user: admins } }) },
        { endpoints: ['serviceUser'] },
      );
      const token = emulator.issueToken('viewer');
      for (const route of ['/reports/edits', '/admin/users']) {
        expectUnavailable(await call(`${app.url}${route}`, { token }));
      }
      emulator.clearFaults();
      expect((await call(`${app.url}/reports/edits`, { token })).status).toBe(403);
    });

    it.each(['.', '..', 'ann\ud800'])(
      'answers 503, not 500, when the auth-service names the user %j (no path can carry it)',
      async (id) => {
        const viewer = {
          id,
          username: 'viewer',
          first_name: '',
          last_name: '',
          email: '',
          phone_number: '',
          is_admin: false,
        };
        emulator.fail(
          { kind: 'status', status: 200, body: JSON.stringify(viewer) },
          { endpoints: ['user'] },
        );
        expectUnavailable(await products(emulator.issueToken('viewer')));
        expect(emulator.requestCount('serviceUser')).toBe(0);
      },
    );

    it("passes on the auth-service's Retry-After", async () => {
      emulator.fail({ kind: 'status', status: 503, headers: { 'retry-after': '7' } });
      expectUnavailable(await products(emulator.issueToken('editor')), '7');
      // Upstream asked for a pause: no immediate retry.
      expect(emulator.requestCount('user')).toBe(1);
    });

    it('answers 503 within the time budget when the auth-service hangs', async () => {
      emulator.fail({ kind: 'hang' });
      const startedAt = performance.now();
      const answer = await products(emulator.issueToken('editor'));
      const elapsed = performance.now() - startedAt;
      expectUnavailable(answer);
      expect(elapsed).toBeLessThan(1500);
    });

    it('does not cache a failure: the same token works once the auth-service is back', async () => {
      const token = emulator.issueToken('editor');
      emulator.fail({ kind: 'status', status: 503 }, { times: 2 });
      expectUnavailable(await products(token));
      emulator.clearFaults();
      const answer = await products(token);
      expect(answer.status, show(answer)).toBe(200);
    });

    it('keeps serving a cached token while the auth-service fails', async () => {
      const token = emulator.issueToken('viewer');
      expect((await products(token)).status).toBe(200);
      emulator.resetCounters();
      emulator.fail({ kind: 'status', status: 503 });
      for (let i = 0; i < 3; i++) {
        const answer = await products(token);
        expect(answer.status, show(answer)).toBe(200);
        expect(answer.body.username).toBe('viewer');
      }
      expect(emulator.requestCount('user')).toBe(0);
      // A token it has not seen cannot be judged meanwhile.
      expectUnavailable(await products(emulator.issueToken('viewer')));
    });

    it('still answers 401 for what needs no auth-service while it fails', async () => {
      emulator.fail({ kind: 'status', status: 503 });
      const missing = await call(`${app.url}/products`);
      expect(missing.status).toBe(401);
      const expired = await products(emulator.issueToken('editor', { ttlSeconds: -10 }));
      expect(expired.status, show(expired)).toBe(401);
      expect(expired.body.message).toBe('token expired');
      if (local) {
        const forged = emulator.issueToken('editor').slice(0, -3) + 'AAA';
        const answer = await products(forged);
        expect(answer.status, show(answer)).toBe(401);
        expect(emulator.requestCount('user')).toBe(0);
      }
    });

    it('serves a public route while the auth-service fails, without a user', async () => {
      emulator.fail({ kind: 'status', status: 503 });
      const answer = await call(`${app.url}/products/catalog`, {
        token: emulator.issueToken('editor'),
      });
      expect(answer.status, show(answer)).toBe(200);
      expect(answer.body.viewer).toBeNull();
    });
  });

  describe('circuit breaker', () => {
    let emulator: AuthServiceEmulator;
    let app: RunningApp;
    const logger = new CapturingLogger();
    const tokens: string[] = [];
    const products = (token: string): Promise<Answer> => {
      tokens.push(token);
      return call(`${app.url}/products`, { token });
    };

    useShopApp(
      platform,
      {
        auth: () => ({
          syncPermissions: false,
          timeoutMs: 300,
          circuitBreaker: { halfOpenAfterMs: 800, maxHalfOpenAfterMs: 800 },
        }),
        app: { logger },
      },
      (shop) => ({ emulator, app } = shop),
    );

    it('fails fast once open, keeps cached tokens working, and closes after a good probe', async () => {
      const cached = emulator.issueToken('viewer');
      expect((await products(cached)).status).toBe(200);
      emulator.fail({ kind: 'status', status: 503 });
      for (let i = 0; i < 3; i++) expectUnavailable(await products(emulator.issueToken('editor')));
      emulator.resetCounters();
      // Open: no upstream call at all, and the caller is told when to come back.
      const fast = await products(emulator.issueToken('editor'));
      expect(fast.status, show(fast)).toBe(503);
      expect(fast.headers.get('retry-after')).toBe('1');
      expect(emulator.requestCounts()).toMatchObject({ user: 0 });
      // Logins have a circuit of their own: they still ask (and get the auth-service's 503).
      const login = await call(`${app.url}/auth/login`, {
        method: 'POST',
        form: { username: 'editor', password: 'editor-password-2' },
      });
      expect(login.status, show(login)).toBe(503);
      expect(emulator.requestCounts()).toMatchObject({ user: 0, login: 1 });
      const stillCached = await products(cached);
      expect(stillCached.status, show(stillCached)).toBe(200);
      emulator.clearFaults();
      await new Promise((resolve) => setTimeout(resolve, 850));
      const probe = await products(emulator.issueToken('editor'));
      expect(probe.status, show(probe)).toBe(200);
      expect((await products(emulator.issueToken('admin'))).status).toBe(200);
    });

    it('logged no token, password or secret meanwhile', () => {
      const logged = logger.all();
      expect(logger.lines.length).toBeGreaterThan(0);
      for (const secret of [...tokens, 'editor-password-2', 'admin-password-3']) {
        expect(logged).not.toContain(secret);
      }
      for (const token of tokens) expect(logged).not.toContain(token.split('.')[2]);
    });
  });

  describe('JWKS unavailable at startup', () => {
    let emulator: AuthServiceEmulator;
    let app: RunningApp;
    useShopApp(platform, JWKS_DOWN_AT_STARTUP, (shop) => ({ emulator, app } = shop));

    it('starts, answers 503 rather than 401 while it has no key, and recovers soon after', async () => {
      expect(emulator.requestCount('jwks')).toBeGreaterThan(0);
      const answer = await call(`${app.url}/products`, { token: emulator.issueToken('editor') });
      expectUnavailable(answer);
      expect(emulator.requestCount('user')).toBe(0);
      emulator.clearFaults();
      // Keys are fetched again on demand, at most once a second while none is known.
      const recoveredBy = Date.now() + 3000;
      let status = 0;
      while (Date.now() < recoveredBy) {
        status = (await call(`${app.url}/products`, { token: emulator.issueToken('editor') }))
          .status;
        if (status === 200) break;
        expect(status).toBe(503);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(status).toBe(200);
    });
  });
});
