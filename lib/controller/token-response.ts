import type { TokenSet } from '../entities/index.js';

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
