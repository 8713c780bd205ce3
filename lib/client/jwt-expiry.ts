import { decodeJwtSegment } from '../verification/token-screen.js';

/**
 * When a JWT says it expires (epoch milliseconds), read from its payload
 * WITHOUT verifying the signature. Used only to schedule, never to trust: when
 * to log the admin in again, how long a result the auth-service vouched for may
 * be cached, and to refuse without asking a token that says it has expired
 * (expired or forged, it is refused either way).
 *
 * @returns undefined when the token is not a JWT or has no numeric `exp`
 */
export function unverifiedJwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  const exp = decodeJwtSegment(parts[1])?.['exp'];
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
}
