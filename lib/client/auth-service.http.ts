import type { HttpService } from '@nestjs/axios';
import { type AxiosRequestConfig, type AxiosResponse, isAxiosError } from 'axios';
import {
  ExponentialBackoff,
  handleWhen,
  retry,
  TaskCancelledError,
  timeout,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import {
  AuthServiceError,
  AuthServicePayloadError,
  AuthServiceUnavailableError,
} from '../errors/index.js';
import { errorForNoResponse, errorForStatus } from './auth-service.failures.js';
import {
  CircuitBreaker,
  type CircuitBreakerSettings,
  type BreakerState,
} from './circuit-breaker.js';
import { Logger, type LoggerService } from '@nestjs/common';
import { undiciAdapter } from './undici-adapter.js';

/** One request of the contract, and how its answer is read. */
export interface AuthServiceCall<T = unknown> {
  /** The client operation, named in errors (`login`, `createPermission`, ...). */
  operation: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path segments after the base URL, each percent-encoded here (`['services', name, 'users']`). */
  path: readonly string[];
  /** A query string, already encoded, without the `?` (the configured JWKS URL may have one). */
  query?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  bearer?: string;
  /** Sent as `application/x-www-form-urlencoded`. */
  form?: Readonly<Record<string, string>>;
  /** Sent as `application/json`. */
  json?: unknown;
  /** Whether a 2xx answer carries a JSON body to return (default) or nothing to read. */
  expect?: 'json' | 'nothing';
  /** The end caller the call is made for (its grouped address): failures are attributed to it. */
  caller?: string;
  /**
   * Decodes the parsed JSON body. It runs within the call, so that an answer that breaks
   * the contract counts (and is logged) as the auth-service failing, like a 5xx would.
   */
  read?: (body: unknown) => T;
}

/**
 * Which circuit an operation goes through: logins and token lookups each have
 * their own, so that trouble with one (a flood of junk logins) never stops the
 * other, and everything else (admin calls, the sync, JWKS) a third.
 */
export type CircuitGroup = 'login' | 'lookup' | 'other';

const GROUP_OF_OPERATION: Readonly<Record<string, CircuitGroup>> = {
  login: 'login',
  refresh: 'login',
  exchangeCode: 'login',
  user: 'lookup',
  fullMetadataFor: 'lookup',
};

/** Below this, a retry could not get an answer in time: fail with the first error instead. */
const MIN_RETRY_BUDGET_MS = 100;
/** The pause before the retry: around 100 ms, jittered (cockatiel's decorrelated jitter). */
const RETRY_BACKOFF = new ExponentialBackoff({ initialDelay: 100, maxDelay: 150 });
/** The contract's answers are small; a runaway body is refused rather than buffered. */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** One keep-alive pool for every client of the process, as Node's global agent is: idle sockets do not hold it open. */
const ADAPTER = undiciAdapter(MAX_RESPONSE_BYTES);

/**
 * The one place that talks HTTP to the auth-service: it builds each request
 * from scratch (the application's HttpService may carry a baseURL, redirects or
 * a status check of its own), bounds each operation in time, retries a failed
 * GET once, and turns every failure into an error of `lib/errors`.
 */
export class AuthServiceHttp {
  /**
   * @param baseUrl - absolute http(s) URL without a trailing slash
   * @param timeoutMs - the time budget of one operation, retry included
   */
  constructor(
    private readonly http: HttpService,
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
    private readonly log: UpstreamFailureLog,
    private readonly breakers?: Readonly<Record<CircuitGroup, CircuitBreaker>>,
  ) {}

  /**
   * Performs one operation.
   *
   * @returns the 2xx answer's JSON body as `read` decodes it (undefined when `expect` is `nothing`)
   * @throws AuthServiceError of the kind of the failure
   */
  async call<T = unknown>(call: AuthServiceCall<T>): Promise<T> {
    const breaker = this.breakers?.[GROUP_OF_OPERATION[call.operation] ?? 'other'];
    try {
      return await (breaker
        ? breaker.run(call.operation, (mayRetry) => this.callWithRetry(call, mayRetry), call.caller)
        : this.callWithRetry(call, true));
    } catch (error) {
      this.logFailure(call.operation, error);
      throw error;
    }
  }

  /**
   * Performs one operation outside the circuit breakers, never retried, for a
   * health check: it must neither trip a circuit nor take a probe's place, and
   * it reports rather than logs its failure.
   */
  probe<T = unknown>(call: AuthServiceCall<T>): Promise<T> {
    return this.callWithRetry(call, false);
  }

  /** The state of each shared circuit, for health checks; `undefined` when the breakers are off. */
  circuitStates(): Record<CircuitGroup, BreakerState> | undefined {
    const breakers = this.breakers;
    if (breakers === undefined) return undefined;
    return {
      login: breakers.login.state,
      lookup: breakers.lookup.state,
      other: breakers.other.state,
    };
  }

  private logFailure(operation: string, error: unknown): void {
    if (error instanceof AuthServiceUnavailableError) {
      // A fast refusal of an open circuit is no news: its opening was logged.
      if (error.reason === 'circuit-open') return;
      const what = error.status === undefined ? error.reason : `status ${error.status}`;
      this.log.warn(`${operation} ${what}`, `${operation} failed (${what})`);
    } else if (error instanceof AuthServicePayloadError) {
      this.log.warn(`${operation} payload`, `${operation} failed: ${messageAfterPrefix(error)}`);
    }
  }

  /**
   * The operation within its time budget (cockatiel's timeout, which aborts the
   * request at the deadline), a GET retried once (cockatiel's retry) when it
   * failed for a reason that may pass and time remains for another try.
   */
  private async callWithRetry<T>(call: AuthServiceCall<T>, mayRetry: boolean): Promise<T> {
    const deadline = performance.now() + this.timeoutMs;
    // Only reads are safe to repeat: a POST that timed out may have happened.
    const repeatable = mayRetry && call.method === 'GET';
    const retrying = retry(
      handleWhen(
        (error) =>
          repeatable && worthARetry(error) && deadline - performance.now() >= MIN_RETRY_BUDGET_MS,
      ),
      { maxAttempts: 1, backoff: RETRY_BACKOFF },
    );
    try {
      // A call that returned has nothing left to abort: aborting it anyway (cockatiel's default)
      // costs every call an abort event, and axios an error object, for nothing.
      const deadlineOnly = { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false };
      return await wrap(timeout(this.timeoutMs, deadlineOnly), retrying).execute(({ signal }) =>
        this.attempt(call, deadline, signal),
      );
    } catch (error) {
      if (error instanceof TaskCancelledError) {
        throw new AuthServiceUnavailableError(call.operation, 'timeout');
      }
      throw error;
    }
  }

  private async attempt<T>(
    call: AuthServiceCall<T>,
    deadline: number,
    signal: AbortSignal,
  ): Promise<T> {
    const remaining = Math.ceil(deadline - performance.now());
    if (remaining <= 0) throw new AuthServiceUnavailableError(call.operation, 'timeout');
    let response: AxiosResponse<unknown>;
    try {
      // The app's axios instance itself, not HttpService's Observable around it: that one makes
      // a cancel token per call and cancels it once the call is done (an error object per call).
      // Our own signal (the deadline) is what aborts a call.
      response = await this.http.axiosRef.request<unknown>(this.config(call, remaining, signal));
    } catch (error) {
      // Only the code: the error's config holds the Authorization header and the password form.
      const code = isAxiosError(error) ? error.code : undefined;
      throw errorForNoResponse(call.operation, code, signal.aborted);
    }
    const body = bodyText(response.data);
    if (response.status < 200 || response.status > 299) {
      throw errorForStatus(
        call.operation,
        response.status,
        body ?? '',
        response.headers['retry-after'],
      );
    }
    if (call.expect === 'nothing') return undefined as T;
    const json = parseJson(call.operation, body);
    return call.read ? call.read(json) : (json as T);
  }

  private config(
    call: AuthServiceCall,
    remaining: number,
    signal: AbortSignal,
  ): AxiosRequestConfig {
    // `false` unsets a default of the app's axios instance: its own credentials never reach the auth-service.
    const headers: Record<string, string | false> = {
      Accept: 'application/json',
      Authorization: call.bearer === undefined ? false : `Bearer ${call.bearer}`,
    };
    let data: string | undefined;
    if (call.form !== undefined) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      data = new URLSearchParams(call.form as Record<string, string>).toString();
    } else if (call.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      data = JSON.stringify(call.json);
    }
    const path = call.path.map((segment) => encodeURIComponent(segment)).join('/');
    return {
      url: `${this.baseUrl}/${path}${call.query ? `?${call.query}` : ''}`,
      allowAbsoluteUrls: true,
      method: call.method,
      headers,
      data,
      timeout: remaining,
      signal,
      // Over undici, which follows no redirect; where the app's instance has agents or a proxy of
      // its own, or a proxy variable is set, this adapter hands the call to axios's http adapter,
      // which honours maxRedirects: 0 (fetch would follow).
      adapter: ADAPTER,
      maxRedirects: 0,
      validateStatus: () => true,
      responseType: 'text',
      responseEncoding: 'utf8',
      transformRequest: [(body: unknown) => body],
      transformResponse: [(body: unknown) => body],
      maxContentLength: MAX_RESPONSE_BYTES,
      transitional: { clarifyTimeoutError: true },
      decompress: true,
      withCredentials: false,
    };
  }
}

