import { hash } from 'node:crypto';

/**
 * The SHA-256 of a text, base64url: how tokens and usernames are keyed in caches
 * and counters, so that neither is kept as it is. One-shot (no Hash object per
 * call): it runs on the guard's warm path.
 */
export function sha256(value: string): string {
  return hash('sha256', value, 'base64url');
}
