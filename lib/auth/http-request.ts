import { Logger, type ExecutionContext } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { UNKNOWN_ADDRESS } from '../verification/client-address.js';

/**
 * What the module reads of an HTTP request. Express requests and Fastify
 * requests both fit; Fastify keeps Node's message under `raw`.
 */
export interface HttpRequestLike {
  headers: IncomingHttpHeaders;
  rawHeaders?: string[];
  raw?: { rawHeaders?: string[] };
  query?: unknown;
  ip?: string;
  user?: unknown;
}

/**
 * The HTTP request of an execution context, or `undefined` for any other kind
 * of context (ws, rpc, graphql): callers deny those rather than guess.
 */
export function httpRequestOf(context: ExecutionContext): HttpRequestLike | undefined {
  if (context.getType() !== 'http') return undefined;
  return context.switchToHttp().getRequest<HttpRequestLike>();
}

let warnedOfUnknownAddress = false;

/**
 * The client address of a request, for the limits and the circuit breaker.
 * A request without one (a server on a Unix socket, or behind a proxy the app
 * does not trust) counts under one shared key rather than under none: a
 * defence is never silently off. Said once, with what to do about it.
 */
export function addressOf(request: HttpRequestLike): string {
  if (typeof request.ip === 'string' && request.ip !== '') return request.ip;
  if (!warnedOfUnknownAddress) {
    warnedOfUnknownAddress = true;
    new Logger('ApexAuth').warn(
      "A request has no client address (request.ip): every such request counts as one address for the login limits, the lookup limit and the circuit breaker. Behind a proxy, enable the adapter's trust-proxy setting so that the address comes from X-Forwarded-For",
    );
  }
  return UNKNOWN_ADDRESS;
}
