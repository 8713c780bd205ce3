import { describe, expect, it } from 'vitest';
import { TtlCache } from '../../lib/cache/ttl-cache.js';
import { tokenKey } from '../../lib/cache/token-key.js';

describe('TtlCache', () => {
  it('expires entries at their own time', () => {
    let now = 1000;
    const cache = new TtlCache<string>(10, () => now);
    cache.set('a', 'A', 1500);
    cache.set('b', 'B', 2000);
    expect(cache.get('a')).toBe('A');
    now = 1500;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBe('B');
    cache.set('c', 'C', 1500);
    expect(cache.get('c')).toBeUndefined();
  });

  it('evicts the least recently used when full', () => {
    const cache = new TtlCache<number>(2, () => 0);
    cache.set('a', 1, 10);
    cache.set('b', 2, 10);
    cache.get('a');
    cache.set('c', 3, 10);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
  });
});

describe('tokenKey', () => {
  it('hashes the whole token: tokens sharing a prefix get different keys, and the key holds no token', () => {
    const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.signature1';
    expect(tokenKey(token)).not.toBe(tokenKey(`${token.slice(0, -1)}2`));
    expect(tokenKey(token)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tokenKey(token)).toBe(tokenKey(token));
  });
});
