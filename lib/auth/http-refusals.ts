import { HttpException, HttpStatus, ServiceUnavailableException } from '@nestjs/common';
import { AuthServiceError, AuthServiceUnavailableError } from '../errors/index.js';

/** Seconds a caller is told to wait when the auth-service did not say. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/** An answer that tells the caller when to come back (`Retry-After`). */
export interface RetryLater {
  readonly retryAfterSeconds: number;
}

/**
 * The `503` answered when the auth-service could not judge: its own (or the
 * open circuit's) `Retry-After` when known, else a default. The body says only
 * that; the upstream error is the exception's `cause`, for logs of the app's.
 */
export class AuthServiceUnavailableException
  extends ServiceUnavailableException
  implements RetryLater
{
  readonly retryAfterSeconds: number;

  constructor(cause: AuthServiceError) {
    // The description given: Nest 11 leaves `error` out of the body when options come without one.
    super('auth-service unavailable', { cause, description: 'Service Unavailable' });
    const retryAfter =
      cause instanceof AuthServiceUnavailableError ? cause.retryAfterSeconds : undefined;
    this.retryAfterSeconds = retryAfter ?? DEFAULT_RETRY_AFTER_SECONDS;
  }
}

/** A `429` with the seconds to wait, in the body shape of Nest's other exceptions. */
export class TooManyRequestsException extends HttpException implements RetryLater {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(
      { statusCode: HttpStatus.TOO_MANY_REQUESTS, message, error: 'Too Many Requests' },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/** Whether an answer carries a `Retry-After`. */
export function retriesLater(error: unknown): error is HttpException & RetryLater {
  return (
    error instanceof HttpException &&
    typeof (error as Partial<RetryLater>).retryAfterSeconds === 'number'
  );
}

/**
 * What a failure of the verifier is answered with: the auth-service failing
 * is the `503`, an address past its lookup limit the `429`; anything else (a
 * refused token, a bug) is left as it is.
 */
export function httpRefusalOf(error: unknown): unknown {
  // A 401 and a 429 of the verifier are HTTP exceptions already.
  if (error instanceof AuthServiceError) return new AuthServiceUnavailableException(error);
  return error;
}
