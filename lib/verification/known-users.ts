import type { AuthenticatedUser } from './user-lookup.js';
import type { CachedUser, VerifiedUserStore } from './verification-stores.js';

/** Who a token says it belongs to: its `iss` (absent when it has none) and `sub`. */
export interface TokenSubject {
  readonly issuer?: string;
  readonly subject: string;
}

/**
 * What was validated of each user lately, for their new tokens: by issuer and
 * subject in local mode (a verified token's `sub` is signed, so a new token of
 * a user validated within the cache lifetime needs no upstream call), by user
 * id in remote mode (the auth-service still judges the token, and the user's
 * record in this service is reused). An entry lives for the cache lifetime
 * from when the auth-service was asked, never longer, and is never served
 * stale. One per module registration: nothing is shared between two of them.
 */
export class KnownUsers<T extends object = object> {
  constructor(
    private readonly store: VerifiedUserStore<T>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The user last validated for this issuer and subject, while fresh. */
  ofSubject(subject: TokenSubject): CachedUser<T> | undefined {
    return this.fresh(subjectKey(subject));
  }

  /** The user last validated with this id, while fresh. */
  ofId(id: string): CachedUser<T> | undefined {
    return this.fresh(idKey(id));
  }

  /**
   * Remembers a user the auth-service just answered for, under their subject
   * (local) or id (remote), for the cache lifetime or until `freshUntil` (when
   * the answer is to be served that long only: another replica's, a short-lived token's).
   */
  remember(
    user: AuthenticatedUser<T>,
    subject: TokenSubject | undefined,
    freshUntil = Number.POSITIVE_INFINITY,
  ): void {
    const now = this.now();
    const until = Math.min(now + this.ttlMs, freshUntil);
    if (until <= now) return;
    const key = subject === undefined ? idKey(user.id) : subjectKey(subject);
    this.store.set(key, { user, freshUntil: until }, until - now);
  }

  /** Forgets a subject and a user id (either may be absent), so that their next new token is asked about in full. */
  forget(subject: TokenSubject | undefined, id: string | undefined): void {
    if (subject !== undefined) this.store.delete(subjectKey(subject));
    if (id !== undefined) this.store.delete(idKey(id));
  }

  private fresh(key: string): CachedUser<T> | undefined {
    const entry = this.store.get(key);
    return entry !== undefined && this.now() < entry.freshUntil ? entry : undefined;
  }
}

// Tagged and JSON-quoted, so that no issuer, subject or id can spell another's key.
const subjectKey = ({ issuer, subject }: TokenSubject): string =>
  JSON.stringify(['sub', issuer ?? null, subject]);
const idKey = (id: string): string => JSON.stringify(['id', id]);
