import { sha256 } from '../auth/digest.js';
import type { AuthenticatedUser } from './user-lookup.js';
import type { CachedUser, SharedVerifications, VerifiedUserStore } from './verification-stores.js';

/** Who a token says it belongs to: its `iss` (absent when it has none) and `sub`. */
export interface TokenSubject {
  readonly issuer?: string;
  readonly subject: string;
}

/**
 * The key of a known user found by issuer and subject (local mode). A hash of
 * a tagged, JSON-quoted text: no issuer, subject or id can spell another's
 * key, and no key can be a token's (those are hashes of tokens).
 */
export const keyOfSubject = ({ issuer, subject }: TokenSubject): string =>
  sha256(JSON.stringify(['sub', issuer ?? null, subject]));

/** The key of a known user found by user id (remote mode). */
export const keyOfId = (id: string): string => sha256(JSON.stringify(['id', id]));

/**
 * What was validated of each user lately, for their new tokens: by issuer and
 * subject in local mode (a verified token's `sub` is signed, so a new token of
 * a user validated within the cache lifetime needs no upstream call), by user
 * id in remote mode (the auth-service still judges the token, and the user's
 * record in this service is reused). An entry lives for the cache lifetime
 * from when the auth-service was asked, never longer, and is never served
 * stale. One per module registration: nothing is shared between two of them
 * in a process; with shared state (`redis`), the replicas of one service share
 * them, in process first and Redis second.
 */
export class KnownUsers<T extends object = object> {
  constructor(
    private readonly store: VerifiedUserStore<T>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly shared?: SharedVerifications<T>,
  ) {}

  /** The user last validated under this key, while fresh: this process's, else another replica's. */
  async find(key: string): Promise<CachedUser<T> | undefined> {
    const here = this.fresh(this.store.get(key));
    if (here !== undefined || this.shared === undefined) return here;
    const theirs = this.fresh(await this.shared.known(key));
    // Kept here no longer than the other replica said.
    if (theirs !== undefined) this.keep(key, theirs);
    return theirs;
  }

  /**
   * Remembers a user the auth-service just answered for, for the cache
   * lifetime or until `freshUntil` (when the answer is to be served that long
   * only: another replica's, a short-lived token's); shared before it resolves.
   */
  async remember(
    key: string,
    user: AuthenticatedUser<T>,
    freshUntil = Number.POSITIVE_INFINITY,
  ): Promise<void> {
    const entry = { user, freshUntil: Math.min(this.now() + this.ttlMs, freshUntil) };
    if (this.keep(key, entry)) await this.shared?.rememberKnown(key, entry);
  }

  /** Forgets a key in this process. */
  delete(key: string): void {
    this.store.delete(key);
  }

  private keep(key: string, entry: CachedUser<T>): boolean {
    const ttl = entry.freshUntil - this.now();
    if (ttl > 0) this.store.set(key, entry, ttl);
    return ttl > 0;
  }

  private fresh(entry: CachedUser<T> | undefined): CachedUser<T> | undefined {
    return entry !== undefined && this.now() < entry.freshUntil ? entry : undefined;
  }
}
