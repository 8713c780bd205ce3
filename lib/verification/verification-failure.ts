import { AuthenticationFailure } from './authentication-failure.js';

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