/** Unavailability may pass; a 4xx or a broken payload will not. */
function worthARetry(error: unknown): boolean {
  return (
    error instanceof AuthServiceUnavailableError &&
    // Upstream asked for a pause longer than a retry's jitter.
    (error.retryAfterSeconds === undefined || error.retryAfterSeconds === 0)
  );
}

/** `invalid payload (user): id is missing` without the class's own prefix. */
function messageAfterPrefix(error: AuthServiceError): string {
  return error.message.replace(/^auth-service /, '');
}

function bodyText(data: unknown): string | undefined {
  if (typeof data === 'string') return data;
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return undefined;
}

function parseJson(operation: string, body: string | undefined): unknown {
  if (body === undefined) throw new AuthServicePayloadError(operation, 'body', 'is not text');
  try {
    return JSON.parse(body) as unknown;
  } catch {
    // Not the parser's message: it quotes the body.
    throw new AuthServicePayloadError(operation, 'body', 'is not JSON');
  }
}

/** One circuit per group: logins, token lookups, everything else. */
export function circuitsFor(
  settings: CircuitBreakerSettings,
  log: UpstreamFailureLog,
): Record<CircuitGroup, CircuitBreaker> {
  const circuit = (group: CircuitGroup): CircuitBreaker =>
    new CircuitBreaker(settings, {
      opened: (scope, retryAfterSeconds) =>
        log.warn(
          `circuit ${group} ${scope}`,
          scope === 'all'
            ? `circuit of ${group} calls opened: failing fast for ${retryAfterSeconds} s, then probing`
            : `circuit of ${group} calls opened for one client address whose calls keep failing`,
        ),
      closed: () => log.warn(`circuit ${group} closed`, `circuit of ${group} calls closed again`),
    });
  return { login: circuit('login'), lookup: circuit('lookup'), other: circuit('other') };
}

