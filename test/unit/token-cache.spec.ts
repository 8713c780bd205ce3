import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { HttpException, UnauthorizedException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { TokenVerifier, type AuthenticatedUser } from '@apex/nest-auth';
import { AuthenticationFailure } from '../../lib/verification/authentication-failure.js';
import { StaticJwtKey } from '../../lib/verification/jwt-keys.js';
import { KeyMismatchWatch, SignatureCheck } from '../../lib/verification/signature-check.js';
import type { TokenVerifierParts } from '../../lib/verification/token-verifier.js';
import type { UserLookup } from '../../lib/verification/user-lookup.js';
import {
  MemoryRefusedStore,
  MemoryUserStore,
  type CachedUser,
  type RefusedTokenStore,
  type VerifiedUserStore,
} from '../../lib/verification/verification-stores.js';
import { DEFAULT_CACHE } from '../fixtures/cache-settings.js';
import { claimsFor, signHs256 } from '../fixtures/jwt.js';

const SECRET = 'a-test-secret-of-at-least-32-bytes-long';

const CACHE = DEFAULT_CACHE;

const sha256 = (token: string): string => createHash('sha256').update(token).digest('base64url');

/** The auth-service, as the verifier sees it: who a token belongs to, counted. */
class LookupDouble {
  calls = 0;
  readonly refused = new Set<string>();

  lookUp(token: string): Promise<AuthenticatedUser<object>> {
    this.calls++;
    if (this.refused.has(token)) {
      return Promise.reject(
        new AuthenticationFailure('invalid token', 'refused by the auth-service'),
      );
    }
    const { sub } = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as {
      sub: string;
    };
    return Promise.resolve(
      Object.freeze({
        id: `id-${sub}`,
        username: sub,
        firstName: '',
        lastName: '',
        email: '',
        phoneNumber: '',
        isAdmin: false,
        isServiceAdmin: false,
        metadata: Object.freeze({}),
      }),
    );
  }
}

/** Counts what the verifier asks of its user store, and passes it on to the module's own. */
class CountingUserStore implements VerifiedUserStore<object> {
  readonly counts = { get: 0, set: 0, delete: 0 };

  constructor(readonly inner: VerifiedUserStore<object>) {}

  get(key: string): CachedUser<object> | undefined {
    this.counts.get++;
    return this.inner.get(key);
  }
  set(key: string, entry: CachedUser<object>, ttlMs: number): void {
    this.counts.set++;
    this.inner.set(key, entry, ttlMs);
  }
  delete(key: string): void {
    this.counts.delete++;
    this.inner.delete(key);
  }
  values(): Iterable<CachedUser<object>> {
    return this.inner.values();
  }
}

interface Rig {
  verifier: TokenVerifier;
  lookup: LookupDouble;
  users: CountingUserStore;
  memory: MemoryUserStore<object>;
  signatureChecks: () => number;
}

/** A verifier as the module builds it for local HS256 verification, with the lookup doubled. */
function rig(lookupLimit: TokenVerifierParts<object>['lookupLimit'] = false): Rig {
  const lookup = new LookupDouble();
  const memory = new MemoryUserStore<object>(CACHE.maxEntries, CACHE.maxBytes);
  const users = new CountingUserStore(memory);
  const signatures = new SignatureCheck(
    StaticJwtKey.fromSecret(SECRET),
    0,
    new KeyMismatchWatch('jwt.secret', { warn: () => undefined }),
  );
  let checks = 0;
  const check = signatures.verify.bind(signatures);
  signatures.verify = (token, header) => {
    checks++;
    return check(token, header);
  };
  const verifier = new TokenVerifier({
    lookup: lookup as unknown as UserLookup<object>,
    policy: { audiences: ['shop'], audienceRequired: false, clockToleranceSeconds: 0 },
    signatures,
    cache: { settings: CACHE, users, refused: new MemoryRefusedStore(CACHE.negativeMaxEntries) },
    lookupLimit,
    ipv6PrefixLength: 64,
  });
  return { verifier, lookup, users, memory, signatureChecks: () => checks };
}

/** `count` distinct valid tokens, `user-<from>` onwards. */
function tokens(from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => signHs256(claimsFor(`user-${from + i}`), SECRET));
}

