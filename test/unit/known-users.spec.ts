import { describe, expect, it } from 'vitest';
import { AuthServiceUnavailableError } from '../../lib/errors/index.js';
import { AuthenticationFailure } from '../../lib/verification/authentication-failure.js';
import { KnownUsers } from '../../lib/verification/known-users.js';
import { StaticJwtKey } from '../../lib/verification/jwt-keys.js';
import { KeyMismatchWatch, SignatureCheck } from '../../lib/verification/signature-check.js';
import { TokenVerifier, type UserCacheSettings } from '../../lib/verification/token-verifier.js';
import type { AuthenticatedUser, UserLookup } from '../../lib/verification/user-lookup.js';
import { MemoryRefusedStore, MemoryUserStore } from '../../lib/verification/verification-stores.js';
import { DEFAULT_CACHE } from '../fixtures/cache-settings.js';
import { claimsFor, signHs256 } from '../fixtures/jwt.js';

const SECRET = 'a-test-secret-of-at-least-32-bytes-long';
const TTL_MS = DEFAULT_CACHE.ttlMs;

const CACHE = DEFAULT_CACHE;

/** The auth-service as the verifier sees it: counted, failing on demand. */
class LookupDouble {
  calls = 0;
  down = false;
  /** Tokens it refuses (revoked). */
  readonly refusing = new Set<string>();
  /** While set, answers wait for it. */
  gate?: Promise<void>;

  async lookUp(token: string): Promise<AuthenticatedUser<object>> {
    this.calls++;
    await this.gate;
    if (this.down) throw new AuthServiceUnavailableError('user', 'timeout');
    if (this.refusing.has(token)) throw new AuthenticationFailure('invalid token', 'refused');
    const { sub } = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as {
      sub: string;
    };
    return userNamed(sub, this.calls);
  }
}

function userNamed(
  username: string,
  version = 1,
  metadata: object = {},
): AuthenticatedUser<object> {
  return Object.freeze({
    id: `id-${username}`,
    username,
    firstName: `v${version}`,
    lastName: '',
    email: '',
    phoneNumber: '',
    isAdmin: false,
    isServiceAdmin: false,
    metadata: Object.freeze(metadata),
  });
}

/** A verifier as the module builds one for local HS256, with a clock the test moves. */
function localVerifier(settings: Partial<UserCacheSettings> = {}) {
  const clock = { now: Date.now() };
  const lookup = new LookupDouble();
  const cache = { ...CACHE, ...settings };
  let signatureChecks = 0;
  const signatures = new SignatureCheck(
    StaticJwtKey.fromSecret(SECRET),
    0,
    new KeyMismatchWatch('jwt.secret', { warn: () => undefined }),
  );
  const check = signatures.verify.bind(signatures);
  signatures.verify = (token, header) => {
    signatureChecks++;
    return check(token, header);
  };
  const now = () => clock.now;
  const verifier = new TokenVerifier(
    {
      lookup: lookup as unknown as UserLookup<object>,
      policy: { audiences: ['shop'], audienceRequired: false, clockToleranceSeconds: 0 },
      signatures,
      cache: {
        settings: cache,
        users: new MemoryUserStore(cache.maxEntries, cache.maxBytes, now),
        refused: new MemoryRefusedStore(cache.negativeMaxEntries, now),
        ...(cache.knownUsers
          ? {
              known: {
                store: new MemoryUserStore(cache.maxEntries, cache.maxBytes, now),
                scope: 'http://auth-service',
              },
            }
          : {}),
      },
      lookupLimit: false,
      ipv6PrefixLength: 64,
    },
    now,
  );
  return { verifier, lookup, clock, signatureChecks: () => signatureChecks };
}

let serial = 0;
/** A new token of `sub` (each one distinct), signed with the module's secret. */
const tokenOf = (sub: string, extra: Record<string, unknown> = {}): string =>
  signHs256(claimsFor(sub, { jti: `t-${++serial}`, ...extra }), SECRET);

/**
 * Whether a promise was settled when handed over: one settled already wins a
 * race against one settled now; one still waiting on anything loses it.
 */
async function settledAtOnce(promise: Promise<unknown>): Promise<boolean> {
  const waiting = Symbol('waiting');
  return Promise.race([promise, Promise.resolve(waiting)]).then(
    (value) => value !== waiting,
    () => true,
  );
}

