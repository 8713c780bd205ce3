import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LookupBudget } from '../../lib/verification/lookup-budget.js';
import { UpstreamFailureLog } from '../../lib/client/auth-service.http.js';
import { KeyMismatchWatch, SignatureCheck } from '../../lib/verification/signature-check.js';
import { StaticJwtKey, type JwtKeySource } from '../../lib/verification/jwt-keys.js';
import { AuthenticationFailure } from '../../lib/verification/authentication-failure.js';
import { claimsFor, signHs256 } from '../fixtures/jwt.js';
import { RefusalDelay } from '../../lib/login/refusal-delay.js';

describe('RefusalDelay', () => {
  it('waits the cap until it has seen five successes, then as long as nine in ten of them took', () => {
    let now = 0;
    const delay = new RefusalDelay(250, 2_000, () => now);
    expect(delay.boundMs).toBe(2_000);
    for (const ms of [440, 450, 452.3, 430]) delay.observeSuccess(ms);
    expect(delay.boundMs).toBe(2_000);
    delay.observeSuccess(445);
    expect(delay.boundMs).toBe(450);
    for (const ms of [10, 20, 30, 40, 50]) delay.observeSuccess(ms);
    expect(delay.boundMs).toBe(450);
    delay.observeSuccess(9_000);
    expect(delay.boundMs).toBe(453);
    now = 16 * 60_000;
    expect(delay.boundMs).toBe(2_000);
  });

  it('keeps to the floor when successes are fast, and is not moved by an outlier', () => {
    const delay = new RefusalDelay(250, 1_000, () => 0);
    for (let i = 0; i < 20; i++) delay.observeSuccess(30);
    expect(delay.boundMs).toBe(250);
    delay.observeSuccess(5_000);
    expect(delay.boundMs).toBe(250);
  });
});

describe('LookupBudget', () => {
  it('refuses a client whose refused tokens spent the budget of the window; valid ones cost nothing', async () => {
    let now = 0;
    const budget = new LookupBudget({ maxRefusedTokens: 2, windowMs: 1_000 }, () => now);
    for (let i = 0; i < 10; i++) {
      const release = await budget.enter('a');
      expect(typeof release).toBe('function');
      (release as () => void)();
    }
    budget.spend('a');
    budget.spend('a');
    const refusal = await budget.enter('a');
    expect(refusal).toMatchObject({ retryAfterSeconds: 1 });
    expect(typeof (await budget.enter('b'))).toBe('function');
    now = 1_000;
    expect(typeof (await budget.enter('a'))).toBe('function');
    expect(typeof (await budget.enter(undefined))).toBe('function');
  });

  it('lets as many run at once as the budget, queues the next ones, and refuses past the queue', async () => {
    const budget = new LookupBudget({ maxRefusedTokens: 2, windowMs: 60_000 }, () => 0);
    const running = [await budget.enter('a'), await budget.enter('a')] as (() => void)[];
    let third: unknown;
    const waiting = budget.enter('a').then((admitted) => (third = admitted));
    // Eight may wait (four per one that may run), the ninth is refused.
    for (let i = 0; i < 7; i++) void budget.enter('a');
    expect(await budget.enter('a')).toMatchObject({ retryAfterSeconds: 1 });
    await Promise.resolve();
    expect(third).toBeUndefined();
    running[0]();
    await waiting;
    expect(typeof third).toBe('function');
  });
});

describe('UpstreamFailureLog', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['Date'] }));
  afterEach(() => vi.useRealTimers());

  it('logs one line per kind per 10 s, with the number folded into it', () => {
    const lines: string[] = [];
    const log = new UpstreamFailureLog('http://auth:8000', {
      warn: (line) => lines.push(String(line)),
    });
    for (let i = 0; i < 5; i++) log.warn('user timeout', 'user failed (timeout)');
    log.warn('login status 500', 'login failed (status 500)');
    vi.setSystemTime(Date.now() + 10_000);
    log.warn('user timeout', 'user failed (timeout)');
    expect(lines).toEqual([
      'auth-service http://auth:8000: user failed (timeout)',
      'auth-service http://auth:8000: login failed (status 500)',
      'auth-service http://auth:8000: user failed (timeout) (and 4 more like it since the last such line)',
    ]);
  });
});

describe('KeyMismatchWatch', () => {
  it('warns once when all of the first 20 signature checks failed', () => {
    const lines: string[] = [];
    const watch = new KeyMismatchWatch('jwt.secret', { warn: (line) => lines.push(String(line)) });
    for (let i = 0; i < 19; i++) watch.record(false);
    expect(lines).toEqual([]);
    watch.record(false);
    for (let i = 0; i < 30; i++) watch.record(false);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('jwt.secret probably does not match');
  });

  it('stays silent when one of the first 20 held', () => {
    const lines: string[] = [];
    const watch = new KeyMismatchWatch('jwt.publicKey', {
      warn: (line) => lines.push(String(line)),
    });
    watch.record(true);
    for (let i = 0; i < 40; i++) watch.record(false);
    expect(lines).toEqual([]);
  });
});

describe('SignatureCheck', () => {
  const SECRET = 'a-test-secret-of-at-least-32-bytes-long';
  const HEADER = { alg: 'HS256' };
  const checkWith = (keys: JwtKeySource, warn: (line: unknown) => void = () => undefined) =>
    new SignatureCheck(keys, 0, new KeyMismatchWatch('jwt.secret', { warn }));

  it('judges a token at once with a configured key: no promise, a refusal thrown', () => {
    const check = checkWith(StaticJwtKey.fromSecret(SECRET));
    const token = signHs256(claimsFor('ann'), SECRET);
    expect(check.verify(token, HEADER)).toBeUndefined();
    const forged = signHs256(claimsFor('ann'), 'another-secret-of-at-least-32-bytes-long');
    expect(() => check.verify(forged, HEADER)).toThrow(
      expect.objectContaining({ reason: 'invalid token', detail: 'signature' }),
    );
    const expired = signHs256(
      claimsFor('ann', { exp: Math.floor(Date.now() / 1000) - 60 }),
      SECRET,
    );
    expect(() => check.verify(expired, HEADER)).toThrow(
      expect.objectContaining({ reason: 'token expired' }),
    );
    expect(() => check.verify(token, { alg: 'HS512' })).toThrow(AuthenticationFailure);
  });

  it('counts each wrong signature for the key-mismatch warning, on the synchronous path too', () => {
    const lines: unknown[] = [];
    const check = checkWith(StaticJwtKey.fromSecret(SECRET), (line) => lines.push(line));
    const forged = signHs256(claimsFor('ann'), 'another-secret-of-at-least-32-bytes-long');
    for (let i = 0; i < 20; i++) expect(() => check.verify(forged, HEADER)).toThrow();
    expect(lines).toHaveLength(1);
  });

  it('answers with a promise when the key must be fetched (a JWKS), with the same verdicts', async () => {
    const configured = StaticJwtKey.fromSecret(SECRET);
    const fetched: JwtKeySource = {
      algorithms: configured.algorithms,
      keyFor: () => Promise.resolve(configured.keyFor()),
    };
    const check = checkWith(fetched);
    const verdict = check.verify(signHs256(claimsFor('ann'), SECRET), HEADER);
    expect(verdict).toBeInstanceOf(Promise);
    await expect(verdict).resolves.toBeUndefined();
    const forged = signHs256(claimsFor('ann'), 'another-secret-of-at-least-32-bytes-long');
    await expect(check.verify(forged, HEADER)).rejects.toMatchObject({ detail: 'signature' });
  });
});
