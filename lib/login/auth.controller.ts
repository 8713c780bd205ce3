import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Logger,
  NotImplementedException,
  Post,
  Query,
  Req,
  Res,
  UnauthorizedException,
  UseGuards,
  ValidationPipe,
  type OnModuleInit,
  type Type,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApexAuthGuard } from '../auth/apex-auth.guard.js';
import { addressOf, type HttpRequestLike } from '../auth/http-request.js';
import { AuthServiceUnavailableException, retriesLater } from '../auth/http-refusals.js';
import { AuthApi, type CallerContext } from '../client/index.js';
import { AuthToken, CurrentUser } from '../decorators/param.decorators.js';
import { Public } from '../decorators/requirement.decorators.js';
import type { TokenSet } from '../client/auth-service.entities.js';
import {
  ApexAuthOptionsError,
  AuthServiceError,
  AuthServiceNotFoundError,
  isUpstreamFailure,
} from '../errors/index.js';
import { type ApexAuthSettings, APEX_AUTH_SETTINGS } from '../module/apex-auth.settings.js';
import { clientKey } from '../verification/client-address.js';
import { TokenVerifier } from '../verification/token-verifier.js';
import type { AuthenticatedUser } from '../verification/user-lookup.js';
import { LoginAttemptLimiter } from './login-attempt.limiter.js';
import {
  AuthorizationCodeDto,
  LoginDto,
  RefreshTokenDto,
  toTokenResponse,
  type TokenResponse,
} from './login.dtos.js';
import { RefusalDelay } from './refusal-delay.js';

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
 * - `POST login/code` — OAuth authorization-code exchange (`code` in query or body),
 *   mounted by the module where it is configured (see {@link AuthController.exchangeCode});
 * - `POST refresh` — new tokens for a refresh token (form or JSON), the rotated one included;
 * - `GET me` — the current {@link AuthenticatedUser};
 * - `POST logout` — forgets the caller's token in this service's cache.
 *
 * The auth-service's error bodies never reach the caller: every kind of wrong
 * credentials is one `401`, answered no sooner than the slowest login the
 * auth-service answered lately (at least `login.minFailureMs`);
 * repeated failures are `429`; an unhealthy auth-service is `503`; an
 * auth-service without refresh tokens is `501` on `POST refresh`.
 */
@Controller()
export class AuthController {
  constructor(
    protected readonly authApi: AuthApi,
    protected readonly limiter: LoginAttemptLimiter,
    protected readonly refusalDelay: RefusalDelay,
    protected readonly verifier: TokenVerifier,
    protected readonly adapterHost: HttpAdapterHost,
    @Inject(APEX_AUTH_SETTINGS) protected readonly settings: ApexAuthSettings,
  ) {}

