import {
  ForbiddenException,
  HttpException,
  Inject,
  Injectable,
  Logger,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { APEX_AUTH_SETTINGS, type ApexAuthSettings } from '../module/apex-auth.settings.js';
import {
  requirementName,
  unmetRequirement,
  type PermissionRequirement,
} from '../permissions/permission-requirement.js';
import { ApexAuthStrategy } from '../verification/apex-auth.strategy.js';
import { AuthenticationFailure } from '../verification/authentication-failure.js';
import { TokenVerifier } from '../verification/token-verifier.js';
import type { AuthenticatedUser } from '../verification/user-lookup.js';
import {
  bearerTokenOf,
  setBearerTokenOf,
  type BearerCredential,
  type BearerTokenResult,
} from './bearer-token.js';
import type { HttpRequestLike } from './http-request.js';
import { retriesLater } from './http-refusals.js';
import { routeRules, type RouteRules } from './route-rules.js';
import { callerOf } from '../transports/callers.js';
import { SubscriptionCaller } from '../transports/graphql-caller.js';
import { closeAtExpiry } from '../transports/subscription-expiry.js';
import { forgetUserOf, transportOf, type Transport } from '../transports/transport-caller.js';
import { refuseOver } from '../transports/transport-refusals.js';

/**
 * Authenticates the caller's bearer token and enforces `@Public()`,
 * `@Permissions()`, `@ServiceAdmin()` and `@SuperAdmin()`.
 *
 * Registered for every route when `globalGuard` is on (the default); otherwise
 * use it with `@UseGuards(ApexAuthGuard)`. Answers: no or bad token `401` (with
 * `WWW-Authenticate`), a missing permission `403`, too many refused tokens from
 * one address `429`, the auth-service failing `503` (both with `Retry-After`);
 * a context it cannot read a request from is denied.
 *
 * It serves GraphQL resolvers (the HTTP request's header; a subscription's
 * `connectionParams`), WebSocket gateways (the handshake's token) and, when the
 * app gives `rpcToken`, microservice handlers, with the same rules; there its
 * refusals are the transport's own errors (a GraphQL error with
 * `extensions.code`, a `WsException`, an `RpcException`).
 *
 * A token validated before is served from the cache without entering Passport
 * (a hash and a lookup, no await); a new one goes through the module's
 * Passport strategy. Subclass it and override the protected hooks (as with
 * `AuthGuard` of `@nestjs/passport`: `getRequest`, `getResponse`, and
 * `getToken`) to serve another transport, or the others to change one decision.
 */
@Injectable()
export class ApexAuthGuard implements CanActivate {
  private readonly logger = new Logger('ApexAuth');

  constructor(
    protected readonly verifier: TokenVerifier,
    protected readonly strategy: ApexAuthStrategy,
    protected readonly adapterHost: HttpAdapterHost,
    @Inject(APEX_AUTH_SETTINGS) protected readonly settings: ApexAuthSettings,
  ) {}

  // Not `async`: a cached token and synchronous requirements are judged without a single await.
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = this.getRequest(context);
    // What is not understood is denied, never waved through.
    if (request === undefined) throw new ForbiddenException('unsupported execution context');
    // HTTP first, and alone: its warm path stays as it is.
    const transport = context.getType() === 'http' ? undefined : transportOf(request);
    return transport === undefined
      ? this.activate(context, request)
      : this.activateOver(transport, context, request);
  }

  /** A request the module read for another transport: its refusals in that transport's terms. */
  private activateOver(
    transport: Transport,
    context: ExecutionContext,
    request: HttpRequestLike,
  ): boolean | Promise<boolean> {
    let outcome: boolean | Promise<boolean>;
    try {
      outcome = this.activate(context, request);
    } catch (error) {
      return refuseOver(transport, error);
    }
    if (!(outcome instanceof Promise)) return this.admitted(request, outcome);
    return outcome.then(
      (admitted) => this.admitted(request, admitted),
      (error: unknown) => refuseOver(transport, error),
    );
  }

  /** A subscription accepted with a token: its connection closes when the token expires. */
  private admitted(request: HttpRequestLike, admitted: boolean): boolean {
    if (request instanceof SubscriptionCaller && request.user !== undefined) {
      const bearer = bearerTokenOf(request);
      if ('credential' in bearer) closeAtExpiry(request.connection, bearer.credential);
    }
    return admitted;
  }

  private activate(
    context: ExecutionContext,
    request: HttpRequestLike,
  ): boolean | Promise<boolean> {
    const bearer = this.getToken(request, context);
    // What this guard read is what the strategy sees, whatever the transport.
    setBearerTokenOf(request, bearer);

    if (this.isPublic(context)) {
      return 'credential' in bearer
        ? this.authenticateOptionally(context, request, bearer.credential)
        : true;
    }
    if (!('credential' in bearer)) {
      throw this.unauthorized(
        context,
        new AuthenticationFailure(bearer.problem === 'missing' ? 'missing token' : 'invalid token'),
      );
    }
    const user = this.authenticate(context, request, bearer.credential);
    if (user instanceof Promise) {
      return user.then((found) => {
        request.user = found;
        return granted(this.authorize(context, found));
      });
    }
    request.user = user;
    return granted(this.authorize(context, user));
  }

  /**
   * The request of a context (`undefined` when it has none this guard can
   * read): an HTTP route's request; a resolver's HTTP request, or its
   * subscription's caller; a gateway's connection caller; an rpc message's
   * caller when the app gave `rpcToken`.
   */
  protected getRequest(context: ExecutionContext): HttpRequestLike | undefined {
    return callerOf(context, this.settings);
  }

  /**
   * The response of a context, for headers such as `WWW-Authenticate` and
   * `Retry-After`: an HTTP route's, and none elsewhere (a GraphQL answer, a
   * message, carries no such header).
   */
  protected getResponse(context: ExecutionContext): unknown {
    return context.getType() === 'http' ? context.switchToHttp().getResponse<unknown>() : undefined;
  }

  /**
   * The bearer token of a request: its `Authorization` header by default, or,
   * for a caller the module read over another transport, the token it read
   * there.
   */
  protected getToken(request: HttpRequestLike, _context: ExecutionContext): BearerTokenResult {
    return bearerTokenOf(request);
  }

  /**
   * Whether the route needs no token: `@Public()` applies to it and no
   * requirement does (a requirement always wins over `@Public()`).
   */
  protected isPublic(context: ExecutionContext): boolean {
    return this.rulesOf(context).isPublic;
  }

  /**
   * The user of a token: from the cache at once when it was validated before,
   * else through the module's Passport strategy. Either way it passes
   * {@link ApexAuthGuard.handleRequest}, so that an override of it judges
   * cached tokens too.
   *
   * @throws the `401`, `429` or `503` to answer
   */
  protected authenticate(
    context: ExecutionContext,
    request: HttpRequestLike,
    credential: BearerCredential,
  ): AuthenticatedUser<object> | Promise<AuthenticatedUser<object>> {
    const cached = this.verifier.cached(credential);
    if (cached !== undefined) return this.handleRequest(null, cached, undefined, context);
    // The strategy reads the request's token: the one this hook was given, whatever its caller read.
    setBearerTokenOf(request, { credential });
    return this.runStrategy(context, request);
  }

  /** On a public route: a valid token still sets the user; anything else is ignored. */
  protected authenticateOptionally(
    context: ExecutionContext,
    request: HttpRequestLike,
    credential: BearerCredential,
  ): true | Promise<true> {
    let user: AuthenticatedUser<object> | Promise<AuthenticatedUser<object>>;
    try {
      user = this.authenticate(context, request, credential);
    } catch {
      forgetUserOf(request);
      return true;
    }
    if (!(user instanceof Promise)) {
      request.user = user;
      return true;
    }
    return user.then(
      (found) => {
        request.user = found;
        return true as const;
      },
      () => {
        forgetUserOf(request);
        return true as const;
      },
    );
  }

  /**
   * Turns what Passport reports (for a cached token: no error and the cached
   * user) into the user, or the exception to answer: `Retry-After` for a `503`
   * or `429`, a `401` with its challenge otherwise.
   */
  protected handleRequest(
    error: unknown,
    user: AuthenticatedUser<object> | false | undefined,
    info: unknown,
    context: ExecutionContext,
  ): AuthenticatedUser<object> {
    if (retriesLater(error)) {
      this.setHeader(context, 'Retry-After', String(error.retryAfterSeconds));
      throw error;
    }
    // A bug, not a verdict: Nest answers 500.
    if (error !== null && error !== undefined) throw error as Error;
    if (user === false || user === undefined) {
      throw this.unauthorized(
        context,
        info instanceof AuthenticationFailure ? info : new AuthenticationFailure('invalid token'),
      );
    }
    return user;
  }

  /**
   * Throws a `403` naming the first requirement the user does not meet: the
   * admin roles, then every `@Permissions()` requirement in order. Async
   * predicates are awaited; a predicate grants only with exactly `true`, and
   * one that throws or rejects denies.
   */
  protected authorize(
    context: ExecutionContext,
    user: AuthenticatedUser<object>,
  ): void | Promise<void> {
    const { roles, permissions } = this.rulesOf(context);
    for (const role of roles) {
      if (role === 'superadmin' && !user.isAdmin) {
        throw new ForbiddenException('superadmin required');
      }
      if (role === 'service-admin' && !(user.isServiceAdmin || user.isAdmin)) {
        throw new ForbiddenException('service admin required');
      }
    }
    return this.checkPermissions(permissions, 0, user);
  }

  /** A `401` with an RFC 6750 challenge; the reason, never the token. */
  protected unauthorized(context: ExecutionContext, failure: AuthenticationFailure): HttpException {
    const realm = `Bearer realm="${this.settings.serviceName}"`;
    this.setHeader(
      context,
      'WWW-Authenticate',
      failure.reason === 'missing token'
        ? realm
        : `${realm}, error="invalid_token", error_description="${failure.reason}"`,
    );
    return new UnauthorizedException(failure.reason);
  }

  /** The route's rules, combined once per route. */
  protected rulesOf(context: ExecutionContext): RouteRules {
    return routeRules(context.getClass(), context.getHandler());
  }

  /** Sets a header of the answer; a transport without a response (`getResponse` gives none) has no headers. */
  protected setHeader(context: ExecutionContext, name: string, value: string): void {
    const response = this.getResponse(context);
    if (response === undefined || response === null) return;
    this.adapterHost.httpAdapter.setHeader(response, name, value);
  }

  /** The new token goes through Passport, on the strategy's own Passport instance. */
  private runStrategy(
    context: ExecutionContext,
    request: HttpRequestLike,
  ): Promise<AuthenticatedUser<object>> {
    const response = this.getResponse(context);
    return new Promise((resolve, reject) => {
      const authenticate = this.strategy
        .getPassportInstance()
        .authenticate(
          this.strategy.strategyName,
          { session: false },
          (error: unknown, user: AuthenticatedUser<object> | false, info: unknown) => {
            try {
              resolve(this.handleRequest(error, user, info, context));
            } catch (refusal) {
              // What handleRequest throws is the answer: an HttpException (an Error) or a bug.
              reject(refusal instanceof Error ? refusal : new Error('authentication failed'));
            }
          },
        ) as (request: unknown, response: unknown, next: (error?: unknown) => void) => void;
      authenticate(passportViewOf(request), response, (error?: unknown) =>
        reject(error instanceof Error ? error : new Error('the strategy passed the request on')),
      );
    });
  }

  private checkPermissions(
    requirements: readonly PermissionRequirement[],
    from: number,
    user: AuthenticatedUser<object>,
  ): void | Promise<void> {
    for (let i = from; i < requirements.length; i++) {
      const unmet = this.unmet(requirements[i], user);
      // In order, one at a time: a later predicate never runs for a user already refused.
      if (unmet instanceof Promise) {
        return unmet.then((reason) => {
          if (reason !== undefined) throw new ForbiddenException(reason);
          return this.checkPermissions(requirements, i + 1, user);
        });
      }
      if (unmet !== undefined) throw new ForbiddenException(unmet);
    }
  }

  private unmet(
    requirement: PermissionRequirement,
    user: AuthenticatedUser<object>,
  ): string | undefined | Promise<string | undefined> {
    try {
      const unmet = unmetRequirement(requirement, user, this.settings.schema);
      return unmet instanceof Promise
        ? unmet.catch((error: unknown) => {
            throw this.deniedBy(requirement, error);
          })
        : unmet;
    } catch (error) {
      throw this.deniedBy(requirement, error);
    }
  }

  /** A requirement that threw denies; an HTTP exception it threw on purpose is answered as is. */
  private deniedBy(requirement: PermissionRequirement, error: unknown): HttpException {
    if (error instanceof HttpException) return error;
    const name = typeof requirement === 'function' ? requirementName(requirement) : 'requirement';
    // The error's name only: its message is the app's and may hold anything.
    const kind = error instanceof Error ? error.name : typeof error;
    this.logger.error(`Permission requirement ${name} threw (${kind}); access denied`);
    return new ForbiddenException(`missing permission: ${name}`);
  }
}

function granted(authorized: void | Promise<void>): true | Promise<true> {
  return authorized instanceof Promise ? authorized.then(() => true as const) : true;
}

/**
 * The request as Passport gets it: a plain object with what the strategy
 * reads (the headers, the client address, and what the guard read of the
 * token), on which Passport's own writes stay. Passport sets seven
 * properties (`login`, `isAuthenticated`, `_sessionManager`, ...) on every
 * request it authenticates; without sessions none of them means anything,
 * and adding them to Express's request objects cost about 20 µs a request
 * (the benchmark's new-token rows). Not `Object.create(request)`: making
 * the request a prototype would slow every later read of it.
 */
function passportViewOf(request: HttpRequestLike): HttpRequestLike {
  const view: HttpRequestLike = { headers: request.headers, ip: request.ip };
  setBearerTokenOf(view, bearerTokenOf(request));
  return view;
}
