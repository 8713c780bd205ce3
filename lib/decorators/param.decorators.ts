import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { bearerTokenOf } from '../auth/bearer-token.js';
import { knownCallerOf } from '../transports/callers.js';
import type { AuthenticatedUser } from '../verification/user-lookup.js';

/**
 * The authenticated caller ({@link AuthenticatedUser}), or one of its
 * properties: `@CurrentUser('metadata')`, `@CurrentUser('id')`.
 * `undefined` on a public route called without a (valid) token. On a route, a
 * resolver, a gateway's message handler or an rpc handler alike.
 */
export const CurrentUser = createParamDecorator(
  (property: keyof AuthenticatedUser | undefined, context: ExecutionContext): unknown => {
    const user = knownCallerOf(context)?.user as AuthenticatedUser | undefined;
    return property === undefined ? user : user?.[property];
  },
);

/**
 * The caller's raw bearer token, to call the auth-service on their behalf with
 * `authApi.forToken(token)`: the one the guard read (the header; a
 * subscription's `connectionParams`; a WebSocket handshake's; what `rpcToken`
 * returned). `undefined` when the call carried none. On a route no
 * `ApexAuthGuard` covers (`globalGuard: false`) it is read from the header with
 * the same rules.
 */
export const AuthToken = createParamDecorator(
  (_data: unknown, context: ExecutionContext): string | undefined => {
    const request = knownCallerOf(context);
    if (request === undefined) return undefined;
    const bearer = bearerTokenOf(request);
    return 'credential' in bearer ? bearer.credential.token : undefined;
  },
);
