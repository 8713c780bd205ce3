import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AuthenticatedUser } from '../auth/authenticated-user.js';
import { httpRequestOf } from '../auth/http-request.js';

/**
 * The authenticated caller ({@link AuthenticatedUser}), or one of its
 * properties: `@CurrentUser('metadata')`, `@CurrentUser('id')`.
 * `undefined` on a public route called without a (valid) token.
 */
export const CurrentUser = createParamDecorator(
  (property: keyof AuthenticatedUser | undefined, context: ExecutionContext): unknown => {
    const user = httpRequestOf(context)?.user as AuthenticatedUser | undefined;
    return property === undefined ? user : user?.[property];
  },
);
