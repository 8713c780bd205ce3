import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../fixtures/capturing-logger.js';
import { call, show, type Answer } from '../fixtures/http.js';
import type { SeedUser } from '../fixtures/seed.js';
import { useShopEmulator } from '../fixtures/shop-suite.js';
import { PLATFORMS, type RunningApp } from '../fixtures/start-app.js';
import { MODES } from '../fixtures/verification-modes.js';
import {
  CompositionModule,
  evaluated,
  guardedCompositionModule,
  handled,
} from './fixtures/composition.controllers.js';

/** Who may call what: the status for each caller (`anonymous`: no token). */
type Caller = SeedUser | 'anonymous';
const expectations: [string, Partial<Record<Caller, number>>][] = [
  // Two @Permissions() on one handler: both hold.
  ['/twice/permissions', { editor: 403, auditor: 403, admin: 200, anonymous: 401 }],
  // @ServiceAdmin() and @SuperAdmin() on one handler: a service admin is not enough.
  ['/twice/roles', { admin: 403, root: 200, viewer: 403 }],
  ['/twice/roles-reversed', { admin: 403, root: 200 }],
  // Applied twice on a class.
  ['/class-twice', { editor: 200, admin: 200, auditor: 403, viewer: 403 }],
  // A subclass adds to its base class's requirements, never replaces them.
  ['/derived', { editor: 200, admin: 200, auditor: 403, viewer: 403 }],
  ['/derived/inherited', { admin: 200, editor: 403, auditor: 403 }],
  ['/derived/overridden', { admin: 200, editor: 403 }],
  // Overridden and wrapped by a decorator that renames the function.
  ['/accounts/purge', { viewer: 403, admin: 403, root: 200, anonymous: 401 }],
  // A requirement wins over a wider @Public().
  ['/open', { anonymous: 200, viewer: 200 }],
  ['/open/danger', { anonymous: 401, viewer: 403, admin: 403, root: 200 }],
  ['/open/edit', { anonymous: 401, viewer: 403, editor: 200 }],
  ['/open-derived', { anonymous: 200 }],
  ['/open-derived/admin', { anonymous: 401, viewer: 403, admin: 200 }],
  // A predicate grants with exactly `true`, awaited when async; one that throws denies.
  ['/predicates/async-false', { root: 403, admin: 403 }],
  ['/predicates/async-true', { editor: 200, admin: 403, viewer: 403 }],
  ['/predicates/truthy', { root: 403 }],
  ['/predicates/truthy-async', { root: 403 }],
  ['/predicates/promise', { root: 403 }],
  ['/predicates/throws', { root: 403 }],
  ['/predicates/rejects', { root: 403 }],
  ['/predicates/forbids', { root: 403 }],
  ['/predicates/user', { root: 200, admin: 403 }],
];

describe.each(PLATFORMS)('decorators composed on %s', (platform) => {
  describe.each([
    ['the global guard', () => CompositionModule, {}],
    [
      'globalGuard: false, guarded per controller',
      guardedCompositionModule,
      { globalGuard: false },
    ],
  ] as const)('with %s', (_what, features, extras) => {
    describe.each([MODES.localHs256, MODES.remote])('$name', (mode) => {
      let emulator: AuthServiceEmulator;
      let app: RunningApp;
      const logger = new CapturingLogger();
      const start = useShopEmulator(platform, mode.emulator, (started) => (emulator = started));
      beforeAll(async () => {
        app = await start(
          { syncPermissions: false, jwt: mode.jwt(emulator), ...extras },
          { features: [features()], logger },
        );
      });
      beforeEach(() => {
        handled.clear();
        evaluated.clear();
      });
      const get = (path: string, caller: Caller): Promise<Answer> =>
        call(`${app.url}${path}`, {
          token: caller === 'anonymous' ? undefined : emulator.issueToken(caller),
        });

      it.each(expectations)('%s', async (path, statuses) => {
        for (const [caller, status] of Object.entries(statuses)) {
          const answer = await get(path, caller as Caller);
          expect(answer.status, `${caller}: ${show(answer)}`).toBe(status);
        }
        // A refused caller never reaches the handler.
        const allowed = Object.values(statuses).filter((status) => status === 200).length;
        const runs = [...handled.values()].reduce((sum, count) => sum + count, 0);
        expect(runs).toBe(allowed);
      });

      it('names the failed requirement; a predicate that throws is named, its error is not shown', async () => {
        expect((await get('/twice/permissions', 'editor')).body.message).toBe(
          'missing permission: region must be "apac"',
        );
        expect((await get('/twice/roles', 'admin')).body.message).toBe('superadmin required');
        expect((await get('/predicates/async-false', 'root')).body.message).toBe(
          'missing permission: resolvesFalse',
        );
        for (const path of ['/predicates/throws', '/predicates/rejects']) {
          const answer = await get(path, 'root');
          expect(answer.text).not.toContain('predicate-internal-detail');
          expect(answer.body.message).toMatch(/^missing permission: (throws|rejects)$/);
        }
        expect(logger.all()).not.toContain('predicate-internal-detail');
        expect(logger.apexAuth('error')).toContain(
          'Permission requirement throws threw (Error); access denied',
        );
        expect(logger.apexAuth('error')).toContain(
          'Permission requirement rejects threw (TypeError); access denied',
        );
        // An HTTP exception thrown on purpose is answered as it is.
        expect((await get('/predicates/forbids', 'root')).body.message).toBe('not on weekends');
      });

      it('evaluates requirements in order: a later predicate never runs for a refused user', async () => {
        expect((await get('/predicates/in-order', 'viewer')).status).toBe(403);
        expect(evaluated.get('second')).toBeUndefined();
        expect((await get('/predicates/in-order', 'editor')).status).toBe(200);
        expect(evaluated.get('second')).toBe(1);
      });
    });
  });
});