  @Public()
  @Post('login')
  login(
    @Body(validation) body: LoginDto,
    @Req() request: HttpRequestLike,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<TokenResponse> {
    return this.signIn(body.username, request, response, 'invalid username or password', (on) =>
      this.authApi.login(body.username, body.password, on),
    );
  }

  /**
   * The OAuth authorization-code exchange (`code` in the query or the body).
   * Not a route here: the module mounts it as `POST <path>/login/code` where the
   * exchange is configured, so that elsewhere the path is an unknown route. A
   * subclass mounts it with a route of its own that calls this.
   */
  protected async exchangeCode(
    queryCode: unknown,
    body: unknown,
    request: HttpRequestLike,
    response: unknown,
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

  /**
   * New tokens for a refresh token; the auth-service rotates it, so the answer
   * holds the one to use next. A refused or reused one is the same `401`, and
   * counts against the client address under the failed-login limits (a refresh
   * token names no user that could be counted before the auth-service answers).
   */
  @Public()
  @Post('refresh')
  refresh(
    @Body(validation) body: RefreshTokenDto,
    @Req() request: HttpRequestLike,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<TokenResponse> {
    return this.signIn(undefined, request, response, 'invalid refresh token', async (on) => {
      try {
        return await this.authApi.refresh(body.refresh_token, on);
      } catch (error) {
        // The auth-service lacks the grant: no fault of the caller's, so neither counted nor a 401.
        if (error instanceof AuthServiceNotFoundError) {
          throw new NotImplementedException('the auth-service does not support refresh tokens');
        }
        throw error;
      }
    });
  }

  // Guarded here, not only by the global guard: a subclass mounted with it off stays closed.
  @UseGuards(ApexAuthGuard)
  @Get('me')
  me(@CurrentUser() user: AuthenticatedUser): AuthenticatedUser {
    return user;
  }

  /**
   * Evicts the caller's token from this service's cache, so that its next use
   * asks the auth-service again. The auth-service has no revocation endpoint:
   * the token itself stays valid there until it expires.
   */
  @UseGuards(ApexAuthGuard)
  @Post('logout')
  @HttpCode(204)
  async logout(@AuthToken() token: string): Promise<void> {
    await this.verifier.forget(token);
  }

  /**
   * Runs one sign-in under the failed-login limits. Every refusal is the same
   * `401`, counted, and answered no sooner than the {@link RefusalDelay}. The
   * answer is never stored by a cache (`Cache-Control: no-store`, RFC 6749
   * §5.1), and a token set is a `200`: set here, so that a route of a
   * subclass's own that signs in gets both without decorators.
   *
   * @param username - the username a password login counts failures for; `undefined` for a
   *   credential that names none (a code, a refresh token): counted per address only
   */
  protected async signIn(
    username: string | undefined,
    request: HttpRequestLike,
    response: unknown,
    refusal: string,
    attempt: (on: CallerContext) => Promise<TokenSet>,
  ): Promise<TokenResponse> {
    const started = Date.now();
    this.setHeader(response, 'Cache-Control', 'no-store');
    this.setHeader(response, 'Pragma', 'no-cache');
    const client = clientKey(addressOf(request), this.settings.ipv6PrefixLength);
    let release: (() => void) | undefined;
    try {
      release = await this.limiter.assertAllowed(username, client);
      const tokens = await attempt({ caller: client });
      // Only a password login makes the auth-service hash a password: what refusals must hide.
      if (username !== undefined) this.refusalDelay.observeSuccess(Date.now() - started);
      this.adapterHost.httpAdapter.status(response, 200);
      return toTokenResponse(tokens);
    } catch (caught) {
      const error = isUpstreamFailure(caught)
        ? new AuthServiceUnavailableException(caught)
        : caught;
      if (retriesLater(error)) {
        this.setHeader(response, 'Retry-After', String(error.retryAfterSeconds));
        throw error;
      }
      if (!(error instanceof AuthServiceError)) throw error;
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
 * `AuthController` with the code exchange as a route, `POST login/code`: the
 * base of the mounted controller where the exchange is configured.
 */
@Controller()
export class CodeExchangeRoute extends AuthController {
  @Public()
  @Post('login/code')
  loginWithCode(
    @Query('code') queryCode: unknown,
    @Body() body: unknown,
    @Req() request: HttpRequestLike,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<TokenResponse> {
    return this.exchangeCode(queryCode, body, request, response);
  }
}

/**
 * The controller mounted at `path`: a subclass per module registration, so
 * that the path is the registration's and not a mutation of a shared class,
 * logged under the name `AuthController`. Only with `codeExchange` does it
 * have the `login/code` route: elsewhere the path answers as an unknown route.
 */
export function mountedAuthController(
  path: string,
  { codeExchange }: { codeExchange: boolean },
): Type<AuthController> {
  const base: Type<AuthController> = codeExchange ? CodeExchangeRoute : AuthController;
  @Controller(path)
  class MountedAuthController extends base implements OnModuleInit {
    onModuleInit(): void {
      const configured = this.settings.api.oauthClient !== undefined;
      if (codeExchange && !configured) {
        throw new ApexAuthOptionsError(
          'controller.codeExchange',
          'is on, but there is no `oauthClient`: the code exchange needs it',
        );
      }
      if (!codeExchange && configured) {
        new Logger('ApexAuth').warn(
          `oauthClient is set, but POST /${path}/login/code is not mounted: with forRootAsync, set controller: { codeExchange: true } next to useFactory`,
        );
      }
    }
  }
  Object.defineProperty(MountedAuthController, 'name', { value: 'AuthController' });
  return MountedAuthController;
}
