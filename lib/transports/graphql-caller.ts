import type { ExecutionContext } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { bearerTokenFrom, oneBearerOf, setBearerTokenOf } from '../auth/bearer-token.js';
import type { HttpRequestLike } from '../auth/http-request.js';
import { UNAUTHORIZED_CLOSE_CODE, type SubscriptionConnection } from './subscription-expiry.js';
import { isObject, readFor, TransportCaller } from './transport-caller.js';

/** A WebSocket as graphql-ws's and Mercurius's servers (the `ws` package) hand it over. */
interface WebSocketLike {
  close(code: number, reason: string): void;
  once(event: 'close', listener: () => void): unknown;
}

/** The caller of a subscription: one per connection, with the token of its `connectionParams`. */
export class SubscriptionCaller extends TransportCaller {
  constructor(
    ip: string | undefined,
    readonly connection: SubscriptionConnection,
  ) {
    super(ip);
  }
}

/** What a subscription's GraphQL context tells of its connection, whichever server made it. */
interface SubscriptionContext {
  /** One object per connection. */
  key: object;
  connectionParams: unknown;
  connection: SubscriptionConnection;
  ip: string | undefined;
}

const callers = new WeakMap<object, SubscriptionCaller>();
const mercuriusSockets = new WeakMap<object, WebSocketLike>();

/**
 * The request of a GraphQL context: for a query or a mutation, the HTTP
 * request the driver puts in the context (`req`, Apollo's and Mercurius's
 * default), whose `Authorization` header counts; for a subscription, the
 * connection's caller, whose token comes from `connectionParams`
 * (`authorization` or `Authorization`, with or without `Bearer `). `undefined`
 * when the context holds neither: the guard denies it.
 */
export function graphqlCallerOf(context: ExecutionContext): HttpRequestLike | undefined {
  // A resolver's arguments: root, args, context, info.
  const gql = context.getArgByIndex<unknown>(2);
  if (!isObject(gql)) return undefined;
  const info = context.getArgByIndex<unknown>(3);
  const operation =
    isObject(info) && isObject(info.operation) ? info.operation.operation : undefined;
  if (operation !== 'subscription') {
    return isObject(gql.req) && isObject(gql.req.headers)
      ? readFor('graphql', gql.req as unknown as HttpRequestLike)
      : undefined;
  }
  const subscription = apolloSubscription(gql) ?? mercuriusSubscription(gql);
  if (subscription === undefined) return undefined;
  let caller = callers.get(subscription.key);
  if (caller === undefined) {
    caller = readFor('graphql', new SubscriptionCaller(subscription.ip, subscription.connection));
    const params = isObject(subscription.connectionParams) ? subscription.connectionParams : {};
    setBearerTokenOf(
      caller,
      oneBearerOf([bearerTokenFrom(params.authorization), bearerTokenFrom(params.Authorization)]),
    );
    callers.set(subscription.key, caller);
  }
  return caller;
}

/**
 * Mercurius's subscription context holds no socket: `apexSubscriptionContext`
 * (its `subscription.context` hook) records it, so that an expired connection
 * is closed with its reason rather than dropped.
 */
export function rememberMercuriusSocket(request: object, socket: WebSocketLike): void {
  mercuriusSockets.set(request, socket);
}

/** Apollo (graphql-ws): the context's `req` is graphql-ws's own context of the connection. */
function apolloSubscription(gql: Record<PropertyKey, unknown>): SubscriptionContext | undefined {
  const ws = gql.req;
  if (!isObject(ws) || !isObject(ws.extra) || !isObject(ws.extra.socket)) return undefined;
  const request = ws.extra.request as IncomingMessage | undefined;
  return {
    key: ws,
    connectionParams: ws.connectionParams,
    connection: webSocketConnection(ws.extra.socket as unknown as WebSocketLike),
    ip: request?.socket?.remoteAddress,
  };
}

/** Mercurius: the upgrade's Fastify request, and the `connection_init` payload as `_connectionInit`. */
function mercuriusSubscription(gql: Record<PropertyKey, unknown>): SubscriptionContext | undefined {
  const request = gql.request;
  if (!isObject(request) || !Object.hasOwn(gql, '_connectionInit')) return undefined;
  const socket = mercuriusSockets.get(request);
  const raw = (request as { raw?: IncomingMessage }).raw?.socket;
  let connection: SubscriptionConnection;
  if (socket !== undefined) connection = webSocketConnection(socket);
  else if (raw !== undefined) connection = socketConnection(raw);
  else return undefined;
  return {
    key: request,
    connectionParams: gql._connectionInit,
    connection,
    ip: typeof request.ip === 'string' ? request.ip : undefined,
  };
}

function webSocketConnection(socket: WebSocketLike): SubscriptionConnection {
  return {
    close: (reason) => socket.close(UNAUTHORIZED_CLOSE_CODE, reason),
    onClosed: (listener) => void socket.once('close', listener),
  };
}

/** Without the WebSocket, its TCP socket: closed without a reason, but closed. */
function socketConnection(socket: Socket): SubscriptionConnection {
  return {
    close: () => socket.destroy(),
    onClosed: (listener) => void socket.once('close', listener),
  };
}
