import { createHash } from 'node:crypto';

/**
 * The SHA-256 of a text, base64url: how tokens and usernames are keyed in caches
 * and counters, so that neither is kept as it is.
 */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}