async function verifyAll(verifier: TokenVerifier, all: string[]): Promise<void> {
  for (let i = 0; i < all.length; i += 500) {
    await Promise.all(all.slice(i, i + 500).map((token) => verifier.verify(token)));
  }
}

/** How often `Map`'s methods ran during `run` (synchronous: nothing else runs meanwhile). */
function mapOperations(run: () => void): { get: number; set: number; delete: number } {
  const counts = { get: 0, set: 0, delete: 0 };
  /* eslint-disable @typescript-eslint/unbound-method -- patched and restored around `run` */
  const original = { get: Map.prototype.get, set: Map.prototype.set, delete: Map.prototype.delete };
  /* eslint-enable @typescript-eslint/unbound-method */
  Map.prototype.get = function (this: Map<unknown, unknown>, key: unknown): unknown {
    counts.get++;
    return original.get.call(this, key);
  };
  Map.prototype.set = function (this: Map<unknown, unknown>, key: unknown, value: unknown) {
    counts.set++;
    return original.set.call(this, key, value);
  };
  Map.prototype.delete = function (this: Map<unknown, unknown>, key: unknown) {
    counts.delete++;
    return original.delete.call(this, key);
  };
  try {
    run();
  } finally {
    Object.assign(Map.prototype, original);
  }
  return counts;
}

/** What `hits` cache hits cost: store calls, Map operations, lookups and signature checks. */
function costOfHits(r: Rig, hits: string[]) {
  const before = { ...r.users.counts, lookups: r.lookup.calls, checks: r.signatureChecks() };
  const found: (string | undefined)[] = [];
  const map = mapOperations(() => {
    for (const token of hits) found.push(r.verifier.cached(token)?.username);
  });
  expect(
    found.every((username) => username !== undefined),
    'every token is a hit',
  ).toBe(true);
  return {
    storeGets: r.users.counts.get - before.get,
    storeSets: r.users.counts.set - before.set,
    storeDeletes: r.users.counts.delete - before.delete,
    lookups: r.lookup.calls - before.lookups,
    signatureChecks: r.signatureChecks() - before.checks,
    map,
  };
}

