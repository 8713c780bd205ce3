import {
  BrokenCircuitError,
  CircuitState,
  ExponentialBackoff,
  SamplingBreaker,
  circuitBreaker,
  handleWhen,
  noJitterGenerator,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { LRUCache } from 'lru-cache';
import { AuthServiceUnavailableError, isUpstreamFailure } from '../errors/index.js';
import type { CircuitBreakerOptions } from './auth-api.options.js';

/** The breaker's settings, defaults applied. */
export type CircuitBreakerSettings = Required<CircuitBreakerOptions>;

/** A shared circuit: `closed`, `open` (failing fast) or `half-open` (one probe under way, the rest fail fast). */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** What the breaker tells the module's logs. */
export interface CircuitBreakerEvents {
  /** The shared circuit opened (`scope: 'all'`) or one client's did. */
  opened?(scope: 'all' | 'client', retryAfterSeconds: number): void;
  /** The shared circuit closed again. */
  closed?(): void;
}

/** One client address's record: its failures, and its own open circuit. */
interface ClientCircuit {
  /** Failures in a row (a success in between starts over). */
  failures: number;
  openUntil: number;
  pauseMs: number;
  probing: boolean;
  lastSuccessAt: number;
  /** Its failures counted for everyone in the current window, and when that window began. */
  counted: number;
  countedSince: number;
}

const MAX_TRACKED_CLIENTS = 10_000;
const CLIENT_RECORD_TTL_MS = 10 * 60_000;

/** What a guarded call may do: retry only while the circuit is closed (a probe tells, once). */
export type GuardedCall<R> = (mayRetry: boolean) => Promise<R>;

/**
 * A failure (or a refusal) the shared circuit does not count: neither a success
 * nor a failure of the service.
 */
class Uncounted extends Error {
  constructor(readonly error: unknown) {
    super('uncounted outcome');
  }
}

/** A probe answered with a refusal: the service answers junk, which says nothing of the rest. */
class RefusedProbe extends Error {
  constructor(readonly error: unknown) {
    super('refused probe');
  }
}

/**
 * Fails fast while the auth-service is failing, and lets a blip stay a blip.
 *
 * The shared circuit is `cockatiel`'s sampling breaker: it opens when more
 * than `failureRate` of the calls over a sliding window fail, then lets one
 * probe through after a short pause that doubles with each failed probe, and
 * closes on the first success. Calls that arrive while a probe is under way
 * fail at once instead of queueing behind it.
 *
 * On top, rules of ours:
 * - Only answers that succeed (2xx) show the service is up; refusals (4xx)
 *   count for nothing, so that a caller's junk, which an ailing service may
 *   still refuse at once, cannot hide the failures of everyone else. A probe
 *   of the shared circuit answered with a refusal does not close it.
 * - Failures are attributed to the client address they were made for: after
 *   `clientFailures` in a row, that address alone gets the open circuit (and
 *   probes for itself); and at most `clientFailures` of one address's failures
 *   count for everyone per window, however they are interleaved.
 * - A call that fails after a later call has succeeded (a timeout that comes
 *   due once the service is back) counts for nothing: it says nothing about the
 *   service now.
 *
 * (Time is `Date.now()`, as cockatiel's own.)
 */
export class CircuitBreaker {
  private readonly shared: CircuitBreakerPolicy;
  private readonly clients = new LRUCache<string, ClientCircuit>({
    max: MAX_TRACKED_CLIENTS,
    ttl: CLIENT_RECORD_TTL_MS,
  });
  private lastSuccessAt = Number.NEGATIVE_INFINITY;
  private sharedProbing = false;
  private sharedOpenedAt = 0;
  private sharedPauseMs = 0;

  constructor(
    private readonly settings: CircuitBreakerSettings,
    private readonly events: CircuitBreakerEvents = {},
  ) {
    const windowSeconds = settings.windowMs / 1000;
    this.shared = circuitBreaker(
      handleWhen((error) => isServiceFailure(error) || error instanceof RefusedProbe),
      {
        halfOpenAfter: new ExponentialBackoff({
          generator: noJitterGenerator,
          initialDelay: settings.halfOpenAfterMs,
          maxDelay: settings.maxHalfOpenAfterMs,
        }),
        breaker: new SamplingBreaker({
          threshold: settings.failureRate,
          duration: settings.windowMs,
          minimumRps: settings.minimumCalls / windowSeconds,
        }),
      },
    );
    this.shared.onHalfOpen(() => {
      this.sharedProbing = true;
    });
    this.shared.onBreak(() => {
      // A failed probe doubles the pause; a fresh opening starts again from the first one.
      const reopened = this.sharedPauseMs > 0 && this.sharedOpenedAt > 0;
      this.sharedPauseMs = reopened
        ? Math.min(this.sharedPauseMs * 2, settings.maxHalfOpenAfterMs)
        : settings.halfOpenAfterMs;
      this.sharedOpenedAt = Date.now();
      this.events.opened?.('all', secondsFrom(this.sharedPauseMs));
    });
    this.shared.onReset(() => {
      this.sharedOpenedAt = 0;
      this.sharedPauseMs = 0;
      this.events.closed?.();
    });
  }

  /** `closed`, `open` (failing fast) or `half-open` (a probe is under way), for health checks. */
  get state(): BreakerState {
    switch (this.shared.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return 'open';
    }
  }

  /**
   * Runs one operation through the breaker.
   *
   * @param client - the client address the call is made for, when there is one
   * @throws AuthServiceUnavailableError('circuit-open') without calling, while the circuit is open
   */
  run<R>(operation: string, call: GuardedCall<R>, client?: string): Promise<R> {
    const record = client === undefined ? undefined : this.clients.get(client);
    if (record !== undefined && record.failures >= this.settings.clientFailures) {
      return this.probeForClient(operation, call, record);
    }
    return this.throughShared(operation, call, client);
  }

  private async throughShared<R>(
    operation: string,
    call: GuardedCall<R>,
    client: string | undefined,
  ): Promise<R> {
    // cockatiel queues calls behind a half-open probe; a caller is better served by a 503 now.
    if (this.shared.state === CircuitState.HalfOpen) throw this.sharedOpen(operation);
    const startedAt = Date.now();
    let value: R;
    try {
      value = await this.shared.execute(async () => {
        const probing = this.sharedProbing;
        this.sharedProbing = false;
        try {
          return await call(!probing);
        } catch (error) {
          if (!isServiceFailure(error))
            throw probing ? new RefusedProbe(error) : new Uncounted(error);
          const countsForClient = client !== undefined && this.clientFailed(client, startedAt);
          // A probe's failure always counts: testing the service is what it is for.
          if (probing) throw error;
          if (startedAt < this.lastSuccessAt) throw new Uncounted(error);
          // Past its share, a client's failures tell about the client, not about the service.
          if (client !== undefined && !countsForClient) throw new Uncounted(error);
          throw error;
        }
      });
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw this.sharedOpen(operation);
      if (error instanceof Uncounted || error instanceof RefusedProbe) throw error.error;
      throw error;
    }
    this.lastSuccessAt = Date.now();
    if (client !== undefined) this.clientSucceeded(client);
    return value;
  }

  /** A client whose circuit is open: fail fast, or let its one probe through (not counted for everyone). */
  private async probeForClient<R>(
    operation: string,
    call: GuardedCall<R>,
    record: ClientCircuit,
  ): Promise<R> {
    const now = Date.now();
    if (record.probing || now < record.openUntil) {
      throw circuitOpen(operation, Math.max(record.openUntil - now, this.settings.halfOpenAfterMs));
    }
    if (this.shared.state !== CircuitState.Closed) throw this.sharedOpen(operation);
    record.probing = true;
    try {
      const result = await call(false);
      this.recovered(record);
      return result;
    } catch (error) {
      if (isServiceFailure(error)) {
        record.pauseMs = Math.min(record.pauseMs * 2, this.settings.maxHalfOpenAfterMs);
        record.openUntil = Date.now() + record.pauseMs;
      } else {
        // The service answered this client: its circuit closes (its share still bounds its failures).
        record.failures = 0;
        record.pauseMs = 0;
      }
      throw error;
    } finally {
      record.probing = false;
    }
  }

  private clientSucceeded(client: string): void {
    const record = this.clients.get(client);
    if (record === undefined) return;
    this.recovered(record);
    this.clients.set(client, record);
  }

  private recovered(record: ClientCircuit): void {
    record.failures = 0;
    record.pauseMs = 0;
    record.lastSuccessAt = Date.now();
  }

  /**
   * Records a failure of one client's call; its circuit opens at the threshold.
   *
   * @returns whether the failure still counts for everyone: it does while the
   *   client has had fewer than the threshold counted in the current window
   */
  private clientFailed(client: string, startedAt: number): boolean {
    const now = Date.now();
    const record = this.clients.get(client) ?? {
      failures: 0,
      openUntil: 0,
      pauseMs: 0,
      probing: false,
      lastSuccessAt: Number.NEGATIVE_INFINITY,
      counted: 0,
      countedSince: now,
    };
    // A success since it started, for this client or any other: the service was up after all.
    if (startedAt < Math.max(record.lastSuccessAt, this.lastSuccessAt)) return false;
    record.failures++;
    if (record.failures === this.settings.clientFailures) {
      record.pauseMs = this.settings.halfOpenAfterMs;
      record.openUntil = now + record.pauseMs;
      this.events.opened?.('client', secondsFrom(record.pauseMs));
    }
    if (now - record.countedSince >= this.settings.windowMs) {
      record.counted = 0;
      record.countedSince = now;
    }
    const withinShare = record.counted < this.settings.clientFailures;
    if (withinShare) record.counted++;
    this.clients.set(client, record);
    return withinShare;
  }

  private sharedOpen(operation: string): AuthServiceUnavailableError {
    const left = this.sharedOpenedAt + this.sharedPauseMs - Date.now();
    return circuitOpen(operation, Math.max(left, this.settings.halfOpenAfterMs));
  }
}

/** The auth-service failed (not the caller's request): what a breaker counts. */
function isServiceFailure(error: unknown): boolean {
  return (
    isUpstreamFailure(error) &&
    !(error instanceof AuthServiceUnavailableError && error.reason === 'circuit-open')
  );
}

function circuitOpen(operation: string, waitMs: number): AuthServiceUnavailableError {
  return new AuthServiceUnavailableError(operation, 'circuit-open', undefined, secondsFrom(waitMs));
}

function secondsFrom(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
