/** JWS algorithms the module can verify. `none` is not one of them. */
export type JwtAlgorithm =
  | 'HS256'
  | 'HS384'
  | 'HS512'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512';

/** Claims checks shared by every kind of key. */
export interface JwtClaimsOptions {
  /**
   * Accepted algorithms. Default: `HS256` with a `secret` (what the
   * auth-service issues; RFC 8725 §3.1: one algorithm per key), every
   * algorithm of the key's kind with `publicKey` or `jwksUri`. Must fit the
   * key: HMAC only with `secret`, RSA/EC only with `publicKey` or `jwksUri`.
   */
  algorithms?: JwtAlgorithm[];
  /** Leeway for `exp` and `nbf`, in seconds. Default 0, at most 300. */
  clockToleranceSeconds?: number;
}

/**
 * Local verification of access tokens: bad tokens are refused without asking
 * the auth-service. Exactly one key source.
 */
export type JwtVerificationOptions = JwtClaimsOptions &
  (
    | {
        /** Shared HMAC secret, at least 32 bytes. */ secret: string;
        publicKey?: never;
        jwksUri?: never;
      }
    | {
        /** SPKI PEM of the auth-service's RSA (≥ 2048 bits) or EC key. */ publicKey: string;
        secret?: never;
        jwksUri?: never;
      }
    | {
        /** URL of the auth-service's JWKS document. */ jwksUri: string;
        secret?: never;
        publicKey?: never;
      }
  );
