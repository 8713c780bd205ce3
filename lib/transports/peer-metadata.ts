// The metadata keys (and the one provider token) of the optional packages that
// the startup checks read, as the packages define them: copied here so that
// checking an app loads none of those packages.
// test/transports/peer-metadata.transports.spec.ts compares each with the
// package's own constant.

/** `@nestjs/microservices`: `@MessagePattern()` and `@EventPattern()` on a handler. */
export const PATTERN_METADATA = 'microservices:pattern';
/** `@nestjs/websockets`: `@WebSocketGateway()` on a class. */
export const GATEWAY_METADATA = 'websockets:is_gateway';
/** `@nestjs/websockets`: `@SubscribeMessage()` on a handler. */
export const MESSAGE_MAPPING_METADATA = 'websockets:message_mapping';
/** `@nestjs/graphql`: `@Query()`, `@Mutation()` and `@Subscription()` on a handler. */
export const RESOLVER_TYPE_METADATA = 'graphql:resolver_type';
/** `@nestjs/graphql`: `@ResolveField()` on a handler. */
export const RESOLVER_PROPERTY_METADATA = 'graphql:resolve_property';
/** `@nestjs/graphql`: the injection token of `GraphQLModule`'s options. */
export const GRAPHQL_MODULE_OPTIONS = 'GqlModuleOptions';
