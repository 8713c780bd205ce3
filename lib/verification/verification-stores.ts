import { LRUCache } from 'lru-cache';
import type { AuthenticatedUser } from './user-lookup.js';

/** A validated user, as cached: served without asking until `freshUntil`. */
export interface CachedUser<T extends object = object> {
  user: AuthenticatedUser<T>;
  /** Epoch ms. Past it (and within the entry's lifetime), served only while the auth-service cannot answer. */
  freshUntil: number;
}

/**
 * Where validated users are kept, by the hash of their token. Synchronous: it
 * is the warm path of every request. A store shared by replicas sits behind
 * one of these, with the in-process one in front.
 */
export interface VerifiedUserStore<T extends object = object> {
  get(key: string): CachedUser<T> | undefined;
  /** Keeps an entry for `ttlMs` (its whole lifetime, grace included). */
  set(key: string, entry: CachedUser<T>, ttlMs: number): void;
  delete(key: string): void;
  /** Every entry still kept, for inspection. */
  values(): Iterable<CachedUser<T>>;
}

/** Where tokens the auth-service refused are remembered for a short while, by hash. */
export interface RefusedTokenStore {
  has(key: string): boolean;
  add(key: string, ttlMs: number): void;
  delete(key: string): void;
}

/** The in-process store of validated users: `lru-cache`, bounded, each entry with its own lifetime. */
export class MemoryUserStore<T extends object = object> implements VerifiedUserStore<T> {
  private readonly entries: LRUCache<string, CachedUser<T>>;

  constructor(maxEntries: number, now: () => number = Date.now) {
    this.entries = new LRUCache({ max: maxEntries, perf: { now } });
  }

  get(key: string): CachedUser<T> | undefined {
    return this.entries.get(key);
  }

  set(key: string, entry: CachedUser<T>, ttlMs: number): void {
    this.entries.set(key, entry, { ttl: ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  values(): Iterable<CachedUser<T>> {
    return this.entries.values();
  }
}

/** The in-process store of refused tokens. */
export class MemoryRefusedStore implements RefusedTokenStore {
  private readonly keys: LRUCache<string, true>;

  constructor(maxEntries: number, now: () => number = Date.now) {
    this.keys = new LRUCache({ max: maxEntries, perf: { now } });
  }

  has(key: string): boolean {
    return this.keys.get(key) === true;
  }

  add(key: string, ttlMs: number): void {
    this.keys.set(key, true, { ttl: ttlMs });
  }

  delete(key: string): void {
    this.keys.delete(key);
  }
}
