import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CircuitBreaker,
  type CircuitBreakerEvents,
  type CircuitBreakerSettings,
} from '../../lib/client/circuit-breaker.js';
import { AuthServiceNotFoundError, AuthServiceUnavailableError } from '../../lib/errors/index.js';
import { ALICE, plainClient, startEmulator } from './client-fixtures.js';

const SETTINGS: CircuitBreakerSettings = {
  failureRate: 0.5,
  windowMs: 10_000,
  minimumCalls: 4,
  clientFailures: 3,
  halfOpenAfterMs: 1_000,
  maxHalfOpenAfterMs: 4_000,
};

const down = () => Promise.reject(new AuthServiceUnavailableError('user', 'status', 503));
const up = () => Promise.resolve('ok');
const refused = () => Promise.reject(new AuthServiceNotFoundError('user'));

/** A breaker whose calls are counted, and whose events are recorded. */
function breakerUnderTest(settings: Partial<CircuitBreakerSettings> = {}) {
  const events: string[] = [];
  const recorder: CircuitBreakerEvents = {
    opened: (scope, retryAfter) => events.push(`opened ${scope} ${retryAfter}`),
    closed: () => events.push('closed'),
  };
  const breaker = new CircuitBreaker({ ...SETTINGS, ...settings }, recorder);
  let calls = 0;
  const retries: boolean[] = [];
  const run = <R>(result: () => Promise<R>, client?: string): Promise<R> =>
    breaker.run(
      'user',
      (mayRetry) => {
        calls++;
        retries.push(mayRetry);
        return result();
      },
      client,
    );
  return { breaker, events, run, calls: () => calls, retries };
}

const outcome = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    (value) => value,
    (error: unknown) => error,
  );

