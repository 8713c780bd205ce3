import { SetMetadata } from '@nestjs/common';
import { APEX_AUTH_PUBLIC } from '../apex-auth.constants.js';

/**
 * Marks a route, or every route of a controller, as callable without a token.
 * A valid token sent anyway still authenticates: `@CurrentUser()` sees the user
 * (and is `undefined` otherwise).
 *
 * A requirement (`@Permissions()`, `@ServiceAdmin()`, `@SuperAdmin()`) always
 * wins: on a handler of a `@Public()` controller it makes that handler need a
 * token and the requirement. `@Public()` where a requirement applies at the
 * same level or a wider one (on the same handler, the same class, or the
 * handler's controller) stops the app at startup, naming the route.
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(APEX_AUTH_PUBLIC, true);