describe('known users (local mode): a new token of a user validated lately', () => {
  it('is judged at once, with no verification left under way; a token that needs the auth-service is not', async () => {
    const { verifier, lookup } = localVerifier();
    const first = verifier.verify(tokenOf('ann'));
    expect(await settledAtOnce(first)).toBe(false);
    await first;
    const second = verifier.verify(tokenOf('ann'));
    expect(await settledAtOnce(second)).toBe(true);
    expect((await second).username).toBe('ann');
    // A forged one is refused at once too, before anything else is consulted.
    const forged = verifier.verify(`${tokenOf('ann').slice(0, -4)}AAAA`);
    expect(await settledAtOnce(forged)).toBe(true);
    await expect(forged).rejects.toMatchObject({ reason: 'invalid token' });
    expect(lookup.calls).toBe(1);
  });

  it('costs no lookup, but its signature is still checked', async () => {
    const { verifier, lookup, signatureChecks } = localVerifier();
    const first = await verifier.verify(tokenOf('ann'));
    const second = tokenOf('ann');
    expect(await verifier.verify(second)).toBe(first);
    expect(verifier.cached(second)).toBe(first);
    expect(lookup.calls).toBe(1);
    expect(signatureChecks()).toBe(2);
    // A forged token naming a known subject is refused: the signature comes first.
    const forged = `${tokenOf('ann').slice(0, -4)}AAAA`;
    await expect(verifier.verify(forged)).rejects.toMatchObject({ reason: 'invalid token' });
    expect(lookup.calls).toBe(1);
  });

  it("is cached never past the new token's exp", async () => {
    const { verifier, lookup, clock } = localVerifier();
    await verifier.verify(tokenOf('ann'));
    const exp = Math.floor(clock.now / 1000) + 10;
    const shortLived = tokenOf('ann', { exp });
    await verifier.verify(shortLived);
    expect(lookup.calls).toBe(1);
    clock.now = exp * 1000 - 1;
    expect(verifier.cached(shortLived)).toBeDefined();
    clock.now = exp * 1000;
    expect(verifier.cached(shortLived)).toBeUndefined();
  });

  it('is cached never past the cache lifetime, counted from when the auth-service was asked', async () => {
    const { verifier, lookup, clock } = localVerifier();
    const askedAt = clock.now;
    await verifier.verify(tokenOf('ann'));
    clock.now = askedAt + TTL_MS - 1_000;
    const late = tokenOf('ann');
    await verifier.verify(late);
    expect(lookup.calls).toBe(1);
    // Its entry is fresh until the known user's lifetime ends, not for a lifetime of its own.
    clock.now = askedAt + TTL_MS;
    expect(verifier.cached(late)).toBeUndefined();
    const after = tokenOf('ann');
    expect((await verifier.verify(after)).firstName).toBe('v2');
    expect(lookup.calls).toBe(2);
  });

  it('is never served stale: past its lifetime, with the auth-service down, a new token is a 503', async () => {
    const { verifier, lookup, clock } = localVerifier();
    const old = tokenOf('ann');
    await verifier.verify(old);
    clock.now += TTL_MS;
    lookup.down = true;
    await expect(verifier.verify(tokenOf('ann'))).rejects.toBeInstanceOf(
      AuthServiceUnavailableError,
    );
    // The token validated itself is still served within its stale-if-error grace.
    expect((await verifier.verify(old)).username).toBe('ann');
  });

  it('does not make a token it let in servable stale: with the auth-service down, that token is a 503 too', async () => {
    const { verifier, lookup, clock } = localVerifier();
    await verifier.verify(tokenOf('ann'));
    const unasked = tokenOf('ann');
    await verifier.verify(unasked);
    expect(lookup.calls).toBe(1);
    clock.now += TTL_MS;
    lookup.down = true;
    await expect(verifier.verify(unasked)).rejects.toBeInstanceOf(AuthServiceUnavailableError);
  });

  it('never lets in a token the auth-service refused, however long ago', async () => {
    const { verifier, lookup, clock } = localVerifier();
    const revoked = tokenOf('ann');
    lookup.refusing.add(revoked);
    await expect(verifier.verify(revoked)).rejects.toBeInstanceOf(AuthenticationFailure);
    clock.now += 1;
    await verifier.verify(tokenOf('ann'));
    // Past the 5 s the refusal itself is remembered for, ann is known: the revoked token is asked about again.
    clock.now += 10_000;
    await expect(verifier.verify(revoked)).rejects.toBeInstanceOf(AuthenticationFailure);
    expect(lookup.calls).toBe(3);
  });

  it('is not brought back by a lookup that was under way when it was forgotten', async () => {
    const { verifier, lookup, clock } = localVerifier();
    const first = tokenOf('ann');
    await verifier.verify(first);
    clock.now += TTL_MS;
    let release = (): void => undefined;
    lookup.gate = new Promise((resolve) => (release = resolve));
    const underWay = verifier.verify(tokenOf('ann'));
    clock.now += 1;
    await verifier.forget(first);
    release();
    await underWay;
    lookup.gate = undefined;
    await verifier.verify(tokenOf('ann'));
    expect(lookup.calls).toBe(3);
  });

  it('is scoped to the auth-service: another scope never finds a user remembered under one', async () => {
    const store = new MemoryUserStore<object>(10, 2 ** 20);
    const one = new KnownUsers(store, 'http://auth-a', TTL_MS);
    const other = new KnownUsers(store, 'http://auth-b', TTL_MS);
    const subject = { subject: 'ann' };
    await one.remember(one.keyOfSubject(subject), userNamed('ann'), Infinity, Date.now());
    expect(await one.find(one.keyOfSubject(subject))).toBeDefined();
    expect(await other.find(other.keyOfSubject(subject))).toBeUndefined();
    expect(one.keyOfId('ann')).not.toBe(one.keyOfSubject(subject));
  });

  it('is forgotten with any token of that user (logout): their next new token is looked up', async () => {
    const { verifier, lookup } = localVerifier();
    const first = tokenOf('ann');
    await verifier.verify(first);
    await verifier.verify(tokenOf('bob'));
    await verifier.forget(first);
    await verifier.verify(tokenOf('ann'));
    expect(lookup.calls).toBe(3);
    // Another user's entry stays.
    await verifier.verify(tokenOf('bob'));
    expect(lookup.calls).toBe(3);
  });

  it('is never shared between issuers: (issuer, subject) is the key, no issuer a key of its own', async () => {
    const { verifier, lookup } = localVerifier();
    await verifier.verify(tokenOf('ann', { iss: 'https://a.example' }));
    await verifier.verify(tokenOf('ann', { iss: 'https://b.example' }));
    await verifier.verify(tokenOf('ann'));
    // A subject that spells another key's parts is its own too.
    await verifier.verify(tokenOf('["sub",null,"ann"]'));
    expect(lookup.calls).toBe(4);
    await verifier.verify(tokenOf('ann', { iss: 'https://a.example' }));
    await verifier.verify(tokenOf('ann', { iss: 'https://b.example' }));
    await verifier.verify(tokenOf('ann'));
    expect(lookup.calls).toBe(4);
  });

  it('is never shared between module registrations: each verifier has its own', async () => {
    const one = localVerifier();
    const other = localVerifier();
    await one.verifier.verify(tokenOf('ann'));
    await other.verifier.verify(tokenOf('ann'));
    expect([one.lookup.calls, other.lookup.calls]).toEqual([1, 1]);
  });

  it('needs a subject: tokens without `sub` (or with a `sub` or `iss` that is not a string) are looked up', async () => {
    const { verifier, lookup } = localVerifier();
    const claims = (extra: Record<string, unknown>) =>
      signHs256({ ...claimsFor('x'), jti: `t-${++serial}`, ...extra }, SECRET);
    // The double names the user by `sub`; the verifier must not reuse anything without one.
    for (let i = 0; i < 2; i++) await verifier.verify(claims({ sub: 'ann', iss: 7 }));
    expect(lookup.calls).toBe(2);
  });

  it('is off with `knownUsers: false`: every new token is looked up', async () => {
    const { verifier, lookup } = localVerifier({ knownUsers: false });
    for (let i = 0; i < 3; i++) await verifier.verify(tokenOf('ann'));
    expect(lookup.calls).toBe(3);
  });

  it('is bounded like the token cache: maxEntries users', async () => {
    const { verifier, lookup } = localVerifier({ maxEntries: 2 });
    for (const user of ['ann', 'bob', 'cyd']) await verifier.verify(tokenOf(user));
    expect(lookup.calls).toBe(3);
    // The least recently used, ann, went first.
    await verifier.verify(tokenOf('cyd'));
    expect(lookup.calls).toBe(3);
    await verifier.verify(tokenOf('ann'));
    expect(lookup.calls).toBe(4);
  });
});

