import { Logger } from '@nestjs/common';
import { isUpstreamFailure } from '../errors/index.js';
import { BearerCredential, isCompactJws } from '../auth/bearer-token.js';
import { AuthenticationFailure } from './authentication-failure.js';
import { clientKey, UNKNOWN_ADDRESS } from './client-address.js';
import { LookupBudget, TooManyTokenLookupsError, type LookupLimit } from './lookup-budget.js';
import type { SignatureCheck } from './signature-check.js';
import { KnownUsers } from './known-users.js';
import {
  claimedSubject,
  screenToken,
  type ScreenedToken,
  type TokenClaimsPolicy,
} from './token-screen.js';
import type { AuthenticatedUser, UserLookup } from './user-lookup.js';
import type {
  CachedUser,
  RefusedTokenStore,
  SharedVerifications,
  VerifiedUserStore,
} from './verification-stores.js';

/** How validated users are cached. */
export interface UserCacheSettings {
  /** How long a validated user is reused (never past the token's `exp`). */
  ttlMs: number;
  maxEntries: number;
  /** How long a token the auth-service refused is refused without asking again. */
  negativeTtlMs: number;
  negativeMaxEntries: number;
  /** How long past `ttlMs` a user is still served while the auth-service is unavailable. */
  staleIfErrorMs: number;
  /** The estimated bytes each cache (per token, per known user) may hold. */
  maxBytes: number;
  /** Whether a new token of a user validated within `ttlMs` reuses what was validated of them. */
  knownUsers: boolean;
}

/** What the verifier is made of. */
export interface TokenVerifierParts<T extends object> {
  lookup: UserLookup<T>;
  policy: TokenClaimsPolicy;
  /** Local verification; absent, the auth-service judges every new token. */
  signatures?: SignatureCheck;
  /** Absent: no caching at all (`cache: false`). */
  cache?: {
    settings: UserCacheSettings;
    users: VerifiedUserStore<T>;
    refused: RefusedTokenStore;
    /**
     * Where known users are kept (by subject or user id), and what their keys are
     * scoped to (the auth-service: two services' users never share a key); absent: `knownUsers: false`.
     */
    known?: { store: VerifiedUserStore<T>; scope: string };
  };
  /** Users and refusals shared with other replicas, behind the in-process cache (needs `cache`). */
  shared?: SharedVerifications<T>;
  lookupLimit: LookupLimit | false;
  ipv6PrefixLength: number;
}

/** Who is asking, for the limits and for attributing failures. */
export interface VerifyOptions {
  /**
   * The caller's address (`request.ip`); grouped as the limits count it.
   * Without one, the caller counts with every other caller without one.
   */
  clientAddress?: string;
}

/**
 * Turns a bearer token into the {@link AuthenticatedUser} it belongs to, for
 * every transport: the guard and the Passport strategy use it, and so can a
 * GraphQL or WebSocket adapter of the app's. A token is hashed and parsed once;
 * a validated one is cached by its hash (the warm path: a hash and a map
 * lookup, no await) and never re-verified; concurrent first uses of one token
 * share one verification. A new token is screened (shape, `alg`, claims), its
 * signature checked when the module holds a key, then looked up at the
 * auth-service, unless its user was validated within the cache lifetime (see
 * {@link KnownUsers}). Failures of the auth-service are never cached; while it is
 * unavailable, users whose cache lifetime ran out are served for a bounded
 * grace. Tokens the auth-service refuses are bounded per client address.
 */
export class TokenVerifier<T extends object = object> {
  private readonly logger = new Logger('ApexAuth');
  private readonly inFlight = new Map<string, Promise<AuthenticatedUser<T>>>();
  private readonly budget?: LookupBudget;
  private readonly known?: KnownUsers<T>;
  private servingStale = false;

  /** @internal Made by the module (or by a test) from its settings. */
  constructor(
    private readonly parts: TokenVerifierParts<T>,
    private readonly now: () => number = Date.now,
  ) {
    if (parts.lookupLimit) this.budget = new LookupBudget(parts.lookupLimit, now);
    const cache = parts.cache;
    if (cache?.known) {
      const { store, scope } = cache.known;
      this.known = new KnownUsers(store, scope, cache.settings.ttlMs, now, parts.shared);
    }
  }

