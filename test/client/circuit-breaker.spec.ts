import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../lib/client/circuit-breaker.js';
import { AuthServiceNotFoundError, AuthServiceUnavailableError } from '../../lib/errors/index.js';
import { ALICE, plainClient, rejectionOf, startEmulator } from './client-fixtures.js';

const unavailable = () => Promise.reject(new AuthServiceUnavailableError('user', 'status', 503));

describe('CircuitBreaker', () => {
  it('opens after the threshold, fails fast, probes after the pause, and closes on success', async () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 2, resetAfterMs: 1000 }, () => now);
    let calls = 0;
    const counted =
      <R>(result: () => Promise<R>) =>
      () => {
        calls++;
        return result();
      };
    await expect(breaker.run('user', counted(unavailable))).rejects.toMatchObject({
      reason: 'status',
    });
    await expect(breaker.run('user', counted(unavailable))).rejects.toMatchObject({
      reason: 'status',
    });
    const fast = await rejectionOf(
      breaker.run(
        'user',
        counted(() => Promise.resolve('ok')),
      ),
    );
    expect(fast).toBeInstanceOf(AuthServiceUnavailableError);
    expect(fast).toMatchObject({ reason: 'circuit-open', retryAfterSeconds: 1 });
    expect(calls).toBe(2);

    now = 1000;
    // The probe fails: open again, for another full pause.
    await expect(breaker.run('user', counted(unavailable))).rejects.toMatchObject({
      reason: 'status',
    });
    await expect(
      breaker.run(
        'user',
        counted(() => Promise.resolve('ok')),
      ),
    ).rejects.toMatchObject({
      reason: 'circuit-open',
    });
    now = 2000;
    await expect(
      breaker.run(
        'user',
        counted(() => Promise.resolve('ok')),
      ),
    ).resolves.toBe('ok');
    await expect(
      breaker.run(
        'user',
        counted(() => Promise.resolve('again')),
      ),
    ).resolves.toBe('again');
    expect(calls).toBe(5);
  });

  it('lets only one probe through while it is out', async () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetAfterMs: 10 }, () => now);
    await breaker.run('user', unavailable).catch(() => undefined);
    now = 10;
    let release!: () => void;
    const probe = breaker.run('user', () => new Promise<void>((resolve) => (release = resolve)));
    await expect(breaker.run('user', () => Promise.resolve())).rejects.toMatchObject({
      reason: 'circuit-open',
    });
    release();
    await probe;
    await expect(breaker.run('user', () => Promise.resolve('closed'))).resolves.toBe('closed');
  });

  it('counts a 4xx answer as the service being up', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2 });
    await breaker.run('user', unavailable).catch(() => undefined);
    await breaker
      .run('user', () => Promise.reject(new AuthServiceNotFoundError('user')))
      .catch(() => undefined);
    await breaker.run('user', unavailable).catch(() => undefined);
    await expect(breaker.run('user', () => Promise.resolve('ok'))).resolves.toBe('ok');
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
      circuitBreaker: { failureThreshold: 3, resetAfterMs: 300 },
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
    const started = performance.now();
    await expect(api.forToken(token).user()).rejects.toMatchObject({ reason: 'circuit-open' });
    expect(performance.now() - started).toBeLessThan(50);
    expect(emulator.requestCount('user')).toBe(reached);

    emulator.clearFaults();
    await new Promise((resolve) => setTimeout(resolve, 350));
    await expect(api.forToken(token).user()).resolves.toMatchObject({ username: ALICE.username });
    expect(emulator.requestCount('user')).toBe(reached + 1);
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
