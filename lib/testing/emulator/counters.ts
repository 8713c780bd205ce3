import type { EmulatorEndpoint } from './options.js';
import { ENDPOINTS } from './router.js';

/** Requests received per endpoint, faulted ones included. */
export class RequestCounters {
  private counts = RequestCounters.zero();

  /** Counts one request of `endpoint`. */
  record(endpoint: EmulatorEndpoint): void {
    this.counts[endpoint] += 1;
  }

  /** Requests of `endpoint` so far. */
  count(endpoint: EmulatorEndpoint): number {
    return this.counts[endpoint];
  }

  /** A copy of every endpoint's count (zeros included). */
  snapshot(): Record<EmulatorEndpoint, number> {
    return { ...this.counts };
  }

  /** Sets every count back to zero. */
  reset(): void {
    this.counts = RequestCounters.zero();
  }

  private static zero(): Record<EmulatorEndpoint, number> {
    return Object.fromEntries(ENDPOINTS.map((endpoint) => [endpoint, 0])) as Record<
      EmulatorEndpoint,
      number
    >;
  }
}
