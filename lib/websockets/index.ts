/**
 * `@apex/nest-auth/websockets`: for WebSocket gateways that verify a token
 * themselves. The guard, the decorators and the handshake check serve gateways
 * as they are. Needs `@nestjs/websockets`.
 *
 * @packageDocumentation
 */
export { toWsException } from './ws-refusal.js';
export type { RefusalCode } from '../transports/refusal.js';
