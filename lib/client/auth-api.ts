import type { HttpService } from '@nestjs/axios';
import type { ServiceMetadata, TokenSet } from './auth-service.entities.js';
import {
  ApexAuthOptionsError,
  AuthServiceNotFoundError,
  AuthServiceUnauthorizedError,
  AuthServiceValidationError,
} from '../errors/index.js';
import { AdminTokenFunction, CachedAdminLogin, type AdminTokenSource } from './admin-token.js';
import { AuthApiForToken, type AuthApiContext } from './auth-api-for-token.js';
import type { AuthApiOptions, OAuthClientCredentials } from './auth-api.options.js';
import { authApiSettings, isAuthApiSettings, type AuthApiSettings } from './auth-api.settings.js';
import {
  AuthServiceHttp,
  circuitsFor,
  UpstreamFailureLog,
  type CircuitGroup,
} from './auth-service.http.js';
import type { BreakerState } from './circuit-breaker.js';
import { decodeTokenSet } from './auth-service.wire.js';
import { checkString, checkToken } from './client-arguments.js';

/**
 * The client of the auth-service for one service: logs users in, exchanges
 * OAuth codes, and hands out {@link AuthApiForToken} for the calls made with a
 * token. The TypeScript counterpart of apexauthlib's `AuthApiProvider`.
 *
 * Every request is built from scratch on the given `HttpService` (its own
 * baseURL, redirect or status settings do not apply; its interceptors and
 * agents do), bounded by `timeoutMs`, and fails with the typed errors of
 * `lib/errors`, whose messages never hold a token, password or secret.
 *
 * @typeParam T - the metadata type: the permissions class, or a plain record
 *
 * @example
 * ```ts
 * const auth = new AuthApi(new HttpService(axios.create()), {
 *   baseUrl: 'http://auth-service:8000',
 *   serviceName: 'shop',
 *   admin: { username: 'shop-admin', password: process.env.SHOP_ADMIN_PASSWORD! },
 *   permissions: ShopPermissions,
 * });
 * const { accessToken } = await auth.login('alice', 'secret');
 * const me = await auth.forToken(accessToken).user();
 * ```
 */
export class AuthApi<T extends object = ServiceMetadata> {
  /** This service's name at the auth-service. */
  readonly serviceName: string;
  readonly #http: AuthServiceHttp;
  readonly #context: AuthApiContext<T>;
  // True private fields: credentials stay out of JSON.stringify, util.inspect and logs.
  readonly #oauthClient: OAuthClientCredentials | undefined;
  readonly #admin: AdminTokenSource | undefined;

