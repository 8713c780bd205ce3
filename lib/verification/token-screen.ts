import { AuthenticationFailure } from './authentication-failure.js';
import type { TokenSubject } from './known-users.js';

/** The protected header fields the module acts on. */
export interface JwtHeader {
  alg: string;
  kid?: string;
}

/** The claims rules of this service, applied to every token in every verification mode. */
export interface TokenClaimsPolicy {
  /** Accepted `iss` values; absent: `iss` is not checked. */
  readonly issuers?: readonly string[];
  /** This service's audiences: a token whose `aud` is present must name one of them. */
  readonly audiences: readonly string[];
  /** The audiences were configured: a token without `aud` is refused too. */
  readonly audienceRequired: boolean;
  /** Leeway for `exp` and `nbf`, in seconds. */
  readonly clockToleranceSeconds: number;
}

/** A token that passed the screen: what could be checked without a key holds. */
export interface ScreenedToken {
  header: JwtHeader;
  /** When the token expires, epoch ms (its `exp`). */
  expiresAt: number;
  /** Its `iss` and `sub`, when `sub` is a non-empty string (and `iss` absent or a string). Claimed, not verified. */
  subject?: TokenSubject;
}

/**
 * Header parameters that point at keys or extensions the module would have to
 * trust or fetch. RFC 8725 §3.10: never let the token choose its own key. `crit`
 * lists extensions the verifier must understand; this one understands none.
 */
const REFUSED_HEADER_PARAMETERS = ['crit', 'jku', 'x5u', 'jwk', 'x5c'] as const;
const MAX_KID_LENGTH = 256;
/** NumericDates past 9999-12-31 are not dates any issuer means. */
const MAX_NUMERIC_DATE = 253_402_300_799;

/**
 * Everything about a token that needs no key and no auth-service: it must be a
 * compact JWS whose header and payload are JSON objects, with an `alg` other
 * than `none`, no header that picks a key, a signature, an integer `exp` that
 * has not passed, and `nbf`, `iat`, `iss` and `aud` that fit the policy. Run
 * before any verification or lookup, so that no junk token ever costs a key
 * fetch or an upstream call, in any mode. The claims are not trusted by this:
 * a token that passes still needs its signature checked, or the auth-service.
 *
 * @param now - epoch ms
 * @throws AuthenticationFailure (`token expired`, or `invalid token`) with the failed check as detail
 */
export function screenToken(token: string, policy: TokenClaimsPolicy, now: number): ScreenedToken {
  const parts = token.split('.');
  if (parts.length !== 3) refuse('not a compact JWS');
  const [headerPart, payloadPart, signature] = parts as [string, string, string];
  if (signature === '') refuse('unsigned');
  const header = readHeader(headerPart);
  const payload = decodeJwtSegment(payloadPart);
  if (payload === undefined) refuse('payload is not a JSON object');
  const expiresAt = checkClaims(payload, policy, now);
  const subject = subjectOfPayload(payload);
  return subject === undefined ? { header, expiresAt } : { header, expiresAt, subject };
}

/** The `iss` and `sub` a token claims (nothing verified), if it names a subject. */
export function claimedSubject(token: string): TokenSubject | undefined {
  const payload = decodeJwtSegment(token.split('.')[1] ?? '');
  return payload === undefined ? undefined : subjectOfPayload(payload);
}

function subjectOfPayload(payload: Readonly<Record<string, unknown>>): TokenSubject | undefined {
  const { iss, sub } = payload;
  if (typeof sub !== 'string' || sub === '') return undefined;
  if (iss === undefined) return { subject: sub };
  return typeof iss === 'string' ? { issuer: iss, subject: sub } : undefined;
}

/**
 * Checks the registered claims of a payload (RFC 7519 §4.1) against the policy.
 *
 * @returns the expiry, epoch ms
 * @throws AuthenticationFailure
 */
export function checkClaims(
  payload: Readonly<Record<string, unknown>>,
  policy: TokenClaimsPolicy,
  now: number,
): number {
  const leewayMs = policy.clockToleranceSeconds * 1000;
  const exp = numericDate(payload, 'exp');
  if (exp === undefined) refuse('no exp');
  if (exp * 1000 + leewayMs <= now) throw new AuthenticationFailure('token expired', 'expired');
  const nbf = numericDate(payload, 'nbf');
  if (nbf !== undefined && nbf * 1000 - leewayMs > now) refuse('not valid yet (nbf)');
  numericDate(payload, 'iat');
  if (policy.issuers !== undefined) {
    const iss = payload['iss'];
    if (typeof iss !== 'string' || !policy.issuers.includes(iss)) refuse('issuer');
  }
  checkAudience(payload['aud'], policy);
  return exp * 1000;
}

function readHeader(segment: string): JwtHeader {
  const header = decodeJwtSegment(segment);
  if (header === undefined) refuse('header is not a JSON object');
  const { alg, kid } = header;
  if (typeof alg !== 'string' || alg === '') refuse('no alg');
  if (alg.toLowerCase() === 'none') refuse('alg none');
  if (kid !== undefined && (typeof kid !== 'string' || kid.length > MAX_KID_LENGTH)) {
    refuse('malformed kid');
  }
  const picked = REFUSED_HEADER_PARAMETERS.find((name) => Object.hasOwn(header, name));
  if (picked !== undefined) refuse(`header parameter ${picked}`);
  return kid === undefined ? { alg } : { alg, kid };
}

/** An optional NumericDate claim: absent, or a whole number of seconds in range. */
function numericDate(
  payload: Readonly<Record<string, unknown>>,
  claim: string,
): number | undefined {
  if (!Object.hasOwn(payload, claim)) return undefined;
  const value = payload[claim];
  if (
    !Number.isSafeInteger(value) ||
    (value as number) < 0 ||
    (value as number) > MAX_NUMERIC_DATE
  ) {
    refuse(`malformed ${claim}`);
  }
  return value as number;
}

function checkAudience(aud: unknown, policy: TokenClaimsPolicy): void {
  if (aud === undefined) {
    if (policy.audienceRequired) refuse('no aud');
    return;
  }
  const named = typeof aud === 'string' ? [aud] : aud;
  if (!Array.isArray(named) || named.some((value) => typeof value !== 'string')) {
    refuse('malformed aud');
  }
  // RFC 7519 §4.1.3: a token whose audience does not name this recipient is not for it.
  if (!named.some((value: string) => policy.audiences.includes(value))) refuse('audience');
}

function refuse(detail: string): never {
  throw new AuthenticationFailure('invalid token', detail);
}

/**
 * Decodes one segment of a JWS compact token (header or payload): base64url
 * JSON that must be an object. Decoding only: nothing here checks a signature.
 *
 * @returns the object, or `undefined` for anything else (bad base64, bad JSON, an array, `null`, a string)
 */
export function decodeJwtSegment(segment: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
