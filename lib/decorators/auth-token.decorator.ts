import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { httpRequestOf } from '../auth/http-request.js';
import { requestToken } from '../auth/request-token.js';

/**
 * The caller's raw bearer token, to call the auth-service on their behalf with
 * `authApi.forToken(token)`. `undefined` when the request carried none.
 */
export const AuthToken = createParamDecorator(
  (_data: unknown, context: ExecutionContext): string | undefined => {
    const request = httpRequestOf(context);
    return request && requestToken(request);
  },
);
