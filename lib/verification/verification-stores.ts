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

/**
 * Validated users and refusals shared by replicas (Redis), asked on a miss of
 * the in-process cache. Each method degrades to a no-op when the shared store
 * cannot answer.
 */
export interface SharedVerifications<T extends object = object> {
  /**
   * Another replica's result for the token's hash, or `lookUp`'s, shared before it
   * is returned; concurrent first uses across replicas share one lookup.
   *
   * @param freshFor - how long a result may be served without asking (the cache lifetime)
   * @throws AuthenticationFailure when the token is refused (here or by another replica)
   */
  lookUp(
    key: string,
    expiresAt: number,
    freshFor: number,
    lookUp: () => Promise<AuthenticatedUser<T>>,
  ): Promise<{ user: AuthenticatedUser<T>; freshUntil: number }>;
  /** Forgets a token's hash on every replica. */
  forget(key: string): Promise<void>;
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
