import type { HttpRequestLike } from './http-request.js';

/**
 * Longest token accepted. Real access tokens are well under 2 KiB; refusing
 * larger ones early keeps hashing and decoding cheap under attack.
 */
export const MAX_TOKEN_LENGTH = 8192;

/** The bearer token of a request, or why there is none. */
export type BearerTokenResult = { token: string } | { problem: 'missing' | 'malformed' };

// RFC 6750 §2.1: the scheme is case-insensitive; a JWS compact token is three
// base64url parts. Anything else is malformed, not "missing".
const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*) *$/i;

/**
 * Reads the `Authorization: Bearer` token of a request. Only the header counts:
 * a token in the query string or a cookie is ignored, so it cannot leak into
 * access logs as a working credential.
 */
export function readBearerToken(request: HttpRequestLike): BearerTokenResult {
  const header = request.headers.authorization;
  if (header === undefined || header === '') return { problem: 'missing' };
  // The header bound (scheme and spaces allowed for) spares the regex a huge input.
  if (typeof header !== 'string' || header.length > MAX_TOKEN_LENGTH + 32)
    return { problem: 'malformed' };
  // Node keeps only the first of repeated Authorization headers in `headers`;
  // two of them is ambiguous, so it is refused rather than resolved.
  if (authorizationHeaderCount(request) > 1) return { problem: 'malformed' };
  const match = BEARER.exec(header);
  const token = match?.[1];
  if (token === undefined || token.length > MAX_TOKEN_LENGTH) return { problem: 'malformed' };
  return { token };
}

function authorizationHeaderCount(request: HttpRequestLike): number {
  const raw = request.rawHeaders ?? request.raw?.rawHeaders ?? [];
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 13 && raw[i].toLowerCase() === 'authorization') count++;
  }
  return count;
}
