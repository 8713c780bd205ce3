import type { EmulatorEndpoint, EmulatorLatency } from './options.js';
import { isEndpoint } from './router.js';

/**
 * How long each endpoint holds its answer back. The answer is computed first
 * and sent after the delay, as from a service whose replies arrive late: what
 * a read answers is the state at the time it was read, so that concurrent
 * clients can act on a stale read, as they do against a slow auth-service.
 */
export class ResponseLatency {
  private everyEndpointMs = 0;
  private byEndpointMs: Partial<Record<EmulatorEndpoint, number>> = {};

  /** Replaces the latency (checked first, so that a bad one changes nothing). */
  set(latency: EmulatorLatency): void {
    if (typeof latency === 'number') {
      this.everyEndpointMs = checkMs(latency, 'latencyMs');
      this.byEndpointMs = {};
      return;
    }
    if (typeof latency !== 'object' || latency === null || Array.isArray(latency)) {
      throw new TypeError('latencyMs must be a number or an object keyed by endpoint names');
    }
    const byEndpoint: Partial<Record<EmulatorEndpoint, number>> = {};
    for (const [endpoint, ms] of Object.entries(latency)) {
      if (!isEndpoint(endpoint)) {
        throw new RangeError(`latencyMs: unknown endpoint ${JSON.stringify(endpoint)}`);
      }
      byEndpoint[endpoint] = checkMs(ms, `latencyMs.${endpoint}`);
    }
    this.everyEndpointMs = 0;
    this.byEndpointMs = byEndpoint;
  }

  /** The delay of an answer of `endpoint`, in ms. */
  of(endpoint: EmulatorEndpoint): number {
    return this.byEndpointMs[endpoint] ?? this.everyEndpointMs;
  }
}

function checkMs(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a number of milliseconds ≥ 0, got ${String(value)}`);
  }
  return value;
}
