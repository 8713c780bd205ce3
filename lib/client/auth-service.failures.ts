import {
  AuthServiceConflictError,
  AuthServiceError,
  AuthServiceForbiddenError,
  AuthServiceNotFoundError,
  AuthServiceUnauthorizedError,
  AuthServiceUnavailableError,
  AuthServiceValidationError,
} from '../errors/index.js';

// Upstream text ends up in error messages that get logged: bound it.
const MAX_ISSUES = 20;
const MAX_ISSUE_LENGTH = 200;

/**
 * The typed error for a non-2xx answer.
 *
 * Redirects count as unavailability: the contract has none, and following one
 * could carry credentials elsewhere.
 */
export function errorForStatus(
  operation: string,
  status: number,
  body: string,
  retryAfter: unknown,
): AuthServiceError {
  switch (status) {
    case 401:
      return new AuthServiceUnauthorizedError(operation);
    case 403:
      return new AuthServiceForbiddenError(operation);
    case 404:
    case 405:
      return new AuthServiceNotFoundError(operation, status);
    case 409:
      return new AuthServiceConflictError(operation);
  }
  if (status >= 400 && status < 500 && status !== 429) {
    return new AuthServiceValidationError(operation, status, validationIssues(body));
  }
  return new AuthServiceUnavailableError(
    operation,
    'status',
    status,
    retryAfterSeconds(retryAfter),
  );
}

/**
 * The typed error for a request that got no answer. It gets no access to the
 * error object's config (which holds the Authorization header and the password
 * form): only its `code`.
 */
export function errorForNoResponse(
  operation: string,
  code: string | undefined,
  timedOut: boolean,
): AuthServiceUnavailableError {
  // With clarifyTimeoutError axios reports its own timeout as ETIMEDOUT, so an
  // ECONNABORTED can only come from the socket: a connection failure.
  const timeout = timedOut || code === 'ETIMEDOUT';
  return new AuthServiceUnavailableError(operation, timeout ? 'timeout' : 'connection');
}

/**
 * Where and why FastAPI refused a request, from its list `detail`
 * (`body.default: Input should be a valid integer`). Never the `input` it echoes,
 * which may be a password, and never a string `detail` verbatim.
 */
export function validationIssues(body: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  if (typeof parsed !== 'object' || parsed === null) return [];
  const detail: unknown = (parsed as Record<string, unknown>)['detail'];
  if (!Array.isArray(detail)) return [];
  return detail.flatMap((item: unknown) => issueOf(item)).slice(0, MAX_ISSUES);
}

function issueOf(item: unknown): string[] {
  if (typeof item !== 'object' || item === null) return [];
  const loc: unknown = Object.hasOwn(item, 'loc')
    ? (item as Record<string, unknown>)['loc']
    : undefined;
  const msg: unknown = Object.hasOwn(item, 'msg')
    ? (item as Record<string, unknown>)['msg']
    : undefined;
  if (typeof msg !== 'string') return [];
  const where = Array.isArray(loc)
    ? loc.filter((part) => typeof part === 'string' || typeof part === 'number').join('.')
    : '';
  return [printable(where === '' ? msg : `${where}: ${msg}`)];
}

/** One line, bounded: upstream text must not forge log lines or flood them. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  const line = text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return line.length > MAX_ISSUE_LENGTH ? `${line.slice(0, MAX_ISSUE_LENGTH)}…` : line;
}

/** Only the delay-seconds form; an HTTP date is ignored rather than trusted to clocks. */
function retryAfterSeconds(header: unknown): number | undefined {
  const value = Array.isArray(header) ? (header[0] as unknown) : header;
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = String(value).trim();
  return /^\d{1,9}$/.test(text) ? Number(text) : undefined;
}
