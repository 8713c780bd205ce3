import { ServiceUnavailableException } from '@nestjs/common';
import { AuthServiceUnavailableError } from '../errors/index.js';

/** Seconds a caller is told to wait when the auth-service did not say. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * The `503` answered when the auth-service could not be asked, with the
 * `Retry-After` value to send: the auth-service's own (or the open circuit's)
 * when known, else a default.
 */
export function serviceUnavailable(error: unknown): {
  exception: ServiceUnavailableException;
  retryAfterSeconds: number;
} {
  const retryAfter =
    error instanceof AuthServiceUnavailableError ? error.retryAfterSeconds : undefined;
  return {
    exception: new ServiceUnavailableException('auth-service unavailable'),
    retryAfterSeconds: retryAfter ?? DEFAULT_RETRY_AFTER_SECONDS,
  };
}