describe('CircuitBreaker', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => vi.useRealTimers());

  it('opens when more than the failure rate of the window failed, then fails fast without calling', async () => {
    const { breaker, events, run, calls } = breakerUnderTest();
    await run(up);
    for (let i = 0; i < 3; i++) await outcome(run(down));
    expect(breaker.state).toBe('open');
    expect(events).toEqual(['opened all 1']);
    const fast = await outcome(run(up));
    expect(fast).toBeInstanceOf(AuthServiceUnavailableError);
    expect(fast).toMatchObject({ reason: 'circuit-open', retryAfterSeconds: 1 });
    expect(calls()).toBe(4);
  });

  it('does not open below the minimum number of calls, nor at a rate under the threshold', async () => {
    const { breaker, run } = breakerUnderTest();
    for (let i = 0; i < 3; i++) await outcome(run(down)); // three calls: under the minimum
    for (let i = 0; i < 4; i++) await run(up); // now 3 of 7 failed: under half
    expect(breaker.state).toBe('closed');
  });

  it('counts a refusal (4xx) for nothing: it neither keeps the rate down nor opens the circuit', async () => {
    const { breaker, run } = breakerUnderTest();
    // Refusals alone, however many: nothing failed.
    for (let i = 0; i < 20; i++) {
      await expect(run(refused)).rejects.toBeInstanceOf(AuthServiceNotFoundError);
    }
    expect(breaker.state).toBe('closed');
    // A caller's junk that an ailing service still refuses at once does not hide its failures.
    for (let i = 0; i < 4; i++) {
      await expect(run(refused)).rejects.toBeInstanceOf(AuthServiceNotFoundError);
      await expect(run(refused)).rejects.toBeInstanceOf(AuthServiceNotFoundError);
      await outcome(run(down));
    }
    expect(breaker.state).toBe('open');
  });

  it('is not closed by a probe answered with a refusal: only a success closes it', async () => {
    const { breaker, run, events } = breakerUnderTest();
    for (let i = 0; i < 4; i++) await outcome(run(down));
    vi.setSystemTime(Date.now() + 1_000);
    await expect(run(refused)).rejects.toBeInstanceOf(AuthServiceNotFoundError);
    expect(breaker.state).toBe('open');
    vi.setSystemTime(Date.now() + 2_000);
    await run(up);
    expect(breaker.state).toBe('closed');
    expect(events).toEqual(['opened all 1', 'opened all 2', 'closed']);
  });

  it('probes once after the pause, without retry; others fail fast meanwhile instead of queueing', async () => {
    const { breaker, run, retries, events } = breakerUnderTest();
    for (let i = 0; i < 4; i++) await outcome(run(down));
    vi.setSystemTime(Date.now() + 1_000);
    let answer!: (value: string) => void;
    const probe = run(() => new Promise<string>((resolve) => (answer = resolve)));
    expect(breaker.state).toBe('half-open');
    expect(retries.at(-1)).toBe(false);
    await expect(run(up)).rejects.toMatchObject({ reason: 'circuit-open' });
    answer('probed');
    await expect(probe).resolves.toBe('probed');
    expect(breaker.state).toBe('closed');
    expect(events).toEqual(['opened all 1', 'closed']);
    await run(up);
    expect(retries.at(-1)).toBe(true);
  });

  it('doubles the pause after each failed probe, up to the maximum, and starts over once closed', async () => {
    const { run, events } = breakerUnderTest();
    for (let i = 0; i < 4; i++) await outcome(run(down));
    for (const pause of [1_000, 2_000, 4_000]) {
      vi.setSystemTime(Date.now() + pause - 1);
      await expect(run(up)).rejects.toMatchObject({ reason: 'circuit-open' });
      vi.setSystemTime(Date.now() + 1);
      await outcome(run(down)); // the probe fails
    }
    vi.setSystemTime(Date.now() + 4_000 - 1);
    await expect(run(up)).rejects.toMatchObject({ reason: 'circuit-open' });
    vi.setSystemTime(Date.now() + 1);
    await run(up);
    expect(events).toEqual([
      'opened all 1',
      'opened all 2',
      'opened all 4',
      'opened all 4',
      'closed',
    ]);
    for (let i = 0; i < 4; i++) await outcome(run(down));
    expect(events.at(-1)).toBe('opened all 1');
  });

  it('opens the circuit of one client address whose calls keep failing, and no one else’s', async () => {
    const { breaker, run, calls, events } = breakerUnderTest();
    for (let i = 0; i < 3; i++) await outcome(run(down, 'attacker'));
    expect(events).toEqual(['opened client 1']);
    const before = calls();
    for (let i = 0; i < 20; i++) {
      await expect(run(down, 'attacker')).rejects.toMatchObject({ reason: 'circuit-open' });
    }
    expect(calls()).toBe(before);
    // Everyone else is served, and the shared circuit saw only the first three failures.
    await expect(run(up, 'someone')).resolves.toBe('ok');
    await expect(run(up)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
  });

  it("lets a client's probe through after its pause, not counted for everyone, and closes it on success", async () => {
    const { breaker, run, retries } = breakerUnderTest({ minimumCalls: 1 });
    for (let i = 0; i < 3; i++) await run(up, `other-${i}`);
    for (let i = 0; i < 3; i++) await outcome(run(down, 'attacker'));
    // Its probes keep failing: its pause grows, and the shared circuit stays closed.
    for (const pause of [1_000, 2_000, 4_000, 4_000]) {
      vi.setSystemTime(Date.now() + pause);
      await expect(run(down, 'attacker')).rejects.toMatchObject({ reason: 'status' });
      expect(retries.at(-1)).toBe(false);
      await expect(run(up, 'attacker')).rejects.toMatchObject({ reason: 'circuit-open' });
    }
    expect(breaker.state).toBe('closed');
    vi.setSystemTime(Date.now() + 4_000);
    await expect(run(up, 'attacker')).resolves.toBe('ok');
    await expect(run(up, 'attacker')).resolves.toBe('ok');
  });

  it("counts at most a client's share of its concurrent failures for everyone", async () => {
    const { breaker, run } = breakerUnderTest();
    const failing: ((error: Error) => void)[] = [];
    const flood = Array.from({ length: 20 }, () =>
      outcome(run(() => new Promise<never>((_, reject) => failing.push(reject)), 'attacker')),
    );
    for (const reject of failing) reject(new AuthServiceUnavailableError('user', 'status', 500));
    await Promise.all(flood);
    // Three of them counted: under the minimum of four calls, so the circuit stays closed.
    expect(breaker.state).toBe('closed');
    await expect(run(up, 'attacker')).rejects.toMatchObject({ reason: 'circuit-open' });
    await expect(run(up, 'someone-else')).resolves.toBe('ok');
  });

  it("counts at most a client's share of its failures per window, whatever it interleaves", async () => {
    const { breaker, run } = breakerUnderTest({ minimumCalls: 1 });
    // Its own successes in between start its count in a row over, but not its share.
    for (let round = 0; round < 10; round++) {
      await run(up, 'attacker');
      await run(up, 'attacker');
      for (let i = 0; i < 2; i++) await outcome(run(down, 'attacker'));
    }
    // 20 failures, 20 successes: all counted, the rate would be 0.5; counted, 3 of 23.
    expect(breaker.state).toBe('closed');
    vi.setSystemTime(Date.now() + 10_000);
    for (let i = 0; i < 4; i++) await outcome(run(down, 'attacker'));
    expect(breaker.state).toBe('closed');
  });

  it('opens for everyone when failures come from many clients', async () => {
    const { breaker, run } = breakerUnderTest();
    for (let i = 0; i < 4; i++) await outcome(run(down, `client-${i}`));
    expect(breaker.state).toBe('open');
    await expect(run(up, 'newcomer')).rejects.toMatchObject({ reason: 'circuit-open' });
  });

  it('does not count a failure of a call that started before a later call succeeded', async () => {
    const { breaker, run } = breakerUnderTest({ minimumCalls: 1, clientFailures: 1 });
    // Calls that hang while the service is down, and time out once it is back.
    const hanging: ((error: Error) => void)[] = [];
    const pending = Array.from({ length: 5 }, () =>
      outcome(run(() => new Promise<never>((_, reject) => hanging.push(reject)), 'client')),
    );
    vi.setSystemTime(Date.now() + 10);
    await run(up, 'client');
    vi.setSystemTime(Date.now() + 10);
    for (const reject of hanging) reject(new AuthServiceUnavailableError('user', 'timeout'));
    for (const failure of await Promise.all(pending)) {
      expect(failure).toMatchObject({ reason: 'timeout' });
    }
    expect(breaker.state).toBe('closed');
    await expect(run(up, 'client')).resolves.toBe('ok');
  });
});

