/**
 * When a JWT says it expires (epoch milliseconds), read from its payload
 * WITHOUT verifying the signature. Only for our own admin token, only to
 * schedule a new login before the auth-service starts refusing it: nothing is
 * trusted or granted on the strength of it.
 *
 * @returns undefined when the token is not a JWT or has no numeric `exp`
 */
export function unverifiedJwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof payload !== 'object' || payload === null || !Object.hasOwn(payload, 'exp')) {
    return undefined;
  }
  const exp: unknown = (payload as Record<string, unknown>)['exp'];
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
}
