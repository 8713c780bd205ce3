import { LRUCache } from 'lru-cache';

/** How many lookups of new tokens one client address may cause. */
export interface LookupLimit {
  /** Lookups of tokens the module has not seen, per client address and window. */
  maxLookups: number;
  windowMs: number;
}

/** Client addresses tracked at most: a flood of new addresses cannot grow memory past this. */
const MAX_CLIENTS = 100_000;

/** A client spent its budget of token lookups: `429`. */
export class TooManyTokenLookupsError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('too many new tokens from this address; try again later');
    this.name = 'TooManyTokenLookupsError';
  }
}

/**
 * Bounds the upstream lookups that tokens the module has not seen cost, per
 * client address (fixed windows), so that one caller sending fresh tokens
 * cannot exhaust the auth-service. Tokens already cached, and concurrent uses
 * of one token in flight, cost nothing.
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
   * Spends one lookup of a client.
   *
   * @returns the refusal when its budget for the window is already spent
   */
  spend(client: string | undefined): TooManyTokenLookupsError | undefined {
    if (client === undefined) return undefined;
    const now = this.now();
    let window = this.windows.get(client);
    if (window === undefined || window.endsAt <= now) {
      window = { used: 0, endsAt: now + this.limit.windowMs };
      this.windows.set(client, window);
    }
    if (window.used >= this.limit.maxLookups) {
      return new TooManyTokenLookupsError(Math.max(1, Math.ceil((window.endsAt - now) / 1000)));
    }
    window.used++;
    return undefined;
  }
}
