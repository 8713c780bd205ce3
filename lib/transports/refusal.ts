import { HttpException, HttpStatus } from '@nestjs/common';
import { httpRefusalOf, retriesLater } from '../auth/http-refusals.js';

/**
 * What a refusal is called over every transport: GraphQL's `extensions.code`,
 * the `code` of a `WsException` or an `RpcException`, a socket.io handshake
 * error's `data.code`. A `401` is `UNAUTHENTICATED` (as Apollo names it); any
 * other status is its name in `HttpStatus`.
 */
export type RefusalCode =
  'UNAUTHENTICATED' | 'FORBIDDEN' | 'TOO_MANY_REQUESTS' | 'SERVICE_UNAVAILABLE' | (string & {});

/** A refusal of the module, free of any transport: what every transport tells the caller. */
export interface Refusal {
  /** The HTTP status it would be over HTTP. */
  readonly status: number;
  readonly code: RefusalCode;
  /** The same short reason as over HTTP (`missing token`, `missing permission: canEdit`, …). */
  readonly message: string;
  /** When to come back, for a `429` or a `503` (HTTP's `Retry-After`). */
  readonly retryAfterSeconds?: number;
}

/**
 * The refusal an error stands for: an HTTP exception (the guard's `401`, `403`,
 * `429`, `503`, or one a permission predicate threw on purpose), or a failure
 * of the verifier (a refused token, the auth-service failing, too many lookups).
 * `undefined` for anything else: a bug, answered as the transport answers bugs.
 * Only the exception's message is kept, never its cause (the upstream error).
 */
export function refusalOf(error: unknown): Refusal | undefined {
  // A refused token (AuthenticationFailure) is an UnauthorizedException already.
  const answer = httpRefusalOf(error);
  if (!(answer instanceof HttpException)) return undefined;
  const status = answer.getStatus();
  const code =
    status === (HttpStatus.UNAUTHORIZED as number)
      ? 'UNAUTHENTICATED'
      : ((HttpStatus as unknown as Record<number, string | undefined>)[status] ?? 'ERROR');
  return {
    status,
    code,
    message: answer.message,
    ...(retriesLater(answer) ? { retryAfterSeconds: answer.retryAfterSeconds } : {}),
  };
}

/**
 * A refusal as a transport's error body: `{ status: 'error', code, message }`
 * (with `retryAfter` in seconds for a `429` or a `503`), the shape Nest's
 * WebSocket and microservice exception filters send for an object.
 */
export function refusalBody(refusal: Refusal): {
  status: 'error';
  code: RefusalCode;
  message: string;
  retryAfter?: number;
} {
  return {
    status: 'error',
    code: refusal.code,
    message: refusal.message,
    ...(refusal.retryAfterSeconds === undefined ? {} : { retryAfter: refusal.retryAfterSeconds }),
  };
}
