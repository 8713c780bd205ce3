import {
  ForbiddenException,
  HttpException,
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import type { Strategy } from 'passport';
import {
  APEX_AUTH_PERMISSIONS,
  APEX_AUTH_PUBLIC,
  APEX_AUTH_RESOLVED_OPTIONS,
  APEX_AUTH_ROLES,
  APEX_AUTH_STRATEGY,
} from '../apex-auth.constants.js';
import type { AdminRole } from '../decorators/admin-roles.decorator.js';
import { AuthServiceError } from '../errors/index.js';
import type { ResolvedApexAuthOptions } from '../module/apex-auth.options.js';
import {
  unmetRequirement,
  type PermissionRequirement,
} from '../permissions/permission-requirement.js';
import type { AuthenticatedUser } from './authenticated-user.js';
import { AuthenticatedUserResolver } from './authenticated-user.resolver.js';
import { AuthenticationFailure } from './authentication-failure.js';
import { readBearerToken } from './bearer-token.js';
import { httpRequestOf, httpResponseOf, type HttpRequestLike } from './http-request.js';
import { rememberRequestToken } from './request-token.js';
import { serviceUnavailable } from './service-unavailable.js';
import { runStrategy } from './run-strategy.js';

/**
 * Authenticates the caller's bearer token and enforces `@Public()`,
 * `@Permissions()`, `@ServiceAdmin()` and `@SuperAdmin()`.
 *
 * Registered for every route when `globalGuard` is on (the default); otherwise
 * use it with `@UseGuards(ApexAuthGuard)`. The module is global, so it works in
 * any feature module. Answers: no or bad token `401` (with `WWW-Authenticate`),
 * a missing permission `403`, the auth-service failing `503` (with
 * `Retry-After`), and a non-HTTP context is denied. Subclass it and override
 * the protected methods to change one decision.
 */
@Injectable()
export class ApexAuthGuard implements CanActivate {
  constructor(
    protected readonly reflector: Reflector,
    protected readonly adapterHost: HttpAdapterHost,
    @Inject(APEX_AUTH_STRATEGY) protected readonly strategy: Strategy,
    @Inject(APEX_AUTH_RESOLVED_OPTIONS) protected readonly options: ResolvedApexAuthOptions,
    protected readonly users: AuthenticatedUserResolver,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = httpRequestOf(context);
    // Only HTTP is understood yet; anything else is denied, never waved through.
    if (request === undefined) throw new ForbiddenException('unsupported execution context');
    const bearer = readBearerToken(request);
    if ('token' in bearer) rememberRequestToken(request, bearer.token);

    if (this.isPublic(context)) {
      if ('token' in bearer) await this.authenticateOptionally(request, bearer.token);
      return true;
    }
    if (!('token' in bearer)) {
      throw this.unauthorized(
        context,
        new AuthenticationFailure(bearer.problem === 'missing' ? 'missing token' : 'invalid token'),
      );
    }
    request.user = this.users.cached(bearer.token) ?? (await this.authenticate(context, request));
    this.authorize(context, request.user as AuthenticatedUser<object>);
    return true;
  }

  /** Whether the route (or its controller) is `@Public()`. */
  protected isPublic(context: ExecutionContext): boolean {
    return (
      this.reflector.getAllAndOverride<boolean | undefined>(APEX_AUTH_PUBLIC, [
        context.getHandler(),
        context.getClass(),
      ]) === true
    );
  }

  /**
   * Runs the strategy for a token not in the cache; resolves with the user or
   * throws the `401`/`503` to answer.
   */
  protected async authenticate(
    context: ExecutionContext,
    request: HttpRequestLike,
  ): Promise<AuthenticatedUser<object>> {
    const outcome = await runStrategy(this.strategy, request);
    if ('user' in outcome) return outcome.user;
    const cause = 'failure' in outcome ? outcome.failure : outcome.error;
    if (cause instanceof AuthServiceError) throw this.unavailable(context, cause);
    if ('error' in outcome) throw cause; // a bug, not a verdict: Nest answers 500
    throw this.unauthorized(context, toAuthenticationFailure(cause));
  }

  /** On a public route: a valid token still sets the user; anything else is ignored. */
  protected async authenticateOptionally(request: HttpRequestLike, token: string): Promise<void> {
    const cached = this.users.cached(token);
    if (cached !== undefined) {
      request.user = cached;
      return;
    }
    const outcome = await runStrategy(this.strategy, request);
    if ('user' in outcome) request.user = outcome.user;
  }

  /** Throws a `403` naming the first requirement the user does not meet. */
  protected authorize(context: ExecutionContext, user: AuthenticatedUser<object>): void {
    const targets = [context.getClass(), context.getHandler()];
    for (const role of this.reflector.getAll<(AdminRole | undefined)[]>(APEX_AUTH_ROLES, targets)) {
      if (role === 'superadmin' && !user.isAdmin) {
        throw new ForbiddenException('superadmin required');
      }
      if (role === 'service-admin' && !(user.isServiceAdmin || user.isAdmin)) {
        throw new ForbiddenException('service admin required');
      }
    }
    const requirements = this.reflector
      .getAll<(PermissionRequirement[] | undefined)[]>(APEX_AUTH_PERMISSIONS, targets)
      .flat()
      .filter((requirement) => requirement !== undefined);
    for (const requirement of requirements) {
      const unmet = unmetRequirement(requirement, user, this.options.schema);
      if (unmet !== undefined) throw new ForbiddenException(unmet);
    }
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

  private setHeader(context: ExecutionContext, name: string, value: string): void {
    this.adapterHost.httpAdapter.setHeader(httpResponseOf(context), name, value);
  }
}

function toAuthenticationFailure(cause: unknown): AuthenticationFailure {
  if (cause instanceof AuthenticationFailure) return cause;
  // passport-jwt hands over jsonwebtoken's errors; only expiry deserves its own word.
  const name = (cause as { name?: unknown } | null)?.name;
  return new AuthenticationFailure(
    name === 'TokenExpiredError' ? 'token expired' : 'invalid token',
  );
}
