import type { HttpRequestLike } from './http-request.js';

// A WeakMap rather than a property: the raw token must not ride along when an
// app serialises or logs its request object.
const tokens = new WeakMap<object, string>();

/** Remembers the bearer token the guard read from a request. */
export function rememberRequestToken(request: HttpRequestLike, token: string): void {
  tokens.set(request, token);
}

/** The bearer token the guard read from a request, if any. */
export function requestToken(request: HttpRequestLike): string | undefined {
  return tokens.get(request);
}
