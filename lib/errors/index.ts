import type { PermissionSyncResult } from '../client/permission-sync.js';

/** One faulty option: its path (`cache.ttlMs`) and what is wrong with it. */
export interface OptionProblem {
  option: string;
  problem: string;
}

/**
 * A configuration value of the module (or of the client) is invalid. Thrown at
 * startup, with a message that starts with the option's path, e.g.
 * `baseUrl: must be an absolute http(s) URL`; when several options are wrong,
 * every one of them, separated by `; `. Messages never quote a value.
 */
export class ApexAuthOptionsError extends Error {
  /** The path of the (first) faulty option. */
  readonly option: string;
  /** Every faulty option found. */
  readonly problems: readonly OptionProblem[];

  constructor(option: string, problem: string);
  constructor(problems: readonly OptionProblem[]);
  constructor(optionOrProblems: string | readonly OptionProblem[], problem = '') {
    const problems =
      typeof optionOrProblems === 'string'
        ? [{ option: optionOrProblems, problem }]
        : optionOrProblems;
    super(problems.map((each) => `${each.option}: ${each.problem}`).join('; '));
    this.name = 'ApexAuthOptionsError';
    this.option = problems[0]?.option ?? 'options';
    this.problems = problems;
  }
}

/**
 * The ways a call to the auth-service fails, one class per kind, so that callers
 * can `instanceof` what they care about.
 *
 * Messages name the operation and the upstream status only: never a token, a
 * password, a secret or an upstream body, so they are safe to log and to show.
 */
export abstract class AuthServiceError extends Error {
  /**
   * @param operation - the client operation that failed, e.g. `login` or `createPermission`
   * @param status - the auth-service's HTTP status, when it answered
   */
  protected constructor(
    message: string,
    readonly operation: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 401: the credentials, code or token were rejected. */
export class AuthServiceUnauthorizedError extends AuthServiceError {
  constructor(operation: string) {
    super(`auth-service rejected the credentials (${operation}: 401)`, operation, 401);
  }
}

/** 403: authenticated, but not allowed (for example not an admin of the service). */
export class AuthServiceForbiddenError extends AuthServiceError {
  constructor(operation: string) {
    super(`auth-service refused the operation (${operation}: 403)`, operation, 403);
  }
}

/**
 * 404 or 405: an unknown service, user or permission, or an endpoint this
 * auth-service does not offer (the contract's optional endpoints).
 */
export class AuthServiceNotFoundError extends AuthServiceError {
  constructor(operation: string, status: 404 | 405 = 404) {
    super(`auth-service has no such resource (${operation}: ${status})`, operation, status);
  }
}

/** 409: a permission with that name already exists in the service. */
export class AuthServiceConflictError extends AuthServiceError {
  constructor(operation: string) {
    super(`auth-service reported a conflict (${operation}: 409)`, operation, 409);
  }
}

/**
 * 400 or 422: the auth-service refused the request as invalid.
 *
 * `issues` lists where and why (`body.default: value is not allowed`), built from
 * the FastAPI `detail` without the submitted values, which may be credentials.
 */
export class AuthServiceValidationError extends AuthServiceError {
  constructor(
    operation: string,
    status: number,
    readonly issues: readonly string[],
  ) {
    const summary = issues.length > 0 ? `: ${issues.join('; ')}` : '';
    super(
      `auth-service refused an invalid request (${operation}: ${status})${summary}`,
      operation,
      status,
    );
  }
}

/** Why the auth-service is considered unavailable. */
export type AuthServiceUnavailableReason =
  | 'status' // it answered 5xx, 429 or a redirect
  | 'timeout'
  | 'connection' // refused, reset, DNS, TLS
  | 'circuit-open'; // recent calls failed; this one was not attempted

/**
 * The auth-service is unhealthy: a 5xx or 429 answer, a redirect, a timeout or
 * a connection failure. Never a verdict on the caller's credentials.
 */
export class AuthServiceUnavailableError extends AuthServiceError {
  constructor(
    operation: string,
    readonly reason: AuthServiceUnavailableReason,
    status?: number,
    /** From the upstream `Retry-After`, when it sent a number of seconds. */
    readonly retryAfterSeconds?: number,
  ) {
    const what = status === undefined ? reason : `${status}`;
    super(`auth-service unavailable (${operation}: ${what})`, operation, status);
  }
}

/**
 * The auth-service answered, but not as the contract says: not JSON, or a
 * field missing or of the wrong type. `path` names the first wrong field.
 */
export class AuthServicePayloadError extends AuthServiceError {
  constructor(
    operation: string,
    readonly path: string,
    problem: string,
  ) {
    super(`auth-service sent an invalid payload (${operation}): ${path} ${problem}`, operation);
  }
}

/**
 * A permission sync stopped after some of its writes. Running it again
 * converges from where it stopped (it compares the schema upstream anew).
 * The message says why, what was done and what was not; like every error of
 * this library it never holds a token, password or upstream body.
 */
export class PermissionSyncError extends Error {
  /**
   * @param done - what the sync wrote before it stopped
   * @param notDone - the planned steps it did not complete, the failed one first (`create region`)
   */
  constructor(
    message: string,
    readonly done: PermissionSyncResult,
    readonly notDone: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PermissionSyncError';
  }
}

/**
 * The auth-service could not judge: it was unavailable, or its answer broke
 * the contract. Never the caller's fault, never a refusal: a `503`.
 */
export function isUpstreamFailure(
  error: unknown,
): error is AuthServiceUnavailableError | AuthServicePayloadError {
  return error instanceof AuthServiceUnavailableError || error instanceof AuthServicePayloadError;
}

/**
 * What to say about `error` in a log line or a command's output. This
 * library's own errors are quoted (their messages never hold a secret); any
 * other error only by its name, since its message or properties may carry a
 * request's headers or body (an AxiosError does).
 */
export function safeErrorMessage(error: unknown): string {
  if (
    error instanceof AuthServiceError ||
    error instanceof ApexAuthOptionsError ||
    error instanceof PermissionSyncError
  ) {
    return error.message;
  }
  return error instanceof Error ? `unexpected ${error.name}` : 'unexpected error';
}
