import {
  AuthServiceEmulator,
  type EmulatorEndpoint,
  type EmulatorLatency,
} from '@apex/nest-auth/testing';
import { afterEach, describe, expect, it } from 'vitest';

import { bearer, call, json, permissionBody, type Answer } from './helpers.js';

// No timing is asserted: a delay of ten minutes is "not answered yet" for as long as any
// test runs, and a request that reaches no endpoint (never delayed) is the reference event.

const LONG = 600_000;
const seed = {
  users: [{ username: 'admin', password: 'pw' }],
  services: [{ name: 'billing', admins: ['admin'] }],
};

/** A request whose answer can be looked at before it arrives. */
function track(request: Promise<Answer>): { answered: () => boolean; answer: Promise<Answer> } {
  let answered = false;
  const answer = request.then((value) => {
    answered = true;
    return value;
  });
  answer.catch(() => undefined); // stop() cuts the delayed ones
  return { answered: () => answered, answer };
}

/** Resolves once the emulator has received `count` requests of `endpoint`. */
async function received(
  emulator: AuthServiceEmulator,
  endpoint: EmulatorEndpoint,
  count = 1,
): Promise<void> {
  while (emulator.requestCount(endpoint) < count) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('latency', () => {
  const emulators: AuthServiceEmulator[] = [];
  const start = async (latencyMs?: EmulatorLatency) => {
    const emulator = await AuthServiceEmulator.start({ seed, latencyMs });
    emulators.push(emulator);
    return emulator;
  };
  afterEach(async () => {
    await Promise.all(emulators.splice(0).map((emulator) => emulator.stop()));
  });

  it('{ permissions } holds back the answers of that endpoint only', async () => {
    const emulator = await start({ permissions: LONG });
    const token = emulator.issueToken('admin');
    const list = track(call(emulator, '/services/billing/permissions', bearer(token)));
    await received(emulator, 'permissions');
    const user = await call(emulator, '/auth/user', bearer(token));
    expect(user.status).toBe(200);
    expect((await call(emulator, '/nowhere')).status).toBe(404);
    expect(list.answered()).toBe(false);
  });

  it('a number holds back every endpoint', async () => {
    const emulator = await start(LONG);
    const user = track(call(emulator, '/auth/user'));
    await received(emulator, 'user');
    expect((await call(emulator, '/nowhere')).status).toBe(404);
    expect(user.answered()).toBe(false);
  });

  it('a slowed read answers the state as it was when it was read', async () => {
    const emulator = await start({ permissions: 50 });
    const token = emulator.issueToken('admin');
    const list = call(emulator, '/services/billing/permissions', bearer(token));
    await received(emulator, 'permissions');
    const created = await call(
      emulator,
      '/services/billing/permissions',
      json('POST', token, permissionBody()),
    );
    expect(created.status).toBe(201);
    expect((await list).body).toEqual({ data: { permissions: [] } });
    expect(emulator.permissionsOf('billing')).toHaveLength(1);
  });

  it('setLatency changes it at run time; requests already received keep theirs', async () => {
    const emulator = await start();
    const token = emulator.issueToken('admin');
    expect((await call(emulator, '/auth/user', bearer(token))).status).toBe(200);

    emulator.setLatency({ user: LONG });
    const slow = track(call(emulator, '/auth/user', bearer(token)));
    await received(emulator, 'user', 2);
    emulator.setLatency(0);
    expect((await call(emulator, '/auth/user', bearer(token))).status).toBe(200);
    expect(slow.answered()).toBe(false);
  });

  it('faulted answers are held back too', async () => {
    const emulator = await start({ login: LONG });
    emulator.fail({ kind: 'status', status: 503 }, { endpoints: ['login'] });
    const login = track(call(emulator, '/auth/login', { method: 'POST' }));
    await received(emulator, 'login');
    expect((await call(emulator, '/nowhere')).status).toBe(404);
    expect(login.answered()).toBe(false);
  });

  it('refuses a latency that is not a number of ms ≥ 0, or names an unknown endpoint', async () => {
    await expect(start(-1)).rejects.toThrow('latencyMs must be a number of milliseconds ≥ 0');
    await expect(start({ permissions: Number.NaN })).rejects.toThrow(
      'latencyMs.permissions must be a number of milliseconds ≥ 0',
    );
    await expect(start({ permission: 400 } as never)).rejects.toThrow(
      'latencyMs: unknown endpoint "permission"',
    );
    const emulator = await start();
    expect(() => emulator.setLatency([400] as never)).toThrow(
      'latencyMs must be a number or an object keyed by endpoint names',
    );
    expect(() => emulator.setLatency({ user: -5 })).toThrow(
      'latencyMs.user must be a number of milliseconds ≥ 0',
    );
  });
});
