// Arguments are checked before anything is sent, with messages that name the
// argument but never quote it: it may be a token or a password.

/** A bearer token can only be visible ASCII: anything else breaks or forges the header. */
const TOKEN_PATTERN = /^[\x21-\x7e]+$/;

/**
 * Checks a token that goes into an `Authorization: Bearer` header.
 *
 * @throws TypeError when it is empty or holds whitespace, control or non-ASCII characters
 */
export function checkToken(token: unknown, what: string): string {
  if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) {
    throw new TypeError(
      `${what} must be a non-empty string without whitespace, control or non-ASCII characters`,
    );
  }
  return token;
}

/**
 * Checks an id that becomes a path segment. It is percent-encoded when sent,
 * but a URL parser resolves `.` and `..` (even encoded) instead of sending them.
 *
 * @throws TypeError when it is not a non-empty string, is a dot segment or holds a lone surrogate
 */
export function checkPathSegment(value: unknown, what: string): string {
  if (!isPathSegment(value)) {
    throw new TypeError(
      `${what} must be a non-empty string other than "." and "..", without lone surrogates`,
    );
  }
  return value;
}

/**
 * Whether a value can be sent as one path segment: a non-empty string, not a
 * dot segment, and text that can be percent-encoded (no lone UTF-16
 * surrogate: `encodeURIComponent` throws on one, before anything is sent).
 */
export function isPathSegment(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value !== '' &&
    value !== '.' &&
    value !== '..' &&
    isWellFormedText(value)
  );
}

/** Whether a text has no lone UTF-16 surrogate (what `String.prototype.isWellFormed` tells, from ES2024). */
export function isWellFormedText(value: string): boolean {
  return !/\p{Cs}/u.test(value);
}

/**
 * Checks a form field (a username, a password, a code).
 *
 * @throws TypeError when it is not a string
 */
export function checkString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a string`);
  return value;
}
