import { createHash } from 'node:crypto';

/**
 * The cache key of a token: a SHA-256 of the whole token, so that the cache
 * never holds a usable credential and two tokens never share an entry (a
 * prefix or a claim could collide).
 */
export function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