  /**
   * The user of a token validated before and still fresh in the cache, or
   * `undefined`. Synchronous: the warm path of every request.
   */
  cached(token: string | BearerCredential): AuthenticatedUser<T> | undefined {
    if (!(token instanceof BearerCredential) && !isCompactJws(token)) return undefined;
    const entry = this.parts.cache?.users.get(credentialOf(token).key);
    return entry !== undefined && this.now() < entry.freshUntil ? entry.user : undefined;
  }

  /**
   * The user a token belongs to.
   *
   * @throws an `UnauthorizedException` (`401`) when the token is not good (malformed,
   *   forged, expired, refused)
   * @throws a `429` `HttpException` with `retryAfterSeconds` when its address had too many
   *   tokens refused
   * @throws AuthServiceError (answer `503`) when the auth-service cannot say
   */
  verify(
    token: string | BearerCredential,
    options: VerifyOptions = {},
  ): Promise<AuthenticatedUser<T>> {
    // The header's rules for a token from anywhere else (a handshake, a GraphQL context).
    if (!(token instanceof BearerCredential) && !isCompactJws(token)) {
      return Promise.reject(new AuthenticationFailure('invalid token', 'malformed'));
    }
    const credential = credentialOf(token);
    const { key } = credential;
    const cache = this.parts.cache;
    const entry = cache?.users.get(key);
    if (entry !== undefined && this.now() < entry.freshUntil) return Promise.resolve(entry.user);
    if (cache?.refused.has(key)) {
      return Promise.reject(new AuthenticationFailure('invalid token', 'refused recently'));
    }
    const underWay = this.inFlight.get(key);
    if (underWay !== undefined) return underWay;
    // Without an address, counted with every other caller without one: never unbounded.
    const address = options.clientAddress ?? UNKNOWN_ADDRESS;
    const client = clientKey(address, this.parts.ipv6PrefixLength);
    // A token never asked about is no token seen before: never served stale.
    const stale = entry?.unasked ? undefined : entry;
    let verified: AuthenticatedUser<T> | Promise<AuthenticatedUser<T>>;
    try {
      verified = this.verifyAnew(credential, client, stale);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passed on as thrown: a refusal of the screen or the signature
      return Promise.reject(error);
    }
    // Judged at once (a known user's new token): no one else can have asked in the meantime.
    if (!(verified instanceof Promise)) return Promise.resolve(verified);
    const verification = verified.finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, verification);
    return verification;
  }

  /**
   * Forgets a token, and what was validated of its user for their new tokens,
   * so that its next use, and their next new token, is verified in full again:
   * here, and with shared state (`redis`) on every replica. Resolves once the
   * others were told (or Redis could not be reached).
   */
  async forget(token: string | BearerCredential): Promise<void> {
    const credential = credentialOf(token);
    await this.forgetEverywhere([credential.key, ...this.knownKeysOf(credential)]);
  }

  /** Forgets hashes here, then on every replica (with shared state). */
  private async forgetEverywhere(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.evict(key);
    await this.parts.shared?.forget(keys);
  }

  /** @internal Forgets a hash (a token's, a known user's) in this process only (another replica forgot it). */
  evict(key: string): void {
    this.parts.cache?.users.delete(key);
    this.parts.cache?.refused.delete(key);
    this.known?.delete(key);
  }

  /** The hashes under which a token's user may be known: its claimed subject's, its cached user's id. */
  private knownKeysOf({ token, key }: BearerCredential): string[] {
    if (this.known === undefined) return [];
    const known = this.known;
    const subject = claimedSubject(token);
    const id = this.parts.cache?.users.get(key)?.user.id;
    return [
      ...(subject === undefined ? [] : [known.keyOfSubject(subject)]),
      ...(id === undefined ? [] : [known.keyOfId(id)]),
    ];
  }

  /** The users cached now, for inspection (tests, diagnostics). */
  cachedUsers(): AuthenticatedUser<T>[] {
    return this.parts.cache ? [...this.parts.cache.users.values()].map((entry) => entry.user) : [];
  }

  /**
   * A token not in the cache: checked here (synchronously, while every key and
   * store that takes is at hand), then reused from its known user or asked
   * about upstream.
   */
  private verifyAnew(
    credential: BearerCredential,
    client: string | undefined,
    stale: CachedUser<T> | undefined,
  ): AuthenticatedUser<T> | Promise<AuthenticatedUser<T>> {
    return andThen(this.checkHere(credential), (checked) => {
      const { known, screened } = checked;
      if (known === undefined) return this.askUpstream(credential, client, stale, checked);
      // Never asked about: not served stale during an outage, as the known user is not.
      this.remember(credential.key, known.user, screened.expiresAt, known.freshUntil, false);
      return known.user;
    });
  }

  /**
   * What can be judged of a token here: its screen and signature, and in local
   * mode its user when known (and this token never refused).
   */
  private checkHere({ token, key }: BearerCredential): CheckedHere<T> | Promise<CheckedHere<T>> {
    let screened: ScreenedToken;
    let signed: void | Promise<void>;
    try {
      screened = screenToken(token, this.parts.policy, this.now());
      signed = this.parts.signatures?.verify(token, screened.header);
    } catch (error) {
      return this.refusedHere(error);
    }
    return signed instanceof Promise
      ? signed.then(
          () => this.withKnownUser(key, screened),
          (error: unknown) => this.refusedHere(error),
        )
      : this.withKnownUser(key, screened);
  }

  /** A checked token, with its user when known here (local mode) and the token never refused. */
  private withKnownUser(
    key: string,
    screened: ScreenedToken,
  ): CheckedHere<T> | Promise<CheckedHere<T>> {
    // Local mode: the signature holds, so `iss` and `sub` are the auth-service's word.
    const subject = this.parts.signatures === undefined ? undefined : screened.subject;
    const known = this.known;
    const subjectKey = subject === undefined ? undefined : known?.keyOfSubject(subject);
    if (known === undefined || subjectKey === undefined) return { screened };
    return andThen(known.find(subjectKey), (entry) => {
      if (entry === undefined) return { screened, subjectKey };
      return andThen(known.wasRefused(key), (refused) =>
        refused ? { screened, subjectKey } : { screened, subjectKey, known: entry },
      );
    });
  }

  /** A token refused before any upstream call: logged for operators (which check), and thrown. */
  private refusedHere(error: unknown): never {
    if (error instanceof AuthenticationFailure) this.logger.debug(`Token refused: ${error.detail}`);
    throw error;
  }

  /** A token whose user is not known here: the auth-service is asked (remote mode: about the token too). */
  private async askUpstream(
    credential: BearerCredential,
    client: string | undefined,
    stale: CachedUser<T> | undefined,
    { screened, subjectKey }: CheckedHere<T>,
  ): Promise<AuthenticatedUser<T>> {
    const { token, key } = credential;
    const { expiresAt } = screened;
    // Remote mode: the auth-service judges the token; its user's record here may be reused.
    let viewFreshUntil = Number.POSITIVE_INFINITY;
    const knownView =
      this.known === undefined || this.parts.signatures !== undefined
        ? undefined
        : async (id: string): Promise<AuthenticatedUser<T> | undefined> => {
            const entry = await this.known?.find(this.known.keyOfId(id));
            if (entry !== undefined) viewFreshUntil = entry.freshUntil;
            return entry?.user;
          };
    // A token seen before (its entry went stale) is no new token: it costs the budget nothing.
    const budget = stale === undefined ? this.budget : undefined;
    const admitted = await budget?.enter(client);
    if (admitted instanceof TooManyTokenLookupsError) throw admitted;
    let user: AuthenticatedUser<T>;
    let freshUntil: number;
    // Freshness counts from when the auth-service was asked, not from when it answered.
    const askedAt = this.now();
    const lookUp = async () => {
      // A stale token's refresh is not the caller's to fail: with its own circuit open (its own
      // junk opened it), its failures must not look like an outage that serves the token stale.
      const found = await this.parts.lookup.lookUp(
        token,
        stale === undefined ? client : undefined,
        knownView,
      );
      return { user: found, freshUntil: this.freshUntil(expiresAt, viewFreshUntil, askedAt) };
    };
    const { shared } = this.parts;
    try {
      // Shared state is asked only when there is a cache to serve its answers from.
      ({ user, freshUntil } = await (shared !== undefined && this.parts.cache !== undefined
        ? shared.lookUp(key, lookUp)
        : lookUp()));
    } catch (error) {
      if (error instanceof AuthenticationFailure) {
        // Only a refused token spends the budget.
        budget?.spend(client);
        this.parts.cache?.users.delete(key);
        this.parts.cache?.refused.add(key, this.parts.cache.settings.negativeTtlMs);
        // A signed token of theirs refused (revoked, the user disabled): their next new
        // tokens are asked about in full, on every replica.
        if (subjectKey !== undefined) {
          await this.known?.refuse(key, expiresAt);
          await this.forgetEverywhere([subjectKey]);
        }
        throw error;
      }
      const served = this.serveStale(error, stale);
      if (served !== undefined) return served;
      throw error;
    } finally {
      admitted?.();
    }
    this.servingStale = false;
    this.remember(key, user, expiresAt, freshUntil);
    // Only a user the auth-service answered for in full becomes a known user.
    const knownKey = subjectKey ?? (knownView && this.known?.keyOfId(user.id));
    if (viewFreshUntil === Number.POSITIVE_INFINITY && knownKey !== undefined) {
      await this.known?.remember(knownKey, user, freshUntil, askedAt);
    }
    return user;
  }

  /**
   * Caches a token's user, fresh for the cache lifetime, never past the
   * token's `exp` nor `freshLimit` (when what it is made of was validated
   * earlier: a known user's, or another replica's answer), and kept for the
   * stale-if-error grace after, when the auth-service was asked about it.
   */
  private remember(
    key: string,
    user: AuthenticatedUser<T>,
    expiresAt: number,
    freshLimit = Number.POSITIVE_INFINITY,
    grace = true,
  ): void {
    const cache = this.parts.cache;
    if (cache === undefined) return;
    const now = this.now();
    const freshUntil = this.freshUntil(expiresAt, freshLimit);
    const keptUntil = Math.min(freshUntil + (grace ? cache.settings.staleIfErrorMs : 0), expiresAt);
    const entry: CachedUser<T> = grace ? { user, freshUntil } : { user, freshUntil, unasked: true };
    if (keptUntil > now) cache.users.set(key, entry, keptUntil - now);
  }

  /**
   * Until when an answer may be served without asking: the cache lifetime from
   * `from` (when it was asked for), never past `exp` nor `limit`.
   */
  private freshUntil(
    expiresAt: number,
    limit = Number.POSITIVE_INFINITY,
    from = this.now(),
  ): number {
    return Math.min(from + (this.parts.cache?.settings.ttlMs ?? 0), expiresAt, limit);
  }

  /** An entry past its lifetime, still within its grace, while the auth-service cannot answer. */
  private serveStale(
    error: unknown,
    stale: CachedUser<T> | undefined,
  ): AuthenticatedUser<T> | undefined {
    const unavailable = isUpstreamFailure(error);
    // The entry's own lifetime ends its grace (and the token's exp): it was found, so it is within it.
    if (!unavailable || stale === undefined) return undefined;
    if (!this.servingStale) {
      this.servingStale = true;
      const graceSeconds = Math.round((this.parts.cache?.settings.staleIfErrorMs ?? 0) / 1000);
      this.logger.warn(
        'auth-service unavailable: serving users already validated past their cache lifetime, ' +
          `for up to ${graceSeconds} s more`,
      );
    }
    return stale.user;
  }
}

/** What {@link TokenVerifier} could judge of a new token before any upstream call. */
interface CheckedHere<T extends object> {
  screened: ScreenedToken;
  /** The key its user is known under (local mode, a signed subject). */
  subjectKey?: string;
  /** Its user, validated within the cache lifetime, when this token was never refused. */
  known?: CachedUser<T>;
}

/**
 * `next(value)`: at once when `value` is not a promise, so that a path stays
 * synchronous for as long as what it consults is.
 */
function andThen<A, B>(value: A | Promise<A>, next: (value: A) => B | Promise<B>): B | Promise<B> {
  return value instanceof Promise ? value.then(next) : next(value);
}

function credentialOf(token: string | BearerCredential): BearerCredential {
  return typeof token === 'string' ? new BearerCredential(token) : token;
}
