import { LRUCache } from 'lru-cache';

/** How many new tokens of one client address the auth-service may refuse. */
export interface LookupLimit {
  /** Lookups of new tokens that end refused, per client address and window. */
  maxRefusedTokens: number;
  windowMs: number;
}

/** Client addresses tracked at most: a flood of new addresses cannot grow memory past this. */
const MAX_CLIENTS = 100_000;

/** A client sent more tokens the auth-service refused than its budget: `429`. */
export class TooManyTokenLookupsError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('too many invalid tokens from this address; try again later');
    this.name = 'TooManyTokenLookupsError';
  }
}

/**
 * Bounds the upstream lookups that tokens the module has not seen cost, per
 * client address (fixed windows), so that one caller sending made-up tokens
 * cannot exhaust the auth-service. Each lookup holds a unit of the budget while
 * it runs (so a burst in parallel is bounded too); a token that turns out
 * valid gives it back, and so does a lookup the auth-service failed to answer
 * (the circuit breaker's business, not the caller's). What is spent for good
 * are the tokens the auth-service refused.
 */
export class LookupBudget {
  private readonly windows: LRUCache<string, { used: number; endsAt: number }>;

  constructor(
    private readonly limit: LookupLimit,
    private readonly now: () => number = Date.now,
  ) {
    this.windows = new LRUCache({ max: MAX_CLIENTS });
  }

  /**
   * Holds one unit of a client's budget for a lookup.
   *
   * @returns the refusal when the client's budget for the window is already spent
   */
  hold(client: string | undefined): TooManyTokenLookupsError | undefined {
    if (client === undefined) return undefined;
    const now = this.now();
    let window = this.windows.get(client);
    if (window === undefined || window.endsAt <= now) {
      window = { used: 0, endsAt: now + this.limit.windowMs };
      this.windows.set(client, window);
    }
    if (window.used >= this.limit.maxRefusedTokens) {
      return new TooManyTokenLookupsError(Math.max(1, Math.ceil((window.endsAt - now) / 1000)));
    }
    window.used++;
    return undefined;
  }

  /** Gives a held unit back: the token was valid, or the auth-service could not say. */
  release(client: string | undefined): void {
    if (client === undefined) return;
    const window = this.windows.get(client);
    if (window !== undefined && window.endsAt > this.now() && window.used > 0) window.used--;
  }
}
