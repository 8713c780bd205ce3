import { Logger, type ExecutionContext } from '@nestjs/common';
import { bearerTokenFrom, setBearerTokenOf, type BearerTokenResult } from '../auth/bearer-token.js';
import { isObject, readFor, TransportCaller } from './transport-caller.js';

/** The option that opts an app's rpc transport in: the raw token of a message, or `undefined`. */
export type RpcTokenExtractor = (context: ExecutionContext) => string | undefined;

/** Where the rpc callers of messages are counted when the transport names no peer. */
const RPC_ADDRESS = 'rpc';
const callers = new WeakMap<object, TransportCaller>();
const logger = new Logger('ApexAuth');

/**
 * The caller of an rpc message, made once per message: its token is what the
 * app's `rpcToken` returns (with or without `Bearer `), its address the peer of
 * a TCP transport, or one shared `rpc` for transports that name none.
 * `undefined` without `rpcToken`: the app did not opt its transport in, and
 * the guard denies the message.
 */
export function rpcCallerOf(
  context: ExecutionContext,
  rpcToken: RpcTokenExtractor | undefined,
): TransportCaller | undefined {
  if (rpcToken === undefined) return undefined;
  const key = messageKey(context);
  const known = key === undefined ? undefined : callers.get(key);
  if (known !== undefined) return known;
  const caller = readFor('rpc', new TransportCaller(peerAddress(context) ?? RPC_ADDRESS));
  setBearerTokenOf(caller, tokenOf(context, rpcToken));
  if (key !== undefined) callers.set(key, caller);
  return caller;
}

/** The caller the guard made for a message, if any: for the decorators. */
export function knownRpcCaller(context: ExecutionContext): TransportCaller | undefined {
  const key = messageKey(context);
  return key === undefined ? undefined : callers.get(key);
}

function tokenOf(context: ExecutionContext, rpcToken: RpcTokenExtractor): BearerTokenResult {
  try {
    return bearerTokenFrom(rpcToken(context));
  } catch (error) {
    // The error's name only: its message is the app's and may hold anything (the token).
    const kind = error instanceof Error ? error.name : typeof error;
    logger.error(`rpcToken threw (${kind}); the message is refused`);
    return { problem: 'malformed' };
  }
}

/** One object per message: the transport's context (`TcpContext`, …), else the data. */
function messageKey(context: ExecutionContext): object | undefined {
  const rpc = context.switchToRpc();
  const message = rpc.getContext<unknown>();
  if (isObject(message)) return message;
  const data = rpc.getData<unknown>();
  return isObject(data) ? data : undefined;
}

/** A TCP transport's peer (`TcpContext#getSocketRef()`); other transports name none. */
function peerAddress(context: ExecutionContext): string | undefined {
  const message = context.switchToRpc().getContext<unknown>();
  if (!isObject(message) || typeof message.getSocketRef !== 'function') return undefined;
  const ref = (message.getSocketRef as () => unknown).call(message);
  const socket = isObject(ref) ? ref.socket : undefined;
  const address = isObject(socket) ? socket.remoteAddress : undefined;
  return typeof address === 'string' ? address : undefined;
}