describe('the token cache under 20 000 distinct tokens', () => {
  it('keeps the cost of a hit flat: the same operations after 100 tokens as after 20 000', async () => {
    const r = rig();
    const first = tokens(0, 100);
    await verifyAll(r.verifier, first);
    expect(r.lookup.calls).toBe(100);

    const early = costOfHits(
      r,
      Array.from({ length: 1_000 }, (_, i) => first[i % 100]),
    );

    const rest = tokens(100, 19_900);
    await verifyAll(r.verifier, rest);
    // Every new token was verified and looked up once; none twice.
    expect(r.lookup.calls).toBe(20_000);
    expect(r.signatureChecks()).toBe(20_000);
    // The most recent ones are cached (the cache holds maxEntries of them).
    const recent = rest.slice(-CACHE.maxEntries);
    const late = costOfHits(
      r,
      Array.from({ length: 1_000 }, (_, i) => recent[(i * 7) % recent.length]),
    );

    expect(late).toEqual(early);
    // One store read per hit; no write, no delete (no delete-and-re-insert to keep the order),
    // no lookup and no re-verification.
    expect(early).toMatchObject({
      storeGets: 1_000,
      storeSets: 0,
      storeDeletes: 0,
      lookups: 0,
      signatureChecks: 0,
    });
    expect(early.map.set + early.map.delete).toBe(0);
    expect(early.map.get).toBeLessThanOrEqual(1_000);
  });

  it('serves a cached token from verify() too, without a lookup or a signature check', async () => {
    const r = rig();
    const [token] = tokens(0, 1) as [string];
    const user = await r.verifier.verify(token);
    const [lookups, checks] = [r.lookup.calls, r.signatureChecks()];
    for (let i = 0; i < 50; i++) expect(await r.verifier.verify(token)).toBe(user);
    expect(r.verifier.cached(token)).toBe(user);
    expect([r.lookup.calls, r.signatureChecks()]).toEqual([lookups, checks]);
  });

  it('is lru-cache, bounded by maxEntries, evicting the least recently used', async () => {
    const r = rig();
    const entries = r.memory['entries'];
    expect(entries).toBeInstanceOf(LRUCache);
    expect(entries.max).toBe(CACHE.maxEntries);

    const all = tokens(0, CACHE.maxEntries);
    await verifyAll(r.verifier, all);
    expect(entries.size).toBe(CACHE.maxEntries);
    // Used again: now the most recent, so the next new token evicts the second oldest instead.
    expect(r.verifier.cached(all[0])?.username).toBe('user-0');
    await verifyAll(r.verifier, tokens(CACHE.maxEntries, 1));
    expect(entries.size).toBe(CACHE.maxEntries);
    expect(r.verifier.cached(all[0])?.username).toBe('user-0');
    expect(r.verifier.cached(all[1])).toBeUndefined();

    await verifyAll(r.verifier, tokens(CACHE.maxEntries + 1, 10_000));
    expect(entries.size).toBe(CACHE.maxEntries);
    expect(r.verifier.cachedUsers()).toHaveLength(CACHE.maxEntries);
    // An evicted token is a new token again: verified and looked up anew.
    const lookups = r.lookup.calls;
    await r.verifier.verify(all[5]);
    expect(r.lookup.calls).toBe(lookups + 1);
  });
});

/** A store of the app's own: a plain Map, as a shared (replicated) store would sit behind one. */
class MapUserStore implements VerifiedUserStore<object> {
  readonly entries = new Map<string, { entry: CachedUser<object>; ttlMs: number }>();

  get(key: string): CachedUser<object> | undefined {
    return this.entries.get(key)?.entry;
  }
  set(key: string, entry: CachedUser<object>, ttlMs: number): void {
    this.entries.set(key, { entry, ttlMs });
  }
  delete(key: string): void {
    this.entries.delete(key);
  }
  *values(): Iterable<CachedUser<object>> {
    for (const { entry } of this.entries.values()) yield entry;
  }
}

class SetRefusedStore implements RefusedTokenStore {
  readonly keys = new Map<string, number>();

  has(key: string): boolean {
    return this.keys.has(key);
  }
  add(key: string, ttlMs: number): void {
    this.keys.set(key, ttlMs);
  }
  delete(key: string): void {
    this.keys.delete(key);
  }
}

