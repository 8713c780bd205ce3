import { WsException } from '@nestjs/websockets';
import { refusalBody, refusalOf } from '../transports/refusal.js';

/**
 * A refusal of the module as a `WsException` whose error is
 * `{ status: 'error', code, message }` (and `retryAfter`, in seconds, for a
 * `429` or a `503`): Nest's WebSocket exception filter sends it to the client as
 * it is, as the `exception` event. What `ApexAuthGuard` throws in a gateway; use
 * it where a gateway of the app's verifies a token with `TokenVerifier` itself.
 * Any other error is returned as it is.
 */
export function toWsException(error: unknown): unknown {
  const refusal = refusalOf(error);
  return refusal === undefined ? error : new WsException(refusalBody(refusal));
}
