import type { HttpRequestLike } from '../auth/http-request.js';

/** The transports the module reads itself, besides HTTP routes. */
export type Transport = 'graphql' | 'ws' | 'rpc';

/**
 * Who calls over a transport without an HTTP request of its own (a WebSocket
 * connection, a GraphQL subscription's connection, an rpc message): what the
 * guard and the Passport strategy read of a request (no headers, since the
 * token was read when the caller was made, and the client address), and where
 * the guard puts the user for `@CurrentUser()`.
 */
export class TransportCaller implements HttpRequestLike {
  readonly headers = {};
  user?: unknown;

  constructor(readonly ip: string | undefined) {}
}

const transports = new WeakMap<object, Transport>();

/**
 * Marks a request as read by the module for a transport, and returns it: the
 * guard then refuses in that transport's terms (a GraphQL error, a
 * `WsException`, an `RpcException`). A request a guard subclass reads itself is
 * not marked, and gets the HTTP exceptions, as before.
 */
export function readFor<R extends object>(transport: Transport, request: R): R {
  transports.set(request, transport);
  return request;
}

/** The transport a request was read for, or `undefined` (HTTP, or a subclass's own). */
export function transportOf(request: object): Transport | undefined {
  return transports.get(request);
}

/**
 * After a call that did not authenticate: a caller that outlives one call (a
 * connection) must not keep a user whose token stopped being good.
 */
export function forgetUserOf(request: HttpRequestLike): void {
  if (request instanceof TransportCaller) request.user = undefined;
}

/** Whether a value is an object (or a function) whose properties can be read. */
export function isObject(value: unknown): value is Record<PropertyKey, unknown> {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}
