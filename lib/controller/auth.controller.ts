import {
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  NotFoundException,
  Post,
  Query,
  ServiceUnavailableException,
  UnauthorizedException,
  ValidationPipe,
  type Type,
  UseGuards,
} from '@nestjs/common';
import { ApexAuthGuard } from '../auth/apex-auth.guard.js';
import type { AuthenticatedUser } from '../auth/authenticated-user.js';
import { AuthApi } from '../client/index.js';
import { CurrentUser } from '../decorators/current-user.decorator.js';
import { Public } from '../decorators/public.decorator.js';
import {
  ApexAuthOptionsError,
  AuthServiceError,
  AuthServicePayloadError,
  AuthServiceUnavailableError,
} from '../errors/index.js';
import { AuthorizationCodeDto } from './authorization-code.dto.js';
import { LoginDto } from './login.dto.js';
import { toTokenResponse, type TokenResponse } from './token-response.js';

// Its own pipe, so the routes validate whether or not the app has a global one.
const validation = new ValidationPipe({
  whitelist: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
});

/**
 * The login routes, mounted at `controller.path` (default `auth`):
 * - `POST login` — password login (form or JSON) → RFC 6749 token response;
 * - `POST login/code` — OAuth authorization-code exchange (`code` in query or body);
 * - `GET me` — the current {@link AuthenticatedUser}.
 *
 * The auth-service's error bodies never reach the caller: every kind of wrong
 * credentials is one `401`, an unhealthy auth-service a `503`.
 */
@Controller()
export class AuthController {
  constructor(protected readonly authApi: AuthApi) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async login(@Body(validation) body: LoginDto): Promise<TokenResponse> {
    try {
      return toTokenResponse(await this.authApi.login(body.username, body.password));
    } catch (error) {
      throw credentialsFailure(error, 'invalid username or password');
    }
  }

  @Public()
  @Post('login/code')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async exchangeCode(
    @Query('code') queryCode: unknown,
    @Body() body: unknown,
  ): Promise<TokenResponse> {
    const bodyCode = (body as { code?: unknown } | undefined)?.code;
    const { code } = (await validation.transform(
      { code: bodyCode ?? queryCode },
      { type: 'body', metatype: AuthorizationCodeDto },
    )) as AuthorizationCodeDto;
    try {
      return toTokenResponse(await this.authApi.exchangeCode(code));
    } catch (error) {
      throw credentialsFailure(error, 'invalid authorization code');
    }
  }

  @Get('me')
  me(@CurrentUser() user: AuthenticatedUser): AuthenticatedUser {
    return user;
  }
}

/**
 * One answer for every refusal (wrong password, unknown user, any upstream
 * 4xx), so a caller learns nothing about which; `503` when the auth-service
 * could not answer at all.
 */
function credentialsFailure(error: unknown, message: string): unknown {
  if (error instanceof AuthServiceUnavailableError || error instanceof AuthServicePayloadError) {
    return new ServiceUnavailableException('auth-service unavailable');
  }
  if (error instanceof AuthServiceError) return new UnauthorizedException(message);
  if (error instanceof ApexAuthOptionsError) {
    // The route exists on every registration; without an OAuth client it has nothing to do.
    return new NotFoundException(`not configured: ${error.option}`);
  }
  return error;
}

/**
 * The controller mounted at `path`. A subclass per module registration, so
 * the path is the registration's and not a mutation of a shared class; when
 * the guard is not global, `me` is guarded here.
 */
export function createAuthController(path: string, guarded: boolean): Type<AuthController> {
  @Controller(path)
  class MountedAuthController extends AuthController {}
  if (guarded) UseGuards(ApexAuthGuard)(MountedAuthController);
  return MountedAuthController;
}
