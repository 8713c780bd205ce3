import { rememberMercuriusSocket } from '../transports/graphql-caller.js';
import { isObject } from '../transports/transport-caller.js';

/**
 * Mercurius's `subscription.context` hook, for `GraphQLModule.forRoot({ driver:
 * MercuriusDriver, subscription: { context: apexSubscriptionContext } })`: it
 * lets the module close a subscription's connection with its reason (`4401
 * token expired`) when the token expires. Without it the connection is still
 * closed then, but dropped without a reason. It adds nothing to the context; an
 * app with a context hook of its own spreads this one's result into it.
 */
export function apexSubscriptionContext(socket: unknown, request: unknown): Record<string, never> {
  if (isObject(request) && isObject(socket) && typeof socket.close === 'function') {
    rememberMercuriusSocket(
      request,
      socket as unknown as Parameters<typeof rememberMercuriusSocket>[1],
    );
  }
  return {};
}
