import { sha256 } from './digest.js';
import type { HttpRequestLike } from './http-request.js';

/**
 * Longest token accepted. Real access tokens are well under 2 KiB; refusing
 * larger ones early keeps hashing and decoding cheap under attack.
 */
export const MAX_TOKEN_LENGTH = 8192;

/**
 * A bearer token as the module handles it: the token, and its SHA-256, worked
 * out once however often it is asked for. The hash is the key of every cache,
 * so that no cache holds a usable credential and two tokens never share an
 * entry (a prefix or a claim could collide). A guard subclass whose
 * `getToken` reads the token elsewhere (a cookie, a message) returns one.
 */
export class BearerCredential {
  #key: string | undefined;

  constructor(readonly token: string) {}

  /** The SHA-256 of the whole token, base64url. */
  get key(): string {
    this.#key ??= sha256(this.token);
    return this.#key;
  }
}

/** The bearer token of a request, or why there is none. */
export type BearerTokenResult =
  { credential: BearerCredential } | { problem: 'missing' | 'malformed' };

// RFC 6750 §2.1: the scheme is case-insensitive; a JWS compact token is three
// base64url parts. Anything else is malformed, not "missing".
const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*) *$/i;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Whether a raw token (from another transport than the header) has the shape the header would let through. */
export function isCompactJws(token: unknown): token is string {
  return typeof token === 'string' && token.length <= MAX_TOKEN_LENGTH && COMPACT_JWS.test(token);
}
// Where a token travels as a value of its own rather than in a header, `Bearer ` may be left out.
const MAYBE_BEARER = /^(?:Bearer +)?([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*) *$/i;

// A WeakMap rather than a property: the raw token must not ride along when an
// app serialises or logs its request object.
const bearerOfRequest = new WeakMap<object, BearerTokenResult>();

/**
 * The bearer token of a request, read from its `Authorization` header once per
 * request: the guard, the Passport strategy and `@AuthToken()` all ask here.
 * Only the header counts: a token in the query string or a cookie is ignored,
 * so it cannot leak into access logs as a working credential.
 */
export function bearerTokenOf(request: HttpRequestLike): BearerTokenResult {
  let result = bearerOfRequest.get(request);
  if (result === undefined) {
    result = readBearerToken(request);
    bearerOfRequest.set(request, result);
  }
  return result;
}

/**
 * Sets what a request's bearer token is, for a transport that carries it
 * elsewhere than in the header (a guard subclass's `getToken`).
 */
export function setBearerTokenOf(request: HttpRequestLike, result: BearerTokenResult): void {
  bearerOfRequest.set(request, result);
}

/** Reads the `Authorization: Bearer` header, with the module's rules. */
export function readBearerToken(request: HttpRequestLike): BearerTokenResult {
  const header = request.headers.authorization;
  if (header === undefined || header === '') return { problem: 'missing' };
  // The header bound (scheme and spaces allowed for) spares the regex a huge input.
  if (typeof header !== 'string' || header.length > MAX_TOKEN_LENGTH + 32)
    return { problem: 'malformed' };
  // Node keeps only the first of repeated Authorization headers in `headers`;
  // two of them is ambiguous, so it is refused rather than resolved.
  if (authorizationHeaderCount(request) > 1) return { problem: 'malformed' };
  const token = BEARER.exec(header)?.[1];
  if (token === undefined || token.length > MAX_TOKEN_LENGTH) return { problem: 'malformed' };
  return { credential: new BearerCredential(token) };
}

/**
 * A token given as a value of its own, where no `Authorization` header carries
 * it (a socket.io handshake's `auth.token`, a subscription's `connectionParams`,
 * what an rpc extractor returns): with or without `Bearer `, by the header's
 * rules otherwise. Absent or empty is `missing`; anything but such a string is
 * `malformed`.
 */
export function bearerTokenFrom(value: unknown): BearerTokenResult {
  if (value === undefined || value === null || value === '') return { problem: 'missing' };
  if (typeof value !== 'string' || value.length > MAX_TOKEN_LENGTH + 32)
    return { problem: 'malformed' };
  const token = MAYBE_BEARER.exec(value)?.[1];
  if (token === undefined || token.length > MAX_TOKEN_LENGTH) return { problem: 'malformed' };
  return { credential: new BearerCredential(token) };
}

/**
 * The one token of several places that may carry it (a handshake's header, its
 * `auth` and its query): none is `missing`; a malformed one, or two that
 * differ, is `malformed`, since a caller that sends two credentials is
 * ambiguous and is refused rather than resolved (as two headers are).
 */
export function oneBearerOf(results: readonly BearerTokenResult[]): BearerTokenResult {
  let found: BearerTokenResult = { problem: 'missing' };
  for (const result of results) {
    if ('credential' in result) {
      if ('credential' in found && found.credential.token !== result.credential.token)
        return { problem: 'malformed' };
      found = result;
    } else if (result.problem === 'malformed') return result;
  }
  return found;
}

function authorizationHeaderCount(request: HttpRequestLike): number {
  const raw = request.rawHeaders ?? request.raw?.rawHeaders ?? [];
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 13 && raw[i].toLowerCase() === 'authorization') count++;
  }
  return count;
}