describe('stores of the verifier', () => {
  /** Two replicas: verifiers of their own, over the same stores. */
  function replicas(users: VerifiedUserStore<object>, refused: RefusedTokenStore) {
    const lookup = new LookupDouble();
    const parts: TokenVerifierParts<object> = {
      lookup: lookup as unknown as UserLookup<object>,
      policy: { audiences: ['shop'], audienceRequired: false, clockToleranceSeconds: 0 },
      cache: { settings: CACHE, users, refused },
      lookupLimit: false,
      ipv6PrefixLength: 64,
    };
    return { lookup, a: new TokenVerifier(parts), b: new TokenVerifier(parts) };
  }

  it('takes a store of its own in place of the in-memory one, keyed by the hash of the token', async () => {
    const users = new MapUserStore();
    const { lookup, a, b } = replicas(users, new SetRefusedStore());
    const [token] = tokens(0, 1) as [string];

    const user = await a.verify(token);
    expect(lookup.calls).toBe(1);
    expect([...users.entries.keys()]).toEqual([sha256(token)]);
    // Kept for its lifetime, grace included (never past the token's exp, an hour away).
    const { ttlMs } = users.entries.get(sha256(token))!;
    expect(ttlMs).toBeGreaterThan(CACHE.ttlMs);
    expect(ttlMs).toBeLessThanOrEqual(CACHE.ttlMs + CACHE.staleIfErrorMs);
    expect(JSON.stringify([...users.entries])).not.toContain(token);

    // The other replica finds it there: at once, without asking the auth-service.
    expect(b.cached(token)).toBe(user);
    expect(await b.verify(token)).toBe(user);
    expect(b.cachedUsers()).toEqual([user]);
    expect(lookup.calls).toBe(1);

    await b.forget(token);
    expect(users.entries.size).toBe(0);
    expect(a.cached(token)).toBeUndefined();
  });

  it('serves an entry another replica put in the store, and only while it is fresh', () => {
    const users = new MapUserStore();
    const { lookup, a } = replicas(users, new SetRefusedStore());
    const [fresh, stale] = tokens(0, 2) as [string, string];
    const user = Object.freeze({
      username: 'from-elsewhere',
    }) as unknown as AuthenticatedUser<object>;
    users.set(sha256(fresh), { user, freshUntil: Date.now() + 60_000 }, 360_000);
    users.set(sha256(stale), { user, freshUntil: Date.now() - 1 }, 360_000);
    expect(a.cached(fresh)).toBe(user);
    expect(a.cached(stale)).toBeUndefined();
    expect(lookup.calls).toBe(0);
  });

  it('remembers refused tokens in the refused-token store, for every replica', async () => {
    const refused = new SetRefusedStore();
    const { lookup, a, b } = replicas(new MapUserStore(), refused);
    const [token] = tokens(0, 1) as [string];
    lookup.refused.add(token);

    await expect(a.verify(token)).rejects.toThrow(AuthenticationFailure);
    expect([...refused.keys]).toEqual([[sha256(token), CACHE.negativeTtlMs]]);
    await expect(b.verify(token)).rejects.toMatchObject({ detail: 'refused recently' });
    expect(lookup.calls).toBe(1);

    await a.forget(token);
    expect(refused.keys.size).toBe(0);
  });
});

describe('TokenVerifier for transports other than the header', () => {
  it('refuses a raw token the header would not let through, as a 401, before any work', async () => {
    const { verifier, lookup, signatureChecks } = rig();
    const good = signHs256(claimsFor('viewer'), SECRET);
    for (const raw of [`${good}\n`, `Bearer ${good}`, 'a.b', `${'a'.repeat(9000)}.b.c`, 42]) {
      const refusal = await verifier.verify(raw as string).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(UnauthorizedException);
      expect(refusal).toMatchObject({ reason: 'invalid token', detail: 'malformed' });
      expect(verifier.cached(raw as string)).toBeUndefined();
    }
    expect(lookup.calls + signatureChecks()).toBe(0);
    expect((await verifier.verify(good)).username).toBe('viewer');
  });

  it('counts callers without an address together: the lookup limit still holds (a 429)', async () => {
    const { verifier, lookup } = rig({ maxRefusedTokens: 1, windowMs: 60_000 });
    const outcomes: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const token = signHs256(claimsFor(`made-up-${i}`), SECRET);
      lookup.refused.add(token);
      outcomes.push(await verifier.verify(token).catch((error: unknown) => error));
    }
    expect(outcomes[0]).toBeInstanceOf(UnauthorizedException);
    for (const later of outcomes.slice(1)) {
      expect(later).toBeInstanceOf(HttpException);
      expect((later as HttpException).getStatus()).toBe(429);
      expect(later).toMatchObject({ retryAfterSeconds: expect.any(Number) });
    }
    expect(lookup.calls).toBe(1);
  });
});
