import type { ExecutionContext } from '@nestjs/common';
import { httpRequestOf, type HttpRequestLike } from '../auth/http-request.js';
import { graphqlCallerOf } from './graphql-caller.js';
import { knownRpcCaller, rpcCallerOf, type RpcTokenExtractor } from './rpc-caller.js';
import { isObject } from './transport-caller.js';
import { connectionCaller, knownConnectionCaller } from './ws-caller.js';

/** What reading the transports takes from the module's options. */
export interface TransportReading {
  readonly rpcToken?: RpcTokenExtractor;
  readonly wsTokenQuery?: string;
}

/**
 * The request of a context, as `ApexAuthGuard` reads it by default: an HTTP
 * route's request; a resolver's HTTP request, or its subscription's caller; a
 * gateway's connection caller; an rpc message's caller when the app gave
 * `rpcToken`. `undefined` for anything else, which is denied, never guessed.
 */
export function callerOf(
  context: ExecutionContext,
  reading: TransportReading,
): HttpRequestLike | undefined {
  switch (context.getType<string>()) {
    case 'http':
      return httpRequestOf(context);
    case 'graphql':
      return graphqlCallerOf(context);
    case 'ws': {
      const client = context.switchToWs().getClient<unknown>();
      return isObject(client)
        ? connectionCaller(client, undefined, reading.wsTokenQuery)
        : undefined;
    }
    case 'rpc':
      return rpcCallerOf(context, reading.rpcToken);
    default:
      return undefined;
  }
}

/**
 * The request of a context as `@CurrentUser()` and `@AuthToken()` find it,
 * without the module's options: the same as {@link callerOf}, for the callers
 * that exist already (a connection's, made when it connected; an rpc
 * message's, made by the guard).
 */
export function knownCallerOf(context: ExecutionContext): HttpRequestLike | undefined {
  switch (context.getType<string>()) {
    case 'http':
      return httpRequestOf(context);
    case 'graphql':
      return graphqlCallerOf(context);
    case 'ws':
      return knownConnectionCaller(context.switchToWs().getClient<unknown>());
    case 'rpc':
      return knownRpcCaller(context);
    default:
      return undefined;
  }
}
