/**
 * `@apex/nest-auth/graphql`: what GraphQL apps use besides the guard and the
 * decorators, which serve resolvers as they are. Needs `graphql` (a peer of
 * `@nestjs/graphql`).
 *
 * @packageDocumentation
 */
export { toGraphQLError } from './graphql-refusal.js';
export { apexSubscriptionContext } from './mercurius-subscription.js';
export type { RefusalCode } from '../transports/refusal.js';
