import { GraphQLError } from 'graphql';
import { refusalOf } from '../transports/refusal.js';

/**
 * A refusal of the module as a GraphQL error: the same short reason as over
 * HTTP, `extensions.code` `UNAUTHENTICATED`, `FORBIDDEN`, `TOO_MANY_REQUESTS`
 * or `SERVICE_UNAVAILABLE` (and `extensions.retryAfter`, in seconds, for the
 * last two); never a token or an upstream body. What `ApexAuthGuard` throws in
 * a resolver; use it where a context function or a resolver of the app's
 * verifies a token with `TokenVerifier` itself. Any other error is returned as
 * it is.
 */
export function toGraphQLError(error: unknown): unknown {
  const refusal = refusalOf(error);
  if (refusal === undefined) return error;
  return new GraphQLError(refusal.message, {
    extensions: {
      code: refusal.code,
      ...(refusal.retryAfterSeconds === undefined ? {} : { retryAfter: refusal.retryAfterSeconds }),
    },
  });
}
