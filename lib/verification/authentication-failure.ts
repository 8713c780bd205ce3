import { UnauthorizedException } from '@nestjs/common';

/**
 * Why a request was not authenticated, as told to the caller in the `401`
 * body and the `WWW-Authenticate` header: something a caller can act on,
 * never the token or key material.
 */
export type AuthenticationFailureReason = 'missing token' | 'invalid token' | 'token expired';

/**
 * A token (or its absence) was judged not good enough: a `401`, as Nest's
 * `UnauthorizedException`, so that an adapter of any transport can tell it by
 * `instanceof`.
 */
export class AuthenticationFailure extends UnauthorizedException {
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

/** jsonwebtoken's refusals, by message, in the words of our debug logs. */
const DETAIL_BY_MESSAGE: Readonly<Record<string, string>> = {
  'invalid signature': 'signature',
  'jwt signature is required': 'unsigned',
  'invalid algorithm': 'algorithm',
  'jwt malformed': 'malformed',
  'invalid token': 'malformed',
};

/**
 * What a refusal of local verification means for the caller (`token expired`
 * or `invalid token`) and for operators (which check failed). jsonwebtoken's
 * messages are mapped, never passed on.
 */
export function refusalOf(cause: unknown): AuthenticationFailure {
  if (cause instanceof AuthenticationFailure) return cause;
  const { name, message } = (cause ?? {}) as { name?: unknown; message?: unknown };
  if (name === 'TokenExpiredError') return new AuthenticationFailure('token expired', 'expired');
  if (name === 'NotBeforeError')
    return new AuthenticationFailure('invalid token', 'not valid yet (nbf)');
  const detail = typeof message === 'string' ? DETAIL_BY_MESSAGE[message] : undefined;
  return new AuthenticationFailure('invalid token', detail ?? 'verification failed');
}
