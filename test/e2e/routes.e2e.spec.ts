import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { call, rawGet, show, type Answer } from '../fixtures/http.js';
import type { SeedUser } from '../fixtures/seed.js';
import { useShopApp } from '../fixtures/shop-suite.js';
import { PLATFORMS, type RunningApp } from '../fixtures/start-app.js';

const ALL_DEFAULTS = { canView: true, canEdit: false, region: 'eu', maxDiscount: 0 };

/** A token whose payload is swapped for another user's, signature kept. */
function withPayloadOf(token: string, other: string): string {
  const [header, , signature] = token.split('.');
  return `${header}.${other.split('.')[1]}.${signature}`;
}

/** A token whose signature has one character changed. */
function withBrokenSignature(token: string): string {
  const parts = token.split('.');
  const signature = parts[2];
  const middle = Math.floor(signature.length / 2);
  const changed = signature[middle] === 'A' ? 'B' : 'A';
  parts[2] = signature.slice(0, middle) + changed + signature.slice(middle + 1);
  return parts.join('.');
}

describe.each(PLATFORMS)('routes on %s (remote verification)', (platform) => {
  let emulator: AuthServiceEmulator;
  let app: RunningApp;
  const token = (user: SeedUser, options?: { ttlSeconds?: number }): string =>
    emulator.issueToken(user, options);
  const get = (path: string, user?: SeedUser | { token: string }): Promise<Answer> =>
    call(`${app.url}${path}`, {
      token: user === undefined ? undefined : typeof user === 'string' ? token(user) : user.token,
    });

  useShopApp(platform, {}, (shop) => ({ emulator, app } = shop));
  beforeEach(() => emulator.resetCounters());

  function expectUnauthorized(answer: Answer, reason: string): void {
    expect(answer.status, show(answer)).toBe(401);
    expect(answer.body).toMatchObject({ statusCode: 401, message: reason });
    const challenge = answer.headers.get('www-authenticate') ?? '';
    expect(challenge.startsWith('Bearer realm="shop"'), challenge).toBe(true);
  }

  describe('401 on a guarded route', () => {
    it('answers "missing token" with a bare Bearer challenge when no token is sent', async () => {
      const answer = await get('/products');
      expectUnauthorized(answer, 'missing token');
      expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="shop"');
      expect(emulator.requestCount('user')).toBe(0);
    });

    it.each([
      ['a Basic header', 'Basic x'],
      ['a Bearer that is not a JWT', 'Bearer not-a-jwt'],
      ['a Bearer without a token', 'Bearer'],
      ['a token without a scheme', 'eyJhbGciOiJIUzI1NiJ9.e30.c2ln'],
    ])('answers "invalid token" for %s, without asking the auth-service', async (_what, header) => {
      const answer = await call(`${app.url}/products`, { headers: { authorization: header } });
      expectUnauthorized(answer, 'invalid token');
      expect(answer.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect(emulator.requestCount('user')).toBe(0);
    });

    it('answers "invalid token" for two Authorization headers, even two good ones', async () => {
      const answer = await rawGet(`${app.url}/products`, [
        ['Authorization', `Bearer ${token('viewer')}`],
        ['Authorization', `Bearer ${token('root')}`],
      ]);
      expectUnauthorized(answer, 'invalid token');
      expect(emulator.requestCount('user')).toBe(0);
    });

    it('answers "invalid token" for an oversized token, without asking the auth-service', async () => {
      const huge = `${'a'.repeat(9000)}.${'b'.repeat(10)}.${'c'.repeat(10)}`;
      const answer = await get('/products', { token: huge });
      expectUnauthorized(answer, 'invalid token');
      expect(emulator.requestCount('user')).toBe(0);
    });

    it('answers "token expired" for an expired token', async () => {
      const answer = await get('/products', { token: token('editor', { ttlSeconds: -10 }) });
      expectUnauthorized(answer, 'token expired');
      expect(answer.headers.get('www-authenticate')).toContain('error_description="token expired"');
    });

    it('answers "invalid token" for a tampered signature and a swapped payload', async () => {
      const broken = await get('/products', { token: withBrokenSignature(token('editor')) });
      expectUnauthorized(broken, 'invalid token');
      const swapped = await get('/products', {
        token: withPayloadOf(token('viewer'), token('root')),
      });
      expectUnauthorized(swapped, 'invalid token');
    });

    it('answers 401 for a revoked token', async () => {
      const revoked = token('editor');
      emulator.revokeToken(revoked);
      expectUnauthorized(await get('/products', { token: revoked }), 'invalid token');
      expect(emulator.requestCount('user')).toBeGreaterThan(0);
    });

    it('never echoes the token in a 401', async () => {
      const expired = token('editor', { ttlSeconds: -10 });
      const answer = await get('/products', { token: expired });
      expect(answer.status).toBe(401);
      expect(answer.text).not.toContain(expired.split('.')[2]);
      expect(answer.headers.get('www-authenticate')).not.toContain(expired.split('.')[2]);
    });
  });

  describe('authenticated routes', () => {
    it('answers 200 with the caller', async () => {
      const answer = await get('/products', 'viewer');
      expect(answer.status, show(answer)).toBe(200);
      expect(answer.body).toEqual({ products: ['apple', 'pear'], username: 'viewer' });
    });

    it('gives @CurrentUser("metadata") as an instance of the permissions class, defaults filled in', async () => {
      const answer = await get('/products/mine', 'viewer');
      expect(answer.status, show(answer)).toBe(200);
      expect(answer.body.isInstance).toBe(true);
      expect(answer.body.metadata).toEqual({
        canView: true,
        canEdit: false,
        region: 'eu',
        maxDiscount: 0,
      });
      expect(answer.body.isServiceAdmin).toBe(false);
      expect(answer.body.id).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('accepts the scheme in any case', async () => {
      const answer = await call(`${app.url}/products`, {
        headers: { authorization: `bearer ${token('viewer')}` },
      });
      expect(answer.status, show(answer)).toBe(200);
    });

    it('reads stored values that do not fit the schema as defaults, and drops unknown keys', async () => {
      const answer = await get('/products/mine', 'odd');
      expect(answer.status, show(answer)).toBe(200);
      expect(answer.body.metadata).toEqual({
        canView: false,
        canEdit: false,
        region: 'eu',
        maxDiscount: 50,
      });
    });

    it('gives a user without metadata in the service every default', async () => {
      const answer = await get('/products/mine', 'outsider');
      expect(answer.status, show(answer)).toBe(200);
      expect(answer.body.metadata).toEqual(ALL_DEFAULTS);
      expect(answer.body.isInstance).toBe(true);
    });
  });

  describe('@Public()', () => {
    it('serves a public route without a token, @CurrentUser() being empty', async () => {
      const answer = await get('/products/catalog');
      expect(answer.status, show(answer)).toBe(200);
      expect(answer.body).toEqual({ products: ['apple', 'pear'], viewer: null });
    });

    it('still sees the user on a public route when a valid token is sent', async () => {
      const answer = await get('/products/catalog', 'editor');
      expect(answer.status, show(answer)).toBe(200);
      expect(answer.body.viewer).toBe('editor');
    });

    it('ignores a bad token on a public route', async () => {
      for (const bad of [
        token('editor', { ttlSeconds: -10 }),
        withBrokenSignature(token('editor')),
      ]) {
        const answer = await get('/products/catalog', { token: bad });
        expect(answer.status, show(answer)).toBe(200);
        expect(answer.body.viewer).toBeNull();
      }
      const malformed = await call(`${app.url}/products/catalog`, {
        headers: { authorization: 'Basic x' },
      });
      expect(malformed.status).toBe(200);
    });

    it('opens every route of a controller marked @Public()', async () => {
      expect((await get('/health')).body).toEqual({ status: 'ok', username: null });
      expect((await get('/health', 'root')).body).toEqual({ status: 'ok', username: 'root' });
    });
  });

  describe('403 naming the missing requirement', () => {
    it('a permission name: the boolean must be true', async () => {
      const denied = await call(`${app.url}/products`, { method: 'POST', token: token('viewer') });
      expect(denied.status, show(denied)).toBe(403);
      expect(denied.body).toMatchObject({
        statusCode: 403,
        message: 'missing permission: canEdit',
      });
      const allowed = await call(`${app.url}/products`, { method: 'POST', token: token('editor') });
      expect(allowed.status, show(allowed)).toBe(201);
      expect(allowed.body).toEqual({ created: true, region: 'us', isInstance: true });
    });

    it('an object: the value must be one of the given ones', async () => {
      const denied = await get('/products/overseas', 'viewer');
      expect(denied.status, show(denied)).toBe(403);
      expect(denied.body.message).toBe('missing permission: region must be "us" or "apac"');
      expect((await get('/products/overseas', 'editor')).status).toBe(200);
      expect((await get('/products/overseas', 'admin')).status).toBe(200);
      expect((await get('/products/overseas', 'outsider')).status).toBe(403);
    });

    it('a predicate: named by its function name', async () => {
      const denied = await get('/products/discounts', 'viewer');
      expect(denied.status, show(denied)).toBe(403);
      expect(denied.body.message).toBe('missing permission: discountAtLeast25');
      expect((await get('/products/discounts', 'editor')).status).toBe(200);
    });

    it('several requirements: every one must hold', async () => {
      const editor = await get('/products/apac-editors', 'editor');
      expect(editor.status, show(editor)).toBe(403);
      expect(editor.body.message).toBe('missing permission: region must be "apac"');
      expect((await get('/products/apac-editors', 'viewer')).body.message).toBe(
        'missing permission: canEdit',
      );
      expect((await get('/products/apac-editors', 'admin')).status).toBe(200);
    });

    it('class-level and handler-level requirements both apply', async () => {
      expect((await get('/reports', 'viewer')).status).toBe(200);
      const viewerEdits = await get('/reports/edits', 'viewer');
      expect(viewerEdits.status, show(viewerEdits)).toBe(403);
      expect(viewerEdits.body.message).toBe('missing permission: canEdit');
      // The auditor meets the handler's requirement but not the controller's.
      const auditor = await get('/reports/edits', 'auditor');
      expect(auditor.status, show(auditor)).toBe(403);
      expect(auditor.body.message).toBe('missing permission: canView');
      expect((await get('/reports', 'auditor')).body.message).toBe('missing permission: canView');
      expect((await get('/reports/edits', 'editor')).status).toBe(200);
    });

    it('a 401 comes before a 403: no token on a permission route', async () => {
      const answer = await call(`${app.url}/products`, { method: 'POST' });
      expect(answer.status).toBe(401);
    });
  });

  describe('@ServiceAdmin() and @SuperAdmin()', () => {
    it('lets a service admin in, and @AuthToken() calls the auth-service as the caller', async () => {
      emulator.resetCounters();
      const answer = await get('/admin/users', 'admin');
      expect(answer.status, show(answer)).toBe(200);
      expect(answer.body).toEqual([
        { username: 'admin', region: 'apac', isInstance: true },
        { username: 'auditor', region: 'eu', isInstance: true },
        { username: 'editor', region: 'us', isInstance: true },
        { username: 'odd', region: 'eu', isInstance: true },
        { username: 'viewer', region: 'eu', isInstance: true },
      ]);
      expect(emulator.requestCount('serviceUsers')).toBe(1);
    });

    it('AuthApi.asAdmin() calls the auth-service with the configured admin', async () => {
      const answer = await get('/admin/users-as-admin', 'admin');
      expect(answer.status, show(answer)).toBe(200);
      expect(answer.body).toEqual(['admin', 'auditor', 'editor', 'odd', 'viewer']);
    });

    it('lets a superadmin in', async () => {
      const answer = await get('/admin/users', 'root');
      expect(answer.status, show(answer)).toBe(200);
      expect(answer.body).toHaveLength(5);
    });

    it('refuses an editor with "service admin required"', async () => {
      emulator.resetCounters();
      const answer = await get('/admin/users', 'editor');
      expect(answer.status, show(answer)).toBe(403);
      expect(answer.body.message).toBe('service admin required');
      expect(emulator.requestCount('serviceUsers')).toBe(0);
    });

    it('@SuperAdmin() refuses a service admin and lets a superadmin in', async () => {
      const admin = await get('/admin/danger', 'admin');
      expect(admin.status, show(admin)).toBe(403);
      expect(admin.body.message).toBe('superadmin required');
      expect((await get('/admin/danger', 'editor')).status).toBe(403);
      const root = await get('/admin/danger', 'root');
      expect(root.status, show(root)).toBe(200);
    });
  });
});
