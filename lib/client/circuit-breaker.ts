import { AuthServicePayloadError, AuthServiceUnavailableError } from '../errors/index.js';

/** When to stop calling an auth-service that keeps failing. */
export interface CircuitBreakerOptions {
  /** Consecutive failed operations that open the circuit (default 5). */
  failureThreshold?: number;
  /** How long it stays open before one probe is let through, in ms (default 10000). */
  resetAfterMs?: number;
}

type State =
  { kind: 'closed'; failures: number } | { kind: 'open'; until: number } | { kind: 'probing' };

/**
 * Fails fast while the auth-service is down: after `failureThreshold`
 * consecutive failed operations every call gets an immediate
 * `AuthServiceUnavailableError('circuit-open')` (a `503` to callers) instead of
 * waiting out its timeout; after `resetAfterMs` one call probes, and its
 * success closes the circuit again. Answers that are the caller's fault (4xx)
 * show the service is up and count as successes.
 */
export class CircuitBreaker {
  private state: State = { kind: 'closed', failures: 0 };
  private readonly failureThreshold: number;
  private readonly resetAfterMs: number;

  constructor(
    options: CircuitBreakerOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.failureThreshold = options.failureThreshold ?? 5;
    this.resetAfterMs = options.resetAfterMs ?? 10_000;
  }

  /** Runs an operation through the breaker. */
  async run<R>(operation: string, call: () => Promise<R>): Promise<R> {
    this.admit(operation);
    try {
      const result = await call();
      this.state = { kind: 'closed', failures: 0 };
      return result;
    } catch (error) {
      this.settle(error);
      throw error;
    }
  }

  private admit(operation: string): void {
    const { state } = this;
    if (state.kind === 'closed') return;
    if (state.kind === 'open' && this.now() >= state.until) {
      this.state = { kind: 'probing' };
      return;
    }
    const wait = state.kind === 'open' ? state.until - this.now() : this.resetAfterMs;
    throw new AuthServiceUnavailableError(
      operation,
      'circuit-open',
      undefined,
      Math.max(1, Math.ceil(wait / 1000)),
    );
  }

  private settle(error: unknown): void {
    const failed =
      error instanceof AuthServiceUnavailableError || error instanceof AuthServicePayloadError;
    if (!failed) {
      this.state = { kind: 'closed', failures: 0 };
      return;
    }
    const failures = this.state.kind === 'closed' ? this.state.failures + 1 : this.failureThreshold;
    this.state =
      failures >= this.failureThreshold
        ? { kind: 'open', until: this.now() + this.resetAfterMs }
        : { kind: 'closed', failures };
  }
}
