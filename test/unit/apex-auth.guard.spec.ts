import {
  Controller,
  ForbiddenException,
  Get,
  HttpException,
  Injectable,
  UnauthorizedException,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { Test } from '@nestjs/testing';
import {
  ApexAuthGuard,
  ApexAuthModule,
  BearerCredential,
  Public,
  type AuthenticatedUser,
  TokenVerifier,
  type BearerTokenResult,
} from '@apex/nest-auth';
import { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApexAuthStrategy } from '../../lib/verification/apex-auth.strategy.js';
import { shopSeed } from '../fixtures/seed.js';
import { shopOptions } from '../fixtures/start-app.js';

/** The handlers the contexts below point at (never mounted: the guard is called directly). */
@Controller('probe')
class ProbeController {
  @Get()
  guarded() {
    return { ok: true };
  }

  @Public()
  @Get('public')
  open() {
    return { ok: true };
  }
}

/** What the guard reads of a request, as a test builds it. */
interface FakeRequest {
  headers: Record<string, string>;
  rawHeaders: string[];
  ip: string;
  user?: unknown;
}

/** A request with `Authorization: Bearer <token>` (or none), from one client address. */
function httpRequest(token?: string, headers: Record<string, string> = {}): FakeRequest {
  const all = token === undefined ? headers : { ...headers, authorization: `Bearer ${token}` };
  return {
    headers: all,
    rawHeaders: Object.entries(all).flat(),
    ip: '127.0.0.1',
  };
}

/** An Express-like response: the app under test runs on Express, whose adapter calls `set`. */
function httpResponse(): {
  headers: Record<string, string>;
  set(name: string, value: string): void;
} {
  const headers: Record<string, string> = {};
  return {
    headers,
    set(name, value) {
      headers[name.toLowerCase()] = value;
    },
  };
}

type Handler = 'guarded' | 'open';

/** The handler function itself: the route's metadata hangs on it. */
const handlerOf = (name: Handler) =>
  Reflect.get(ProbeController.prototype, name) as (...args: unknown[]) => unknown;

function httpContext(
  request: object,
  response: object = httpResponse(),
  handler: Handler = 'guarded',
) {
  return new ExecutionContextHost(
    [request, response, () => undefined],
    ProbeController,
    handlerOf(handler),
  );
}

/** The request rides in the context of a message (as a microservice's `rpc` context carries it). */
function rpcContext(request: object, handler: Handler = 'guarded') {
  const context = new ExecutionContextHost(
    [{ pattern: 'orders.list' }, { request }],
    ProbeController,
    handlerOf(handler),
  );
  context.setType('rpc');
  return context;
}

/** Serves an rpc transport: the request is read from the message's context. */
@Injectable()
class RpcGuard extends ApexAuthGuard {
  protected override getRequest(context: ExecutionContext) {
    if (context.getType() !== 'rpc') return super.getRequest(context);
    return context.switchToRpc().getContext<{ request: FakeRequest }>().request;
  }

  /** An rpc transport has no response to put headers on. */
  protected override getResponse(context: ExecutionContext): unknown {
    return context.getType() === 'rpc' ? undefined : super.getResponse(context);
  }
}

/** Reads the token from a `session` cookie instead of the header. */
@Injectable()
class CookieGuard extends ApexAuthGuard {
  readonly credentials: BearerCredential[] = [];

  protected override getToken(request: { headers: { cookie?: string } }): BearerTokenResult {
    const token = /(?:^|;\s*)session=([^;]+)/.exec(request.headers.cookie ?? '')?.[1];
    if (token === undefined) return { problem: 'missing' };
    const credential = new BearerCredential(token);
    this.credentials.push(credential);
    return { credential };
  }
}

/** Counts its calls of `authenticate` and `handleRequest`, and refuses one user on both. */
@Injectable()
class AuditingGuard extends ApexAuthGuard {
  readonly calls: string[] = [];
  refused = 'nobody';

  protected override authenticate(
    ...args: Parameters<ApexAuthGuard['authenticate']>
  ): ReturnType<ApexAuthGuard['authenticate']> {
    this.calls.push('authenticate');
    return super.authenticate(...args);
  }

  protected override handleRequest(
    ...args: Parameters<ApexAuthGuard['handleRequest']>
  ): AuthenticatedUser<object> {
    this.calls.push('handleRequest');
    const user = super.handleRequest(...args);
    if (user.username === this.refused) throw new ForbiddenException('suspended');
    return user;
  }
}

/** What a call of `canActivate` came to: a value at once, a value later, or an exception. */
async function outcome(run: () => boolean | Promise<boolean>): Promise<unknown> {
  try {
    return await run();
  } catch (error) {
    return error;
  }
}

describe('ApexAuthGuard on its own', () => {
  let emulator: AuthServiceEmulator;
  let app: INestApplication;
  let guard: ApexAuthGuard;
  const options = () => ({
    ...shopOptions(emulator.url, { syncPermissions: false }),
    globalGuard: false,
    controller: false as const,
  });
  let given: ReturnType<typeof options>;

  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({ seed: shopSeed() });
    given = options();
    const moduleRef = await Test.createTestingModule({
      imports: [ApexAuthModule.forRoot(given)],
      providers: [RpcGuard, CookieGuard, AuditingGuard],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    guard = app.get(ApexAuthGuard);
  });
  afterAll(async () => {
    await app?.close();
    await emulator?.stop();
  });
  beforeEach(() => emulator.resetCounters());
  afterEach(() => {
    emulator.clearFaults();
    vi.restoreAllMocks();
  });

  describe('the warm path', () => {
    it('answers a new token with a Promise, then the same token with exactly true, synchronously', async () => {
      const token = emulator.issueToken('editor');
      const strategy = app.get(ApexAuthStrategy);
      const entered = vi.spyOn(strategy, 'authenticate');

      const cold = httpRequest(token);
      const first = guard.canActivate(httpContext(cold));
      expect(first).toBeInstanceOf(Promise);
      await expect(first).resolves.toBe(true);
      expect((cold.user as AuthenticatedUser).username).toBe('editor');
      expect(entered).toHaveBeenCalledTimes(1);
      expect(emulator.requestCount('user')).toBe(1);

      const warm = httpRequest(token);
      const second = guard.canActivate(httpContext(warm));
      // Exactly `true`: not a Promise, nor an Observable, nor a truthy object.
      expect(second).toBe(true);
      expect(warm.user).toBe(cold.user);
      // The cached token never entered Passport, nor reached the auth-service.
      expect(entered).toHaveBeenCalledTimes(1);
      expect(emulator.requestCount('user')).toBe(1);
    });

    it("leaves Passport's request properties off the request: a new token sets the user only", async () => {
      const request = httpRequest(emulator.issueToken('editor'));
      const before = new Set(Object.keys(request));
      await expect(guard.canActivate(httpContext(request))).resolves.toBe(true);
      // Passport's login, isAuthenticated, _sessionManager, ... went on a view of the request.
      expect(Object.keys(request).filter((key) => !before.has(key))).toEqual(['user']);
      expect((request.user as AuthenticatedUser).username).toBe('editor');
    });

    it('answers a cached token on a public route with exactly true, and sets the user', async () => {
      const token = emulator.issueToken('viewer');
      await guard.canActivate(httpContext(httpRequest(token)));
      const request = httpRequest(token);
      expect(guard.canActivate(httpContext(request, httpResponse(), 'open'))).toBe(true);
      expect((request.user as AuthenticatedUser).username).toBe('viewer');
    });

    it('keeps each request to its own user', async () => {
      const viewer = emulator.issueToken('viewer');
      const editor = emulator.issueToken('editor');
      await guard.canActivate(httpContext(httpRequest(viewer)));
      await guard.canActivate(httpContext(httpRequest(editor)));
      const [a, b] = [httpRequest(viewer), httpRequest(editor)];
      expect(guard.canActivate(httpContext(a))).toBe(true);
      expect(guard.canActivate(httpContext(b))).toBe(true);
      expect([
        (a.user as AuthenticatedUser).username,
        (b.user as AuthenticatedUser).username,
      ]).toEqual(['viewer', 'editor']);
    });
  });

  describe('refusals', () => {
    it('answers a missing token with 401 and the realm of the validated serviceName', async () => {
      const response = httpResponse();
      const request = httpRequest();
      const error = await outcome(() => guard.canActivate(httpContext(request, response)));
      expect(error).toBeInstanceOf(UnauthorizedException);
      expect((error as HttpException).message).toBe('missing token');
      expect(response.headers['www-authenticate']).toBe('Bearer realm="shop"');
      expect(request.user).toBeUndefined();
      expect(emulator.requestCount('user')).toBe(0);
    });

    it("takes the realm from the module's own copy of the options, not the caller's object", async () => {
      const original = given.serviceName;
      given.serviceName = 'changed-after-startup';
      try {
        const response = httpResponse();
        await outcome(() => guard.canActivate(httpContext(httpRequest(), response)));
        expect(response.headers['www-authenticate']).toBe('Bearer realm="shop"');
      } finally {
        given.serviceName = original;
      }
    });

    it('answers a malformed header with 401 invalid_token, without asking upstream', async () => {
      const response = httpResponse();
      const request = { ...httpRequest(), headers: { authorization: 'Bearer not-a-jwt' } };
      const error = await outcome(() => guard.canActivate(httpContext(request, response)));
      expect(error).toBeInstanceOf(UnauthorizedException);
      expect(response.headers['www-authenticate']).toBe(
        'Bearer realm="shop", error="invalid_token", error_description="invalid token"',
      );
      expect(emulator.requestCount('user')).toBe(0);
    });

    it('answers a token the auth-service refuses with 401 invalid_token', async () => {
      const token = emulator.issueToken('editor');
      emulator.revokeToken(token);
      const response = httpResponse();
      const error = await outcome(() =>
        guard.canActivate(httpContext(httpRequest(token), response)),
      );
      expect(error).toBeInstanceOf(UnauthorizedException);
      expect((error as HttpException).message).toBe('invalid token');
      expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
    });

    it('answers 503 with Retry-After when the auth-service fails, never 401', async () => {
      emulator.fail({ kind: 'status', status: 503 });
      const response = httpResponse();
      const error = await outcome(() =>
        guard.canActivate(httpContext(httpRequest(emulator.issueToken('editor')), response)),
      );
      expect(error).toBeInstanceOf(HttpException);
      expect((error as HttpException).getStatus()).toBe(503);
      expect(response.headers['retry-after']).toMatch(/^\d+$/);
      expect(response.headers['www-authenticate']).toBeUndefined();
    });

    it.each(['rpc', 'ws', 'graphql'] as const)(
      'refuses a %s context, public handler or not, whatever token it carries',
      async (type) => {
        const token = emulator.issueToken('root');
        // Cached, so that no shortcut of the warm path could let the context through.
        await guard.canActivate(httpContext(httpRequest(token)));
        for (const handler of ['guarded', 'open'] as const) {
          const request = httpRequest(token);
          const context = httpContext(request, httpResponse(), handler);
          context.setType(type);
          const error = await outcome(() => guard.canActivate(context));
          expect(error, handler).toBeInstanceOf(ForbiddenException);
          expect((error as HttpException).message).toBe('unsupported execution context');
          expect(request.user).toBeUndefined();
        }
      },
    );
  });

  describe('a subclass that overrides getRequest', () => {
    it('authenticates the request it reads from an rpc context, on the cold and the warm path', async () => {
      const rpc = app.get(RpcGuard);
      const token = emulator.issueToken('editor');

      const cold = httpRequest(token);
      const first = rpc.canActivate(rpcContext(cold));
      expect(first).toBeInstanceOf(Promise);
      await expect(first).resolves.toBe(true);
      expect((cold.user as AuthenticatedUser).username).toBe('editor');

      const warm = httpRequest(token);
      expect(rpc.canActivate(rpcContext(warm))).toBe(true);
      expect((warm.user as AuthenticatedUser).username).toBe('editor');
      expect(emulator.requestCount('user')).toBe(1);
    });

    it('refuses an rpc request without a token, and the base guard still refuses rpc', async () => {
      const rpc = app.get(RpcGuard);
      const request = httpRequest();
      const context = rpcContext(request);
      // No response, so no challenge header: the refusal is what counts.
      expect(await outcome(() => rpc.canActivate(context))).toBeInstanceOf(UnauthorizedException);
      expect(
        await outcome(() =>
          guard.canActivate(rpcContext(httpRequest(emulator.issueToken('editor')))),
        ),
      ).toBeInstanceOf(ForbiddenException);
    });
  });

  describe('a subclass that overrides getToken', () => {
    it('reads the token from a cookie, on the cold and the warm path, and ignores the header', async () => {
      const cookies = app.get(CookieGuard);
      const token = emulator.issueToken('viewer');
      const other = emulator.issueToken('editor');
      // Both cached, so that the warm path has a header token it could wrongly prefer.
      await guard.canActivate(httpContext(httpRequest(other)));

      const cold = httpRequest(other, { cookie: `theme=dark; session=${token}` });
      const first = cookies.canActivate(httpContext(cold));
      expect(first).toBeInstanceOf(Promise);
      await first;
      expect((cold.user as AuthenticatedUser).username).toBe('viewer');

      const warm = httpRequest(other, { cookie: `session=${token}` });
      expect(cookies.canActivate(httpContext(warm))).toBe(true);
      expect((warm.user as AuthenticatedUser).username).toBe('viewer');
      expect(cookies.credentials.map((credential) => credential.token)).toEqual([token, token]);
    });

    it('hands the credential it read, as it is, to the strategy and the verifier: read once, hashed once', async () => {
      const cookies = app.get(CookieGuard);
      const validate = vi.spyOn(app.get(ApexAuthStrategy), 'validate');
      const verify = vi.spyOn(app.get(TokenVerifier), 'verify');
      const cached = vi.spyOn(app.get(TokenVerifier), 'cached');
      cookies.credentials.length = 0;
      const request = httpRequest(undefined, {
        cookie: `session=${emulator.issueToken('editor')}`,
      });
      await cookies.canActivate(httpContext(request));
      const [credential] = cookies.credentials;
      expect(cookies.credentials).toHaveLength(1);
      expect(cached).toHaveBeenCalledTimes(1);
      expect(cached.mock.calls[0]?.[0]).toBe(credential);
      expect(validate).toHaveBeenCalledTimes(1);
      expect(validate.mock.calls[0]?.[1]).toBe(credential);
      expect(verify).toHaveBeenCalledTimes(1);
      expect(verify.mock.calls[0]?.[0]).toBe(credential);
    });

    it('refuses a request whose token is only in the header', async () => {
      const cookies = app.get(CookieGuard);
      const token = emulator.issueToken('viewer');
      await guard.canActivate(httpContext(httpRequest(token)));
      const response = httpResponse();
      const error = await outcome(() =>
        cookies.canActivate(httpContext(httpRequest(token), response)),
      );
      expect(error).toBeInstanceOf(UnauthorizedException);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="shop"');
    });
  });

  describe('no shortcut bypasses an overridden hook', () => {
    it('runs an overridden authenticate() and handleRequest() on the cold and on the warm path', async () => {
      const auditing = app.get(AuditingGuard);
      const token = emulator.issueToken('editor');

      auditing.calls.length = 0;
      await auditing.canActivate(httpContext(httpRequest(token)));
      expect(auditing.calls).toEqual(['authenticate', 'handleRequest']);

      auditing.calls.length = 0;
      expect(auditing.canActivate(httpContext(httpRequest(token)))).toBe(true);
      expect(auditing.calls).toEqual(['authenticate', 'handleRequest']);
    });

    it('authenticates the credential authenticate() is given, on the cold path too', async () => {
      const viewer = new BearerCredential(emulator.issueToken('viewer'));
      const request = httpRequest(emulator.issueToken('editor'));
      const context = httpContext(request);
      const hook = guard as unknown as {
        authenticate(...args: unknown[]): Promise<{ username: string }>;
      };
      expect((await hook.authenticate(context, request, viewer)).username).toBe('viewer');
    });

    it('lets an overridden handleRequest() refuse a user whose token is cached', async () => {
      const auditing = app.get(AuditingGuard);
      const token = emulator.issueToken('editor');
      await auditing.canActivate(httpContext(httpRequest(token)));
      auditing.refused = 'editor';
      try {
        const request = httpRequest(token);
        const error = await outcome(() => auditing.canActivate(httpContext(request)));
        expect(error).toBeInstanceOf(ForbiddenException);
        expect(request.user).toBeUndefined();
      } finally {
        auditing.refused = 'nobody';
      }
    });
  });
});
