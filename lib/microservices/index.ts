/**
 * `@apex/nest-auth/microservices`: for message handlers that verify a token
 * themselves. The guard and the decorators serve handlers as they are once the
 * app gives the `rpcToken` option. Needs `@nestjs/microservices`.
 *
 * @packageDocumentation
 */
export { toRpcException } from './rpc-refusal.js';
export type { RefusalCode } from '../transports/refusal.js';
