import type { EventEmitter } from 'node:events';
import autocannon from 'autocannon';

/** One request, built once before the run (never per response: that caps the generator). */
export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** A run of the load generator. */
export interface LoadPlan {
  url: string;
  connections: number;
  /**
   * What each connection sends, in turn: one list for all of them, or one per
   * connection (distinct tokens: a connection never sends another's).
   */
  requests: LoadRequest[] | LoadRequest[][];
  /** Run for this long (s), or until `amount` requests were answered. */
  durationSeconds?: number;
  amount?: number;
  /** Called when the connections start (after the requests were built). */
  onStart?: () => void;
}

/** What a run measured. */
export interface LoadResult {
  requests: number;
  seconds: number;
  /**
   * Answers per second in the steady part of the run: between its 10th and
   * 90th percentile answers, so that neither the ramp-up nor the tail (the
   * last connections finishing alone) counts against the app.
   */
  perSecond: number;
  p99Ms: number;
  /** Answers other than 2xx, connection errors and timeouts. */
  failures: number;
}

/** Runs autocannon against `plan.url` with requests built up front. */
export async function runLoad(plan: LoadPlan): Promise<LoadResult> {
  const perConnection = Array.isArray(plan.requests[0])
    ? (plan.requests as LoadRequest[][])
    : undefined;
  let connection = 0;
  const run = autocannon({
    url: plan.url,
    connections: plan.connections,
    pipelining: 1,
    ...(plan.amount === undefined
      ? { duration: plan.durationSeconds ?? 1 }
      : { amount: plan.amount }),
    requests: perConnection?.[0] ?? (plan.requests as LoadRequest[]),
    ...(perConnection === undefined
      ? {}
      : {
          setupClient: (client: autocannon.Client) =>
            client.setRequests(perConnection[connection++ % perConnection.length]),
        }),
  }) as Promise<autocannon.Result> & EventEmitter;
  // From when the connections start, not from when autocannon began building their requests.
  let started = performance.now();
  const events: EventEmitter = run;
  events.once('start', () => {
    started = performance.now();
    plan.onStart?.();
  });
  const answeredAt: number[] = [];
  events.on('response', () => answeredAt.push(performance.now()));
  const result = await run;
  const seconds = (performance.now() - started) / 1000;
  const requests = result.requests.total;
  return {
    requests,
    seconds,
    perSecond: steadyRate(answeredAt),
    p99Ms: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

/** Answers per second between the 10th and the 90th percentile answer (times in ms, in order). */
function steadyRate(answeredAt: readonly number[]): number {
  const first = Math.floor(answeredAt.length * 0.1);
  const last = Math.ceil(answeredAt.length * 0.9) - 1;
  const ms = answeredAt[last] - answeredAt[first];
  return last > first && ms > 0 ? ((last - first) * 1000) / ms : 0;
}
