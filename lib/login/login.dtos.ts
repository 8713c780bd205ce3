import { IsIn, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import type { TokenSet } from '../client/auth-service.entities.js';

// class-validator runs a property's rules bottom-up and, with `stopAtFirstError`,
// reports the first that fails: the most basic rule goes last, so that a missing
// field is "should not be empty", not a length.

/**
 * The body of `POST /auth/login`: JSON, or the OAuth2 password form that
 * Swagger's "Authorize" dialog sends (`grant_type`, `scope`, `client_id` and
 * `client_secret` are accepted and ignored).
 */
export class LoginDto {
  // No username holds a control character; an auth-service may strip some (Python's strip()
  // does U+001C–U+001F), which would give the same account a second failed-login counter.
  @Matches(/^\P{Cc}*$/u, { message: 'username has characters a username cannot have' })
  @MaxLength(256)
  @IsString()
  @IsNotEmpty()
  username!: string;

  @MaxLength(1024)
  @IsString()
  @IsNotEmpty()
  password!: string;

  @IsIn(['password'])
  @IsOptional()
  grant_type?: string;
}

/** Longest authorization code sent upstream; real ones are far shorter. */
export const MAX_CODE_LENGTH = 512;

/** The `code` of `POST /auth/login/code`, checked for shape before it goes upstream. */
export class AuthorizationCodeDto {
  // RFC 6749 §A.11: a code is visible ASCII; this is stricter (URL-safe characters only).
  @Matches(/^[A-Za-z0-9._~+/=-]+$/, { message: 'code has characters a code cannot have' })
  @MaxLength(MAX_CODE_LENGTH)
  @IsString()
  @IsNotEmpty()
  code!: string;
}

/** Longest refresh token sent upstream; real ones are far shorter. */
export const MAX_REFRESH_TOKEN_LENGTH = 4096;

/**
 * The body of `POST /auth/refresh`: JSON or a form, as an OAuth2 client sends it
 * (`grant_type=refresh_token` is accepted and ignored).
 */
export class RefreshTokenDto {
  // Visible ASCII only, as AuthApi.refresh checks it: anything else would be a 500 there.
  @Matches(/^[\x21-\x7e]+$/, {
    message: 'refresh_token has characters a refresh token cannot have',
  })
  @MaxLength(MAX_REFRESH_TOKEN_LENGTH)
  @IsString()
  @IsNotEmpty()
  refresh_token!: string;

  @IsIn(['refresh_token'])
  @IsOptional()
  grant_type?: string;
}

/** The body of a successful login: an RFC 6749 §5.1 token response. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  refresh_token?: string;
  expires_in?: number;
}

/** Maps a token set to the RFC 6749 response (snake_case, `token_type: "Bearer"`). */
export function toTokenResponse(tokens: TokenSet): TokenResponse {
  const response: TokenResponse = { access_token: tokens.accessToken, token_type: 'Bearer' };
  if (tokens.refreshToken !== undefined) response.refresh_token = tokens.refreshToken;
  if (tokens.expiresIn !== undefined) response.expires_in = tokens.expiresIn;
  return response;
}