  /** @throws ApexAuthOptionsError naming every invalid option */
  constructor(http: HttpService, options: AuthApiOptions<T> | AuthApiSettings<T>) {
    // The module hands over settings it has made from options it checked once.
    const checked = isAuthApiSettings<T>(options) ? options : authApiSettings<T>(options);
    this.serviceName = checked.serviceName;
    const log = new UpstreamFailureLog(new URL(checked.baseUrl).origin);
    this.#http = new AuthServiceHttp(
      http,
      checked.baseUrl,
      checked.timeoutMs,
      log,
      checked.circuitBreaker === false ? undefined : circuitsFor(checked.circuitBreaker, log),
    );
    this.#context = {
      http: this.#http,
      serviceName: checked.serviceName,
      metadata: checked.metadata,
    };
    this.#oauthClient = checked.oauthClient;
    const admin = checked.admin;
    if (admin === undefined) this.#admin = undefined;
    else if ('token' in admin) this.#admin = new AdminTokenFunction(admin.token);
    else this.#admin = new CachedAdminLogin(() => this.login(admin.username, admin.password));
  }

  /**
   * Password login (endpoint 1), never retried.
   *
   * @throws AuthServiceUnauthorizedError for a wrong username or password
   */
  async login(username: string, password: string, on?: CallerContext): Promise<TokenSet> {
    return this.#http.call({
      operation: 'login',
      method: 'POST',
      path: ['auth', 'login'],
      caller: on?.caller,
      form: {
        grant_type: 'password',
        username: checkString(username, 'login: username'),
        password: checkString(password, 'login: password'),
        scope: '',
        // The auth-service ignores these on a password login: the OAuth client's secret would travel for nothing.
        client_id: '',
        client_secret: '',
      },
      read: (body) => decodeTokenSet('login', body),
    });
  }

  /**
   * New tokens for a refresh token (endpoint 11, optional), never retried. The
   * old refresh token is spent: keep the returned one.
   *
   * @throws AuthServiceNotFoundError when the auth-service does not offer refresh tokens (it
   *   answered 404, 405, or 400 or 422 to the grant type; the last two are reported as 405)
   * @throws AuthServiceUnauthorizedError for an unknown or already used refresh token
   */
  async refresh(refreshToken: string, on?: CallerContext): Promise<TokenSet> {
    const token = checkToken(refreshToken, 'refresh: refreshToken');
    try {
      return await this.#http.call({
        operation: 'refresh',
        method: 'POST',
        path: ['auth', 'login'],
        caller: on?.caller,
        form: { grant_type: 'refresh_token', refresh_token: token },
        read: (body) => decodeTokenSet('refresh', body),
      });
    } catch (error) {
      // An auth-service without the grant refuses its name as a validation error: FastAPI's
      // pattern check (422), or a hand-written check of grant_type (400, as RFC 6749 §5.2 has it).
      if (
        error instanceof AuthServiceValidationError &&
        (error.status === 422 || error.status === 400)
      ) {
        throw new AuthServiceNotFoundError('refresh', 405);
      }
      throw error;
    }
  }

  /**
   * Exchanges an OAuth authorization code for tokens (endpoint 2), as the
   * configured `oauthClient`; never retried (a code works once).
   *
   * @throws ApexAuthOptionsError when no `oauthClient` is configured
   * @throws AuthServiceUnauthorizedError for a wrong client or an unknown or used code
   */
  async exchangeCode(code: string, on?: CallerContext): Promise<TokenSet> {
    const client = this.#oauthClient;
    if (client === undefined) {
      throw new ApexAuthOptionsError('oauthClient', 'is not configured: exchangeCode() needs it');
    }
    return this.#http.call({
      operation: 'exchangeCode',
      method: 'POST',
      path: ['auth', 'oauth', 'token'],
      caller: on?.caller,
      form: {
        code: checkString(code, 'exchangeCode: code'),
        client_id: client.clientId,
        client_secret: client.clientSecret,
      },
      read: (body) => decodeTokenSet('exchangeCode', body),
    });
  }

  /**
   * The calls made with a user's (or any) bearer token. Nothing is sent yet.
   *
   * @throws TypeError when the token is empty or holds whitespace, control or non-ASCII characters
   */
  forToken(token: string, on?: CallerContext): AuthApiForToken<T> {
    return new AuthApiForToken(this.#context, checkToken(token, 'forToken: token'), on?.caller);
  }

  /**
   * The calls made as the configured service admin, e.g. to sync permissions.
   * With `{ username, password }` the token is cached until 30 s before it
   * expires (concurrent calls share one login) and dropped when the
   * auth-service refuses it; with `{ token }` the function is asked every time.
   *
   * @throws ApexAuthOptionsError when no `admin` is configured
   */
  async asAdmin(): Promise<AuthApiForToken<T>> {
    const admin = this.#admin;
    if (admin === undefined) {
      throw new ApexAuthOptionsError('admin', 'is not configured: asAdmin() needs it');
    }
    const token = await admin.get();
    return new AuthApiForToken(
      { ...this.#context, onUnauthorized: (refused) => admin.invalidate(refused) },
      token,
    );
  }

  /**
   * Checks that the auth-service answers, with one cheap request: `GET /auth/user`
   * without a token, which it refuses at once (`401`, the answer expected). For
   * health checks: outside the circuit breakers (a check must neither trip nor
   * probe them), never retried, within `timeoutMs`.
   *
   * @returns how long the answer took, in milliseconds
   * @throws AuthServiceUnavailableError when it fails, hangs or cannot be reached
   * @throws AuthServiceError of another kind when it answers what an auth-service would
   *   not (a `404`: `baseUrl` is probably not an auth-service)
   */
  async ping(): Promise<number> {
    const started = performance.now();
    try {
      await this.#http.probe({
        operation: 'ping',
        method: 'GET',
        path: ['auth', 'user'],
        expect: 'nothing',
      });
    } catch (error) {
      if (!(error instanceof AuthServiceUnauthorizedError)) throw error;
    }
    return Math.round(performance.now() - started);
  }

  /**
   * The state of the circuit breakers shared by every caller, one per group of calls:
   * logins (refreshes and code exchanges included), token lookups, and the rest;
   * `undefined` with `circuitBreaker: false`. Read-only, for health checks.
   */
  get circuits(): Readonly<Record<CircuitGroup, BreakerState>> | undefined {
    return this.#http.circuitStates();
  }
}

/**
 * Who an auth-service call is made for. With it, failures of the auth-service
 * that follow one caller (say, an auth-service that answers `500` to the junk
 * tokens one client sends) open the circuit for that caller only.
 */
export interface CallerContext {
  /** An identifier of the end caller, such as its address (the module passes it grouped per IPv6 /64). */
  caller?: string;
}
