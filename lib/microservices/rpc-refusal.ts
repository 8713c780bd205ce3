import { RpcException } from '@nestjs/microservices';
import { refusalBody, refusalOf } from '../transports/refusal.js';

/**
 * A refusal of the module as an `RpcException` whose error is
 * `{ status: 'error', code, message }` (and `retryAfter`, in seconds, for a
 * `429` or a `503`): Nest's rpc exception filter sends it to the client as it
 * is, so that `ClientProxy.send()` fails with it. What `ApexAuthGuard` throws in
 * a message handler; use it where a handler of the app's verifies a token with
 * `TokenVerifier` itself. Any other error is returned as it is.
 */
export function toRpcException(error: unknown): unknown {
  const refusal = refusalOf(error);
  return refusal === undefined ? error : new RpcException(refusalBody(refusal));
}
