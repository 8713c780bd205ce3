import {
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  Inject,
  NotFoundException,
  Post,
  Query,
  Req,
  Res,
  UnauthorizedException,
  UseGuards,
  ValidationPipe,
  type Type,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { APEX_AUTH_RESOLVED_OPTIONS } from '../apex-auth.constants.js';
import { ApexAuthGuard } from '../auth/apex-auth.guard.js';
import type { AuthenticatedUser } from '../auth/authenticated-user.js';
import { AuthenticatedUserResolver } from '../auth/authenticated-user.resolver.js';
import { clientKey } from '../auth/client-address.js';
import type { HttpRequestLike } from '../auth/http-request.js';
import { serviceUnavailable } from '../auth/service-unavailable.js';
import { AuthApi } from '../client/index.js';
import { AuthToken } from '../decorators/auth-token.decorator.js';
import { CurrentUser } from '../decorators/current-user.decorator.js';
import { Public } from '../decorators/public.decorator.js';
import type { TokenSet } from '../entities/index.js';
import {
  ApexAuthOptionsError,
  AuthServiceError,
  AuthServicePayloadError,
  AuthServiceUnavailableError,
} from '../errors/index.js';
import {
  LoginAttemptLimiter,
  TooManyLoginAttemptsException,
} from '../login-limits/login-attempt.limiter.js';
import { RefusalDelay } from '../login-limits/refusal-delay.js';
import type { CallerContext } from '../client/index.js';
import type { ResolvedApexAuthOptions } from '../module/apex-auth.options.js';
import { AuthorizationCodeDto } from './authorization-code.dto.js';
import { LoginDto } from './login.dto.js';
import { toTokenResponse, type TokenResponse } from './token-response.js';

// Its own pipe, so the routes validate whether or not the app has a global one.
const validation = new ValidationPipe({
  whitelist: true,
  forbidUnknownValues: true,
  // One message per field: "username should not be empty", not every rule it also breaks.
  stopAtFirstError: true,
  validationError: { target: false, value: false },
});

/**
 * The login routes, mounted at `controller.path` (default `auth`):
 * - `POST login` — password login (form or JSON) → RFC 6749 token response;
 * - `POST login/code` — OAuth authorization-code exchange (`code` in query or body);
 * - `GET me` — the current {@link AuthenticatedUser};
 * - `POST logout` — forgets the caller's token in this service's cache.
 *
 * The auth-service's error bodies never reach the caller: every kind of wrong
 * credentials is one `401`, answered no sooner than the slowest login the
 * auth-service answered lately (at least `login.minFailureMs`);
 * repeated failures are `429`; an unhealthy auth-service is `503`.
 */
@Controller()
export class AuthController {
  constructor(
    protected readonly authApi: AuthApi,
    protected readonly limiter: LoginAttemptLimiter,
    protected readonly refusalDelay: RefusalDelay,
    protected readonly users: AuthenticatedUserResolver,
    protected readonly adapterHost: HttpAdapterHost,
    @Inject(APEX_AUTH_RESOLVED_OPTIONS) protected readonly options: ResolvedApexAuthOptions,
  ) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  login(
    @Body(validation) body: LoginDto,
    @Req() request: HttpRequestLike,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<TokenResponse> {
    return this.signIn(body.username, request, response, 'invalid username or password', (on) =>
      this.authApi.login(body.username, body.password, on),
    );
  }

  @Public()
  @Post('login/code')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async exchangeCode(
    @Query('code') queryCode: unknown,
    @Body() body: unknown,
    @Req() request: HttpRequestLike,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<TokenResponse> {
    const bodyCode = (body as { code?: unknown } | undefined)?.code;
    const { code } = (await validation.transform(
      { code: bodyCode ?? queryCode },
      { type: 'body', metatype: AuthorizationCodeDto },
    )) as AuthorizationCodeDto;
    return this.signIn(undefined, request, response, 'invalid authorization code', (on) =>
      this.authApi.exchangeCode(code, on),
    );
  }

  @Get('me')
  me(@CurrentUser() user: AuthenticatedUser): AuthenticatedUser {
    return user;
  }

  /**
   * Evicts the caller's token from this service's cache, so that its next use
   * asks the auth-service again. The auth-service has no revocation endpoint:
   * the token itself stays valid there until it expires.
   */
  @Post('logout')
  @HttpCode(204)
  logout(@AuthToken() token: string): void {
    this.users.evict(token);
  }

  /**
   * Runs one sign-in under the failed-login limits. Every refusal is the same
   * `401`, counted, and answered no sooner than the {@link RefusalDelay}.
   */
  protected async signIn(
    username: string | undefined,
    request: HttpRequestLike,
    response: unknown,
    refusal: string,
    attempt: (on: CallerContext) => Promise<TokenSet>,
  ): Promise<TokenResponse> {
    const started = Date.now();
    const client = clientKey(request.ip, this.options.ipv6PrefixLength);
    let release: (() => void) | undefined;
    try {
      release = await this.limiter.assertAllowed(username, client);
      const tokens = await attempt({ caller: client });
      this.refusalDelay.observe(Date.now() - started);
      return toTokenResponse(tokens);
    } catch (error) {
      if (error instanceof TooManyLoginAttemptsException) {
        this.setHeader(response, 'Retry-After', String(error.retryAfterSeconds));
        throw error;
      }
      if (
        error instanceof AuthServiceUnavailableError ||
        error instanceof AuthServicePayloadError
      ) {
        const { exception, retryAfterSeconds } = serviceUnavailable(error);
        this.setHeader(response, 'Retry-After', String(retryAfterSeconds));
        throw exception;
      }
      if (error instanceof ApexAuthOptionsError) {
        // The route exists on every registration; without an OAuth client it has nothing to do.
        throw new NotFoundException(`not configured: ${error.option}`);
      }
      if (!(error instanceof AuthServiceError)) throw error;
      // An answer of the auth-service: how long it took is what refusals must not reveal.
      this.refusalDelay.observe(Date.now() - started);
      await this.limiter.recordFailure(username, client);
      // Counted: the next attempt sees this failure, so it no longer holds a place.
      release?.();
      const wait = this.refusalDelay.boundMs - (Date.now() - started);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      throw new UnauthorizedException(refusal);
    } finally {
      release?.();
    }
  }

  private setHeader(response: unknown, name: string, value: string): void {
    this.adapterHost.httpAdapter.setHeader(response, name, value);
  }
}

/**
 * The controller mounted at `path`. A subclass per module registration, so
 * the path is the registration's and not a mutation of a shared class; when
 * the guard is not global, the routes are guarded here.
 */
export function createAuthController(path: string, guarded: boolean): Type<AuthController> {
  @Controller(path)
  class MountedAuthController extends AuthController {}
  if (guarded) UseGuards(ApexAuthGuard)(MountedAuthController);
  return MountedAuthController;
}
