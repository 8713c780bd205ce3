import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { readBearerToken } from '../auth/bearer-token.js';
import { httpRequestOf } from '../auth/http-request.js';
import { requestToken } from '../auth/request-token.js';

/**
 * The caller's raw bearer token, to call the auth-service on their behalf with
 * `authApi.forToken(token)`. `undefined` when the request carried none.
 */
export const AuthToken = createParamDecorator(
  (_data: unknown, context: ExecutionContext): string | undefined => {
    const request = httpRequestOf(context);
    if (request === undefined) return undefined;
    // On a route ApexAuthGuard does not cover (`globalGuard: false`), the guard
    // never read the header: read it here, with the same rules.
    const remembered = requestToken(request);
    if (remembered !== undefined) return remembered;
    const bearer = readBearerToken(request);
    return 'token' in bearer ? bearer.token : undefined;
  },
);
