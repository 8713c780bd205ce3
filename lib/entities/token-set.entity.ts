/** The tokens an OAuth2 token endpoint answers with (RFC 6749 §5.1), in camelCase. */
export interface TokenSet {
  accessToken: string;
  /** As sent upstream (the auth-service says `bearer`). */
  tokenType: string;
  /** Only from auth-services that issue refresh tokens. */
  refreshToken?: string;
  /** Lifetime of the access token in seconds, when the auth-service says. */
  expiresIn?: number;
}
