import type { KeyObject } from 'node:crypto';
import type { JwtAlgorithm } from '../module/apex-auth.options.js';
import type { JwtHeader } from './token-screen.js';

/**
 * Where the verification key of a token comes from: one configured key, or
 * the auth-service's JWKS. Keys are `KeyObject`s imported once, never strings
 * re-imported per token.
 */
export interface JwtKeySource {
  /** Every algorithm a token may be signed with; anything else is refused before verification. */
  readonly algorithms: readonly JwtAlgorithm[];
  /**
   * The key for a token's header.
   *
   * @throws AuthenticationFailure when no known key fits (unknown `kid`)
   * @throws AuthServiceUnavailableError when the keys cannot be had at all
   */
  keyFor(header: JwtHeader): KeyObject | Promise<KeyObject>;
  /** Loads what it needs ahead of the first request; failures are for the caller to log. */
  warmUp?(): Promise<void>;
}
