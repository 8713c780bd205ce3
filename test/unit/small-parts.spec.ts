import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LookupBudget } from '../../lib/verification/lookup-budget.js';
import { UpstreamFailureLog } from '../../lib/client/upstream-failure-log.js';
import { KeyMismatchWatch } from '../../lib/verification/key-mismatch.watch.js';
import { RefusalDelay } from '../../lib/login/refusal-delay.js';

describe('RefusalDelay', () => {
  it('waits the floor until it learns, then the slowest answer of the last 15 minutes, capped', () => {
    let now = 0;
    const delay = new RefusalDelay(250, 2_000, () => now);
    expect(delay.boundMs).toBe(250);
    delay.observe(40);
    expect(delay.boundMs).toBe(250);
    delay.observe(452.3);
    expect(delay.boundMs).toBe(453);
    delay.observe(10);
    expect(delay.boundMs).toBe(453);
    delay.observe(9_000);
    expect(delay.boundMs).toBe(2_000);
    now = 16 * 60_000;
    expect(delay.boundMs).toBe(250);
  });

  it('cannot be talked down by a flood of fast refusals', () => {
    let now = 0;
    const delay = new RefusalDelay(0, 5_000, () => now);
    delay.observe(450);
    for (let i = 0; i < 10_000; i++) {
      now += 50;
      delay.observe(1);
    }
    // 500 s later: the slow answer is still within the window.
    expect(delay.boundMs).toBe(450);
  });
});

describe('LookupBudget', () => {
  it('bounds what is held at once and what is spent per window; valid tokens give their unit back', () => {
    let now = 0;
    const budget = new LookupBudget({ maxRefusedTokens: 2, windowMs: 1_000 }, () => now);
    expect(budget.hold('a')).toBeUndefined();
    expect(budget.hold('a')).toBeUndefined();
    const refusal = budget.hold('a');
    expect(refusal?.retryAfterSeconds).toBe(1);
    expect(budget.hold('b')).toBeUndefined();
    budget.release('a');
    expect(budget.hold('a')).toBeUndefined();
    expect(budget.hold('a')).toBeDefined();
    now = 1_000;
    expect(budget.hold('a')).toBeUndefined();
    expect(budget.hold(undefined)).toBeUndefined();
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
