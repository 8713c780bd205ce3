import { LRUCache } from 'lru-cache';
import type { AuthenticatedUser } from './user-lookup.js';

/** A validated user, as cached: served without asking until `freshUntil`. */
export interface CachedUser<T extends object = object> {
  user: AuthenticatedUser<T>;
  /** Epoch ms. Past it (and within the entry's lifetime), served only while the auth-service cannot answer. */
  freshUntil: number;
  /** Let in through a known user, never asked about itself: never served stale. */
  unasked?: true;
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
 * Validated users, known users and refusals shared by replicas (Redis), asked on a miss of
 * the in-process cache. Each method degrades to a no-op when the shared store
 * cannot answer.
 */
export interface SharedVerifications<T extends object = object> {
  /**
   * Another replica's result for the token's hash, or `lookUp`'s (the user, and
   * until when it may be served without asking), shared before it is returned;
   * concurrent first uses across replicas share one lookup.
   *
   * @throws AuthenticationFailure when the token is refused (here or by another replica)
   */
  lookUp(
    key: string,
    lookUp: () => Promise<{ user: AuthenticatedUser<T>; freshUntil: number }>,
  ): Promise<{ user: AuthenticatedUser<T>; freshUntil: number }>;
  /** Forgets hashes (a token's, its known user's) on every replica. */
  forget(keys: readonly string[]): Promise<void>;
  /** Another replica's known user under this key (see `KnownUsers`), if any. */
  known(key: string): Promise<CachedUser<T> | undefined>;
  /** Marks a token (by its hash) as refused by the auth-service until `until`, for every replica's known users. */
  markRefused(key: string, until: number): Promise<void>;
  /** Whether a replica marked the token as refused (`false` when the shared store cannot say). */
  isMarkedRefused(key: string): Promise<boolean>;
  /** Shares a known user with the other replicas, until its `freshUntil`. */
  rememberKnown(key: string, entry: CachedUser<T>): Promise<void>;
}

/** What an entry costs besides its user's JSON: the key, the entry and the cache's own slots, roughly. */
const ENTRY_OVERHEAD_BYTES = 256;
// One user object is shared by the entries of all their tokens (and their known-user entry):
// measured once. A WeakMap, so that the measure goes with the user.
const userBytes = new WeakMap<object, number>();

/** The estimated bytes of a cached user: its JSON size, worked out once per user object. */
function bytesOf(user: object): number {
  let bytes = userBytes.get(user);
  if (bytes === undefined) {
    bytes = JSON.stringify(user).length;
    userBytes.set(user, bytes);
  }
  return bytes;
}

/**
 * The in-process store of validated users: `lru-cache`, bounded by entries and
 * by estimated bytes (so that a few users with huge metadata cannot take the
 * process's memory), each entry with its own lifetime.
 */
export class MemoryUserStore<T extends object = object> implements VerifiedUserStore<T> {
  private readonly entries: LRUCache<string, CachedUser<T>>;

  constructor(maxEntries: number, maxBytes: number, now: () => number = Date.now) {
    this.entries = new LRUCache({
      max: maxEntries,
      maxSize: maxBytes,
      sizeCalculation: (entry, key) => ENTRY_OVERHEAD_BYTES + key.length + bytesOf(entry.user),
      perf: { now },
    });
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
