import type { TokenSet } from './auth-service.entities.js';
import { ApexAuthOptionsError } from '../errors/index.js';
import { checkToken } from './client-arguments.js';
import { decodeJwtSegment } from '../verification/token-screen.js';

/** Where `AuthApi.asAdmin()` gets its token. */
export interface AdminTokenSource {
  /** A token of the service admin, valid for a while. */
  get(): Promise<string>;
  /** The auth-service refused this token: do not hand it out again. */
  invalidate(token: string): void;
}

/** Renew this long before the token expires, so a call started just before never carries a dead token. */
const RENEW_BEFORE_EXPIRY_MS = 30_000;
/** Lifetime assumed when the auth-service says nothing about it. */
const FALLBACK_LIFETIME_MS = 5 * 60_000;

/**
 * The admin token from a password login, cached until shortly before it
 * expires; concurrent callers share one login.
 */
export class CachedAdminLogin implements AdminTokenSource {
  #cached: { token: string; renewAt: number } | undefined;
  #pending: Promise<string> | undefined;

  /**
   * @param login - performs the password login (it holds the password, this class does not)
   * @param now - the clock, epoch milliseconds
   */
  constructor(
    private readonly login: () => Promise<TokenSet>,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<string> {
    const cached = this.#cached;
    if (cached !== undefined && this.now() < cached.renewAt) return Promise.resolve(cached.token);
    this.#pending ??= this.#logIn().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  invalidate(token: string): void {
    if (this.#cached?.token === token) this.#cached = undefined;
  }

  async #logIn(): Promise<string> {
    const startedAt = this.now();
    const tokens = await this.login();
    const expiresAt =
      tokens.expiresIn !== undefined
        ? startedAt + tokens.expiresIn * 1000
        : (unverifiedJwtExpiry(tokens.accessToken) ?? startedAt + FALLBACK_LIFETIME_MS);
    this.#cached = { token: tokens.accessToken, renewAt: expiresAt - RENEW_BEFORE_EXPIRY_MS };
    return tokens.accessToken;
  }
}

/** The admin token from the application's function, asked for every time: the application owns caching. */
export class AdminTokenFunction implements AdminTokenSource {
  constructor(private readonly token: () => Promise<string> | string) {}

  async get(): Promise<string> {
    const token: unknown = await this.token();
    try {
      return checkToken(token, 'the token');
    } catch {
      throw new ApexAuthOptionsError(
        'admin.token',
        'must return a non-empty token without whitespace, control or non-ASCII characters',
      );
    }
  }

  invalidate(): void {
    // The application's function decides what it returns next.
  }
}

/**
 * When a JWT says it expires (epoch milliseconds), read from its payload
 * WITHOUT verifying the signature. Used only to schedule, never to trust: when
 * to log the admin in again, how long a result the auth-service vouched for may
 * be cached, and to refuse without asking a token that says it has expired
 * (expired or forged, it is refused either way).
 *
 * @returns undefined when the token is not a JWT or has no numeric `exp`
 */
export function unverifiedJwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  const exp = decodeJwtSegment(parts[1])?.['exp'];
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
}