/** At most one line per kind of failure in this interval. */
export const UPSTREAM_LOG_INTERVAL_MS = 10_000;

/**
 * The operator's view of what goes wrong upstream: one `warn` line per kind of
 * failure (say `user: timeout`) and interval, with the number of like ones it
 * stands for, so that an outage under load is visible without flooding the
 * logs. Lines are built by the callers from our own error messages (operation,
 * status, reason) and the auth-service's origin: never a token, a password, a
 * header or a body.
 */
export class UpstreamFailureLog {
  private readonly kinds = new Map<string, { loggedAt: number; folded: number }>();

  /**
   * @param origin - the auth-service's origin (`http://auth:8000`), named in every line
   */
  constructor(
    readonly origin: string,
    private readonly logger: Pick<LoggerService, 'warn'> = new Logger('ApexAuth'),
    private readonly now: () => number = Date.now,
  ) {}

  /** Logs a failure of one kind, unless one of that kind was logged within the interval. */
  warn(kind: string, message: string): void {
    const now = this.now();
    const seen = this.kinds.get(kind);
    if (seen !== undefined && now - seen.loggedAt < UPSTREAM_LOG_INTERVAL_MS) {
      seen.folded++;
      return;
    }
    const folded =
      seen !== undefined && seen.folded > 0
        ? ` (and ${seen.folded} more like it since the last such line)`
        : '';
    this.kinds.set(kind, { loggedAt: now, folded: 0 });
    this.logger.warn(`auth-service ${this.origin}: ${message}${folded}`);
  }
}
