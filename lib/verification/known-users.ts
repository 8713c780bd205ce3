import { LRUCache } from 'lru-cache';
import { sha256 } from '../auth/digest.js';
import type { AuthenticatedUser } from './user-lookup.js';
import type { CachedUser, SharedVerifications, VerifiedUserStore } from './verification-stores.js';

/** Who a token says it belongs to: its `iss` (absent when it has none) and `sub`. */
export interface TokenSubject {
  readonly issuer?: string;
  readonly subject: string;
}

/**
 * How many keys forgotten lately (so that a lookup under way cannot undo a
 * forget), and how many refused tokens, each process remembers.
 */
const MAX_MARKS = 10_000;

/**
 * What was validated of each user lately, for their new tokens: by issuer and
 * subject in local mode (a verified token's `sub` is signed, so a new token of
 * a user validated within the cache lifetime needs no upstream call), by user
 * id in remote mode (the auth-service still judges the token, and the user's
 * record in this service is reused). An entry lives for the cache lifetime
 * from when the auth-service was asked, never longer, and is never served
 * stale. One per module registration: nothing is shared between two of them
 * in a process; with shared state (`redis`), the replicas of one service share
 * them, in process first and Redis second, their keys scoped to the auth-service.
 */
export class KnownUsers<T extends object = object> {
  /** When each key was last forgotten: a lookup asked before then must not bring it back. */
  private readonly forgotten: LRUCache<string, number>;
  /** Hashes of tokens the auth-service refused: a known user never lets one of them in. */
  private readonly refused: LRUCache<string, true>;

  /** @param scope - what the keys are scoped to: the auth-service whose users these are */
  constructor(
    private readonly store: VerifiedUserStore<T>,
    private readonly scope: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly shared?: SharedVerifications<T>,
  ) {
    this.forgotten = new LRUCache({ max: MAX_MARKS, ttl: ttlMs, perf: { now } });
    this.refused = new LRUCache({ max: MAX_MARKS, perf: { now } });
  }

  /** Remembers, until it expires, that the auth-service refused a token (by its hash): here, and for the replicas. */
  async refuse(tokenKey: string, expiresAt: number): Promise<void> {
    const ttl = expiresAt - this.now();
    if (ttl <= 0) return;
    this.refused.set(tokenKey, true, { ttl });
    await this.shared?.markRefused(tokenKey, expiresAt);
  }

  /**
   * Whether the auth-service refused this token (by its hash), here or on
   * another replica. Synchronous without shared state.
   */
  wasRefused(tokenKey: string): boolean | Promise<boolean> {
    if (this.refused.get(tokenKey) === true) return true;
    return this.shared === undefined ? false : this.shared.isMarkedRefused(tokenKey);
  }

  /**
   * The key of a user known by issuer and subject (local mode): a hash of a
   * tagged, JSON-quoted text, so that no scope, issuer, subject or id can spell
   * another's key, and no key can be a token's (those are hashes of tokens).
   */
  keyOfSubject({ issuer, subject }: TokenSubject): string {
    return sha256(JSON.stringify(['sub', this.scope, issuer ?? null, subject]));
  }

  /** The key of a user known by user id (remote mode). */
  keyOfId(id: string): string {
    return sha256(JSON.stringify(['id', this.scope, id]));
  }

  /**
   * The user last validated under this key, while fresh: this process's, else
   * another replica's. Synchronous when this process has it, or without shared state.
   */
  find(key: string): CachedUser<T> | undefined | Promise<CachedUser<T> | undefined> {
    const here = this.fresh(this.store.get(key));
    return here !== undefined || this.shared === undefined ? here : this.theirs(key, this.shared);
  }

  /** Another replica's entry under this key, kept here too. */
  private async theirs(
    key: string,
    shared: SharedVerifications<T>,
  ): Promise<CachedUser<T> | undefined> {
    const theirs = this.fresh(await shared.known(key));
    if (theirs === undefined) return undefined;
    // Kept here no longer than the other replica said, nor than the cache lifetime by this clock.
    const entry = {
      user: theirs.user,
      freshUntil: Math.min(theirs.freshUntil, this.now() + this.ttlMs),
    };
    this.keep(key, entry);
    return entry;
  }

  /**
   * Remembers a user the auth-service answered for when asked at `askedAt`,
   * until `freshUntil` (the cache lifetime from then at most); shared before it
   * resolves. Nothing is remembered under a key forgotten since `askedAt`.
   */
  async remember(
    key: string,
    user: AuthenticatedUser<T>,
    freshUntil: number,
    askedAt: number,
  ): Promise<void> {
    if ((this.forgotten.get(key) ?? Number.NEGATIVE_INFINITY) >= askedAt) return;
    const entry = { user, freshUntil: Math.min(askedAt + this.ttlMs, freshUntil) };
    if (this.keep(key, entry)) await this.shared?.rememberKnown(key, entry);
  }

  /** Forgets a key in this process, and that it was forgotten now. */
  delete(key: string): void {
    this.store.delete(key);
    this.forgotten.set(key, this.now());
  }

  /** Keeps an entry here while fresh; whether it was kept (fresh, and not too large for the store). */
  private keep(key: string, entry: CachedUser<T>): boolean {
    const ttl = entry.freshUntil - this.now();
    if (ttl <= 0) return false;
    this.store.set(key, entry, ttl);
    return this.store.get(key) === entry;
  }

  private fresh(entry: CachedUser<T> | undefined): CachedUser<T> | undefined {
    return entry !== undefined && this.now() < entry.freshUntil ? entry : undefined;
  }
}
