/**
 * Why a request was not authenticated, as told to the caller in the `401`
 * body and the `WWW-Authenticate` header: something a caller can act on,
 * never the token or key material.
 */
export type AuthenticationFailureReason = 'missing token' | 'invalid token' | 'token expired';

/** A token (or its absence) was judged not good enough: a `401`. */
export class AuthenticationFailure extends Error {
  /**
   * @param reason - what the caller is told
   * @param detail - what operators are told (debug logs): which check refused the
   *   token (`signature`, `audience`, `alg none`, …); never a claim value of the token
   */
  constructor(
    readonly reason: AuthenticationFailureReason,
    readonly detail: string = reason,
  ) {
    super(reason);
    this.name = 'AuthenticationFailure';
  }
}