describe('the in-memory user store', () => {
  it('is bounded by estimated bytes as well as entries: big users push the oldest out', () => {
    const store = new MemoryUserStore<object>(1_000, 10_000);
    const big = (name: string) => userNamed(name, 1, { blob: 'x'.repeat(3_000) });
    for (const name of ['a', 'b', 'c', 'd']) {
      store.set(name, { user: big(name), freshUntil: Date.now() + TTL_MS }, TTL_MS);
    }
    const kept = [...store.values()].map((entry) => entry.user.username);
    expect(kept.length).toBeLessThan(4);
    expect(kept).toContain('d');
    expect(store.get('a')).toBeUndefined();
    // Small users: many fit in the same bytes.
    for (let i = 0; i < 20; i++) {
      store.set(`s${i}`, { user: userNamed(`s${i}`), freshUntil: Date.now() + TTL_MS }, TTL_MS);
    }
    expect([...store.values()].length).toBeGreaterThanOrEqual(20);
  });

  it('does not keep a user larger than the whole bound', () => {
    const store = new MemoryUserStore<object>(1_000, 1_000);
    const huge = userNamed('huge', 1, { blob: 'x'.repeat(2_000) });
    store.set('huge', { user: huge, freshUntil: Date.now() + TTL_MS }, TTL_MS);
    expect(store.get('huge')).toBeUndefined();
  });
});
