import type { IncomingMessage, ServerResponse } from 'node:http';

import type { EmulatorContext, EmulatorRequest } from './context.js';
import type { RequestCounters } from './counters.js';
import { applyFault, type FaultRegistry } from './faults.js';
import type { ResponseLatency } from './latency.js';
import type { EmulatorEndpoint, EmulatorFault } from './options.js';
import {
  HttpError,
  INTERNAL_ERROR_REPLY,
  parseForm,
  parseJsonBody,
  readBody,
  writeReply,
  type Reply,
  type RequestBody,
} from './http.js';
import { classifyLogin, matchRoute, type RouteMatch } from './router.js';
import { HANDLERS } from './routes/handlers.js';

/** What the request pipeline needs from its emulator. */
export interface PipelineParts {
  readonly context: EmulatorContext;
  readonly counters: RequestCounters;
  readonly faults: FaultRegistry;
  readonly latency: ResponseLatency;
}

/** What a request gets: a reply or a fault, and the endpoint it reached, if any. */
type Outcome = { readonly endpoint?: EmulatorEndpoint } & (
  { readonly reply: Reply } | { readonly fault: EmulatorFault }
);

const NOT_FOUND: Reply = { status: 404, body: { detail: 'Not Found' } };
const TOO_LARGE: Reply = { status: 413, body: { detail: 'Request body too large' } };

/**
 * The server's request listener: read the body, route, count, apply a fault or handle,
 * wait out the endpoint's latency, answer. It never throws and never rejects, so no
 * request can take the process down.
 */
export function createRequestListener(
  parts: PipelineParts,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void respond(parts, req, res).catch(() => req.socket.destroy());
  };
}

async function respond(
  parts: PipelineParts,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let body: RequestBody;
  try {
    body = await readBody(req);
  } catch {
    return; // The client left mid-body: there is nobody to answer.
  }
  let outcome: Outcome;
  try {
    outcome = dispatch(parts, req, body);
  } catch (error) {
    outcome = { reply: errorReply(error) };
  }
  const delay = outcome.endpoint === undefined ? 0 : parts.latency.of(outcome.endpoint);
  // Unref'd: a stopped emulator's pending answers must not hold the process open.
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay).unref());
  if ('fault' in outcome) {
    if (!res.destroyed) applyFault(outcome.fault, req, res);
    return;
  }
  try {
    writeReply(res, outcome.reply);
  } catch {
    // A reply that cannot be serialized (say, a BigInt in seeded metadata).
    writeReply(res, INTERNAL_ERROR_REPLY);
  }
}

// Counting comes before faults, so that faulted requests are counted too. The size limit
// comes before any handler, as a server-level limit would: an oversized body is a 413
// whatever its token or path parameters.
function dispatch(parts: PipelineParts, req: IncomingMessage, body: RequestBody): Outcome {
  const route = matchRoute(req.method ?? '', req.url ?? '');
  if (route.kind !== 'endpoint') return { reply: routeFailure(route) };
  const form = parseForm(req, body.bytes);
  const endpoint = route.endpoint === 'login' ? classifyLogin(form) : route.endpoint;
  parts.counters.record(endpoint);
  const fault = parts.faults.take(endpoint);
  if (fault !== undefined) return { endpoint, fault };
  if (body.tooLarge) return { endpoint, reply: TOO_LARGE };
  const request: EmulatorRequest = {
    endpoint,
    params: route.params,
    headers: req.headers,
    form,
    json: () => parseJsonBody(req, body.bytes),
  };
  try {
    return { endpoint, reply: HANDLERS[endpoint](parts.context, request) };
  } catch (error) {
    return { endpoint, reply: errorReply(error) };
  }
}

function errorReply(error: unknown): Reply {
  return error instanceof HttpError ? error.toReply() : INTERNAL_ERROR_REPLY;
}

function routeFailure(route: Exclude<RouteMatch, { kind: 'endpoint' }>): Reply {
  if (route.kind === 'notFound') return NOT_FOUND;
  return {
    status: 405,
    body: { detail: 'Method Not Allowed' },
    headers: { Allow: route.allow.join(', ') },
  };
}