describe('AuthApi behind the circuit breaker', () => {
  let emulator: AuthServiceEmulator;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(() => emulator.stop());
  beforeEach(() => {
    emulator.clearFaults();
    emulator.resetCounters();
  });

  it('stops calling a failing auth-service, then recovers through a probe', async () => {
    const api = plainClient(emulator, {
      circuitBreaker: { minimumCalls: 3, halfOpenAfterMs: 300, maxHalfOpenAfterMs: 300 },
    });
    const token = emulator.issueToken(ALICE.username);
    emulator.fail({ kind: 'status', status: 502 }, { endpoints: ['user'] });
    for (let i = 0; i < 3; i++) {
      await expect(api.forToken(token).user()).rejects.toMatchObject({
        reason: 'status',
        status: 502,
      });
    }
    const reached = emulator.requestCount('user');
    expect(reached).toBe(6); // three operations, each retried once
    await expect(api.forToken(token).user()).rejects.toMatchObject({ reason: 'circuit-open' });
    expect(emulator.requestCount('user')).toBe(reached);

    emulator.clearFaults();
    await new Promise((resolve) => setTimeout(resolve, 350));
    await expect(api.forToken(token).user()).resolves.toMatchObject({ username: ALICE.username });
    expect(emulator.requestCount('user')).toBe(reached + 1);
  });

  it('keeps logins and token lookups apart: failing lookups leave logins alone', async () => {
    const api = plainClient(emulator, { circuitBreaker: { minimumCalls: 2 } });
    const token = emulator.issueToken(ALICE.username);
    emulator.fail({ kind: 'status', status: 500 }, { endpoints: ['user'] });
    for (let i = 0; i < 3; i++) await expect(api.forToken(token).user()).rejects.toThrow();
    await expect(api.forToken(token).user()).rejects.toMatchObject({ reason: 'circuit-open' });
    await expect(api.login(ALICE.username, ALICE.password)).resolves.toMatchObject({
      tokenType: 'bearer',
    });
  });

  it('attributes failures to the caller it is told of', async () => {
    const api = plainClient(emulator, { circuitBreaker: { minimumCalls: 100 } });
    const token = emulator.issueToken(ALICE.username);
    emulator.fail({ kind: 'status', status: 500 }, { endpoints: ['user'] });
    for (let i = 0; i < 3; i++) {
      await expect(api.forToken(token, { caller: 'one' }).user()).rejects.toMatchObject({
        reason: 'status',
      });
    }
    const reached = emulator.requestCount('user');
    await expect(api.forToken(token, { caller: 'one' }).user()).rejects.toMatchObject({
      reason: 'circuit-open',
    });
    expect(emulator.requestCount('user')).toBe(reached);
    emulator.clearFaults();
    await expect(api.forToken(token, { caller: 'two' }).user()).resolves.toMatchObject({
      username: ALICE.username,
    });
  });

  it('can be turned off', async () => {
    const api = plainClient(emulator, { circuitBreaker: false });
    emulator.fail({ kind: 'status', status: 500 }, { endpoints: ['login'] });
    for (let i = 0; i < 7; i++) {
      await expect(api.login(ALICE.username, ALICE.password)).rejects.toMatchObject({
        reason: 'status',
      });
    }
    expect(emulator.requestCount('login')).toBe(7);
  });
});
