import { AuthenticationFailure } from '../auth/authentication-failure.js';
import { decodeJwtSegment } from './jwt-segment.js';

/** The protected header fields the module acts on. */
export interface JwtHeader {
  alg: string;
  kid?: string;
}

// Header parameters that point at keys or extensions the module would have to
// trust or fetch. RFC 8725 §3.10: never let the token choose its own key.
const REFUSED_PARAMETERS = ['crit', 'jku', 'x5u', 'jwk', 'x5c'] as const;

/**
 * Decodes and screens a JWS header. Refuses, as an invalid token, anything that
 * is not a JSON object with a string `alg`, and any header naming a key source
 * or a critical extension (`crit` lists extensions the verifier must
 * understand; this one understands none).
 */
export function readJwtHeader(token: string): JwtHeader {
  const end = token.indexOf('.');
  if (end <= 0) throw new AuthenticationFailure('invalid token');
  const header = decodeJwtSegment(token.slice(0, end));
  if (header === undefined) throw new AuthenticationFailure('invalid token');
  const { alg, kid } = header;
  if (typeof alg !== 'string') throw new AuthenticationFailure('invalid token');
  if (kid !== undefined && (typeof kid !== 'string' || kid.length > 256)) {
    throw new AuthenticationFailure('invalid token');
  }
  if (REFUSED_PARAMETERS.some((name) => Object.hasOwn(header, name))) {
    throw new AuthenticationFailure('invalid token');
  }
  return kid === undefined ? { alg } : { alg, kid };
}
