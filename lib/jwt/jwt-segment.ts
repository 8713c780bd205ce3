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
