import { LRUCache } from 'lru-cache';
import { TooManyRequestsException } from '../auth/http-refusals.js';
import { KeyedSlots, type ReleaseSlot } from '../login/keyed-slots.js';

/** How many new tokens of one client address the auth-service may refuse. */
export interface LookupLimit {
  /** Lookups of new tokens that end refused, per client address and window. */
  maxRefusedTokens: number;
  windowMs: number;
}

/** How many lookups of one address may wait their turn, per one that may run. */
const WAITING_PER_RUNNING = 4;

/** Client addresses tracked at most: a flood of new addresses cannot grow memory past this. */
const MAX_CLIENTS = 100_000;

/** A client sent more tokens the auth-service refused than its budget: a `429` with `Retry-After`. */
export class TooManyTokenLookupsError extends TooManyRequestsException {
  constructor(retryAfterSeconds: number) {
    super('too many invalid tokens from this address; try again later', retryAfterSeconds);
    this.name = 'TooManyTokenLookupsError';
  }
}

/**
 * Bounds the upstream lookups that tokens the module has not seen cost, per
 * client address, so that one caller sending made-up tokens cannot exhaust the
 * auth-service. Tokens the auth-service refused are counted per fixed window;
 * once the budget is spent, the address's new tokens are refused without a
 * lookup. Valid tokens cost nothing. And no more lookups of one address run at
 * once than the budget: the next ones wait their turn (many honest users
 * behind one address are only delayed), up to four times as many; past that
 * they are refused, so that a burst in parallel is bounded too.
 */
export class LookupBudget {
  private readonly refused: LRUCache<string, { count: number; endsAt: number }>;
  private readonly running = new KeyedSlots();

  constructor(
    private readonly limit: LookupLimit,
    private readonly now: () => number = Date.now,
  ) {
    this.refused = new LRUCache({ max: MAX_CLIENTS });
  }

  /**
   * Admits one lookup of a client: at once, or when its turn comes.
   *
   * @returns the release of its slot, or the refusal when the client's budget is spent
   */
  async enter(client: string | undefined): Promise<ReleaseSlot | TooManyTokenLookupsError> {
    if (client === undefined) return () => undefined;
    const spent = this.spentFor(client);
    if (spent !== undefined) return spent;
    const limit = this.limit.maxRefusedTokens;
    const release = await this.running.acquire(client, limit, limit * WAITING_PER_RUNNING);
    if (release === undefined) return new TooManyTokenLookupsError(1);
    // Others' lookups may have spent it while this one waited.
    const spentMeanwhile = this.spentFor(client);
    if (spentMeanwhile !== undefined) release();
    return spentMeanwhile ?? release;
  }

  /** Counts a token of the client that the auth-service refused. */
  spend(client: string | undefined): void {
    if (client === undefined) return;
    const now = this.now();
    const window = this.refused.get(client);
    if (window === undefined || window.endsAt <= now) {
      this.refused.set(client, { count: 1, endsAt: now + this.limit.windowMs });
    } else {
      window.count++;
    }
  }

  private spentFor(client: string): TooManyTokenLookupsError | undefined {
    const now = this.now();
    const window = this.refused.get(client);
    if (
      window === undefined ||
      window.endsAt <= now ||
      window.count < this.limit.maxRefusedTokens
    ) {
      return undefined;
    }
    return new TooManyTokenLookupsError(Math.max(1, Math.ceil((window.endsAt - now) / 1000)));
  }
}
