import type { ExecutionContext } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';

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

/** The HTTP response of an execution context (Express response or Fastify reply). */
export function httpResponseOf(context: ExecutionContext): unknown {
  return context.switchToHttp().getResponse<unknown>();
}
