import { SetMetadata } from '@nestjs/common';
import { APEX_AUTH_PUBLIC } from '../apex-auth.constants.js';

/**
 * Marks a route, or every route of a controller, as callable without a token.
 * A valid token sent anyway still authenticates: `@CurrentUser()` sees the user
 * (and is `undefined` otherwise). Permission decorators do not apply to a public route.
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(APEX_AUTH_PUBLIC, true);
