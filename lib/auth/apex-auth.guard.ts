import {
  ForbiddenException,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  Logger,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import type { Strategy } from 'passport';
import { APEX_AUTH_RESOLVED_OPTIONS, APEX_AUTH_STRATEGY } from '../apex-auth.constants.js';
import { AuthServiceError } from '../errors/index.js';
import type { ResolvedApexAuthOptions } from '../module/apex-auth.options.js';
import {
  requirementName,
  unmetRequirement,
  type PermissionRequirement,
} from '../permissions/permission-requirement.js';
import type { AuthenticatedUser } from './authenticated-user.js';
import { AuthenticatedUserResolver } from './authenticated-user.resolver.js';
import { AuthenticationFailure } from './authentication-failure.js';
import { readBearerToken } from './bearer-token.js';
import { httpRequestOf, httpResponseOf, type HttpRequestLike } from './http-request.js';
import { TooManyTokenLookupsError } from './lookup-budget.js';
import { rememberRequestToken } from './request-token.js';
import { routeRules, type RouteRules } from './route-rules.js';
import { runStrategy } from './run-strategy.js';
import { serviceUnavailable } from './service-unavailable.js';

/**
 * Authenticates the caller's bearer token and enforces `@Public()`,
 * `@Permissions()`, `@ServiceAdmin()` and `@SuperAdmin()`.
 *
 * Registered for every route when `globalGuard` is on (the default); otherwise
 * use it with `@UseGuards(ApexAuthGuard)`. The module is global, so it works in
 * any feature module. Answers: no or bad token `401` (with `WWW-Authenticate`),
 * a missing permission `403`, too many new tokens from one address `429`, the
 * auth-service failing `503` (with `Retry-After`), and a non-HTTP context is
 * denied. Subclass it and override the protected methods to change one decision.
 */
@Injectable()
export class ApexAuthGuard implements CanActivate {
  private readonly logger = new Logger('ApexAuth');

  constructor(
    protected readonly reflector: Reflector,
    protected readonly adapterHost: HttpAdapterHost,
    @Inject(APEX_AUTH_STRATEGY) protected readonly strategy: Strategy,
    @Inject(APEX_AUTH_RESOLVED_OPTIONS) protected readonly options: ResolvedApexAuthOptions,
    protected readonly users: AuthenticatedUserResolver,
  ) {}

  // Not `async`: a cached token and synchronous requirements are judged without a single await.
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = httpRequestOf(context);
    // Only HTTP is understood yet; anything else is denied, never waved through.
    if (request === undefined) throw new ForbiddenException('unsupported execution context');
    const bearer = readBearerToken(request);
    if ('token' in bearer) rememberRequestToken(request, bearer.token);

    if (this.isPublic(context)) {
      return 'token' in bearer ? this.authenticateOptionally(request, bearer.token) : true;
    }
    if (!('token' in bearer)) {
      throw this.unauthorized(
        context,
        new AuthenticationFailure(bearer.problem === 'missing' ? 'missing token' : 'invalid token'),
      );
    }
    const cached = this.users.cached(bearer.token);
    if (cached !== undefined) {
      request.user = cached;
      return granted(this.authorize(context, cached));
    }
    return this.authenticate(context, request).then((user) => {
      request.user = user;
      return granted(this.authorize(context, user));
    });
  }

  /**
   * Whether the route needs no token: `@Public()` applies to it and no
   * requirement does (a requirement always wins over `@Public()`).
   */
  protected isPublic(context: ExecutionContext): boolean {
    return this.rulesOf(context).isPublic;
  }

  /**
   * Runs the strategy for a token not in the cache; resolves with the user or
   * throws the `401`/`429`/`503` to answer.
   */
  protected async authenticate(
    context: ExecutionContext,
    request: HttpRequestLike,
  ): Promise<AuthenticatedUser<object>> {
    const outcome = await runStrategy(this.strategy, request);
    if ('user' in outcome) return outcome.user;
    const cause = 'failure' in outcome ? outcome.failure : outcome.error;
    if (cause instanceof AuthServiceError) throw this.unavailable(context, cause);
    if (cause instanceof TooManyTokenLookupsError) throw this.tooManyLookups(context, cause);
    if ('error' in outcome) throw cause; // a bug, not a verdict: Nest answers 500
    throw this.unauthorized(
      context,
      cause instanceof AuthenticationFailure ? cause : new AuthenticationFailure('invalid token'),
    );
  }

  /** On a public route: a valid token still sets the user; anything else is ignored. */
  protected authenticateOptionally(request: HttpRequestLike, token: string): true | Promise<true> {
    const cached = this.users.cached(token);
    if (cached !== undefined) {
      request.user = cached;
      return true;
    }
    return runStrategy(this.strategy, request).then((outcome) => {
      if ('user' in outcome) request.user = outcome.user;
      return true;
    });
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
    const realm = `Bearer realm="${this.options.serviceName}"`;
    this.setHeader(
      context,
      'WWW-Authenticate',
      failure.reason === 'missing token'
        ? realm
        : `${realm}, error="invalid_token", error_description="${failure.reason}"`,
    );
    return new UnauthorizedException(failure.reason);
  }

  /** A `503` with `Retry-After`: the auth-service could not judge the token. */
  protected unavailable(context: ExecutionContext, error: AuthServiceError): HttpException {
    const { exception, retryAfterSeconds } = serviceUnavailable(error);
    this.setHeader(context, 'Retry-After', String(retryAfterSeconds));
    return exception;
  }

  /** A `429` with `Retry-After`: this address sent more new tokens than its budget. */
  protected tooManyLookups(
    context: ExecutionContext,
    error: TooManyTokenLookupsError,
  ): HttpException {
    this.setHeader(context, 'Retry-After', String(error.retryAfterSeconds));
    return new HttpException(error.message, HttpStatus.TOO_MANY_REQUESTS);
  }

  /** The route's rules, combined once per route. */
  protected rulesOf(context: ExecutionContext): RouteRules {
    return routeRules(context.getClass(), context.getHandler());
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
      const unmet = unmetRequirement(requirement, user, this.options.schema);
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

  private setHeader(context: ExecutionContext, name: string, value: string): void {
    this.adapterHost.httpAdapter.setHeader(httpResponseOf(context), name, value);
  }
}

function granted(authorized: void | Promise<void>): true | Promise<true> {
  return authorized instanceof Promise ? authorized.then(() => true as const) : true;
}
