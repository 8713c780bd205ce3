import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import {
  bearerTokenFrom,
  oneBearerOf,
  readBearerToken,
  setBearerTokenOf,
  type BearerTokenResult,
} from '../auth/bearer-token.js';
import { isObject, readFor, TransportCaller } from './transport-caller.js';

/** What a socket.io socket holds of its handshake. */
interface SocketIoHandshake {
  headers: IncomingHttpHeaders;
  auth?: unknown;
  query?: unknown;
  address?: unknown;
}

const callers = new WeakMap<object, TransportCaller>();

/**
 * The caller of a WebSocket connection, made once, when it connects: its
 * token from the handshake (the `Authorization` header; socket.io's
 * `auth.token`, with or without `Bearer `; the query parameter
 * `queryParameter` only when the app names one, since URLs end up in logs),
 * its address the socket's peer. Two different tokens in one handshake are
 * refused as malformed.
 *
 * @param upgrade - the HTTP upgrade request, for a server that hands it over
 *   with the connection (the `ws` package); socket.io keeps its own handshake
 * @returns `undefined` for a client that is neither a socket.io socket nor came with its upgrade request
 */
export function connectionCaller(
  client: object,
  upgrade: IncomingMessage | undefined,
  queryParameter: string | undefined,
): TransportCaller | undefined {
  const known = callers.get(client);
  if (known !== undefined) return known;
  const handshake = socketIoHandshake(client);
  let caller: TransportCaller;
  let bearer: BearerTokenResult;
  if (handshake !== undefined) {
    const auth = isObject(handshake.auth) ? handshake.auth : {};
    caller = new TransportCaller(
      typeof handshake.address === 'string' ? handshake.address : undefined,
    );
    bearer = oneBearerOf([
      readBearerToken({ headers: handshake.headers }),
      bearerTokenFrom(auth.token),
      queryToken(handshake.query, queryParameter),
    ]);
  } else if (isUpgrade(upgrade)) {
    caller = new TransportCaller(upgrade.socket?.remoteAddress);
    const query =
      queryParameter === undefined
        ? undefined
        : Object.fromEntries(new URL(upgrade.url ?? '/', 'ws://handshake').searchParams);
    bearer = oneBearerOf([readBearerToken(upgrade), queryToken(query, queryParameter)]);
  } else {
    return undefined;
  }
  setBearerTokenOf(caller, bearer);
  callers.set(client, readFor('ws', caller));
  return caller;
}

/** The caller a connection was made with, if any: for the decorators, which need no options. */
export function knownConnectionCaller(client: unknown): TransportCaller | undefined {
  return isObject(client) ? callers.get(client) : undefined;
}

function queryToken(query: unknown, parameter: string | undefined): BearerTokenResult {
  if (parameter === undefined || !isObject(query)) return { problem: 'missing' };
  return bearerTokenFrom(query[parameter]);
}

function socketIoHandshake(client: object): SocketIoHandshake | undefined {
  const handshake = (client as { handshake?: unknown }).handshake;
  return isObject(handshake) && isObject(handshake.headers)
    ? (handshake as unknown as SocketIoHandshake)
    : undefined;
}

function isUpgrade(request: unknown): request is IncomingMessage {
  return isObject(request) && isObject(request.headers);
}
