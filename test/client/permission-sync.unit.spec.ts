import { describe, expect, it } from 'vitest';
import type {
  ServicePermission,
  ServicePermissionDefinition,
} from '../../lib/client/auth-service.entities.js';
import {
  ApexAuthOptionsError,
  AuthServiceConflictError,
  AuthServiceNotFoundError,
  AuthServiceUnavailableError,
  PermissionSyncError,
} from '../../lib/errors/index.js';
import {
  checkSyncableSchema,
  permissionDifferences,
  planPermissionSync,
} from '../../lib/client/permission-plan.js';
import {
  syncPermissions,
  type PermissionStore,
  type PermissionSyncEvent,
} from '../../lib/client/permission-sync.js';

// The emulator cannot make a permission appear or vanish between the read and the write
// of one sync, nor show the order of writes: an in-memory store of the same calls does.

const flag = (name: string, extra: Partial<ServicePermissionDefinition> = {}) => ({
  name,
  label: name,
  description: '',
  type: 'boolean' as const,
  values: [],
  default: false,
  ...extra,
});

class RecordingStore implements PermissionStore {
  readonly log: string[] = [];
  /** The permissions the next list answers with, once; then the real ones again. */
  staleList: ServicePermission[] | undefined;
  /** Fails the write whose log entry is this, once. */
  failOn: string | undefined;

  constructor(
    public current: ServicePermission[],
    private readonly put: 'ok' | 405,
  ) {}

  permissions(): Promise<ServicePermission[]> {
    this.log.push('list');
    const answer = this.staleList ?? this.current;
    this.staleList = undefined;
    return Promise.resolve(answer.map((p) => ({ ...p })));
  }
  createPermission(definition: ServicePermissionDefinition): Promise<ServicePermission> {
    this.write(`create ${definition.name}`);
    if (this.current.some((p) => p.name === definition.name)) {
      return Promise.reject(new AuthServiceConflictError('createPermission'));
    }
    const created = { ...definition, id: `new-${definition.name}` };
    this.current.push(created);
    return Promise.resolve(created);
  }
  updatePermission(
    id: string,
    definition: ServicePermissionDefinition,
  ): Promise<ServicePermission> {
    this.write(`update ${id}`);
    if (this.put === 405)
      return Promise.reject(new AuthServiceNotFoundError('updatePermission', 405));
    const index = this.current.findIndex((p) => p.id === id);
    if (index < 0) return Promise.reject(new AuthServiceNotFoundError('updatePermission', 404));
    this.current[index] = { ...definition, id };
    return Promise.resolve({ ...definition, id });
  }
  deletePermission(id: string): Promise<void> {
    this.write(`delete ${id}`);
    if (!this.current.some((p) => p.id === id)) {
      return Promise.reject(new AuthServiceNotFoundError('deletePermission', 404));
    }
    this.current = this.current.filter((p) => p.id !== id);
    return Promise.resolve();
  }

  private write(entry: string): void {
    this.log.push(entry);
    if (this.failOn === entry) {
      this.failOn = undefined;
      throw new AuthServiceUnavailableError('write', 'status', 503);
    }
  }
}

const upstream = (): ServicePermission[] => [
  { ...flag('keep'), id: '1' },
  { ...flag('change'), id: '2' },
  { ...flag('drop'), id: '3' },
  { ...flag('change2'), id: '4' },
];
const wanted = [
  flag('new'),
  flag('change', { default: true }),
  flag('keep'),
  flag('change2', { label: 'Changed' }),
];

async function run(store: RecordingStore, settings: Parameters<typeof syncPermissions>[2] = {}) {
  const events: PermissionSyncEvent[] = [];
  const result = await syncPermissions(store, wanted, {
    ...settings,
    onEvent: (event) => events.push(event),
  });
  return { result, events };
}

describe('syncPermissions', () => {
  it('updates, then creates, then deletes, telling each change as it is made', async () => {
    const store = new RecordingStore(upstream(), 'ok');
    const { result, events } = await run(store);
    expect(store.log).toEqual(['list', 'update 2', 'update 4', 'create new', 'delete 3']);
    expect(result).toEqual({
      created: ['new'],
      updated: ['change', 'change2'],
      replaced: [],
      outdated: [],
      deleted: ['drop'],
      kept: [],
      unchanged: ['keep'],
    });
    expect(events.map((event) => `${event.kind} ${event.name}`)).toEqual([
      'updated change',
      'updated change2',
      'created new',
      'deleted drop',
    ]);
    expect(events[1]).toMatchObject({
      fields: [{ field: 'label', old: 'change2', new: 'Changed' }],
    });
  });

  it('without in-place updates keeps changed permissions by default, trying PUT once', async () => {
    const store = new RecordingStore(upstream(), 405);
    const { result, events } = await run(store);
    expect(store.log).toEqual(['list', 'update 2', 'create new', 'delete 3']);
    expect(result.outdated).toEqual(['change', 'change2']);
    expect(result.updated).toEqual([]);
    expect(events.find((event) => event.name === 'change')).toEqual({
      kind: 'outdated',
      name: 'change',
      fields: [{ field: 'default', old: false, new: true }],
    });
    expect(store.current.find((p) => p.name === 'change')?.default).toBe(false);
  });

  it("'recreate' deletes and creates changed permissions without in-place updates", async () => {
    const store = new RecordingStore(upstream(), 405);
    const { result } = await run(store, { onChanged: 'recreate' });
    expect(store.log).toEqual([
      'list',
      'update 2',
      'delete 2',
      'create change',
      'delete 4',
      'create change2',
      'create new',
      'delete 3',
    ]);
    expect(result.replaced).toEqual(['change', 'change2']);
  });

  it("'fail' stops at the first changed permission before any write, naming it", async () => {
    const store = new RecordingStore(upstream(), 405);
    const error = await run(store, { onChanged: 'fail' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PermissionSyncError);
    expect(store.log).toEqual(['list', 'update 2']);
    const { message, done, notDone } = error as PermissionSyncError;
    expect(message).toMatch(/^permission change differs from the schema \(default false → true\)/);
    expect(message).toContain("onChanged 'fail'");
    expect(message).toContain(
      'done: nothing; not done: update change, update change2, create new, delete drop',
    );
    expect(done.created).toEqual([]);
    expect(notDone).toEqual(['update change', 'update change2', 'create new', 'delete drop']);
  });

  it('with deleteRemoved false keeps permissions that left the schema', async () => {
    const store = new RecordingStore(upstream(), 'ok');
    const { result, events } = await run(store, { deleteRemoved: false });
    expect(store.log).not.toContain('delete 3');
    expect(result.kept).toEqual(['drop']);
    expect(events).toContainEqual({ kind: 'kept', name: 'drop', id: '3', duplicate: false });
  });

  it('creates a permission that vanished before its update (404)', async () => {
    const store = new RecordingStore(upstream(), 'ok');
    store.staleList = upstream();
    store.current = store.current.filter((p) => p.name !== 'change');
    const { result } = await run(store);
    expect(result.created).toEqual(['change', 'new']);
    expect(result.updated).toEqual(['change2']); // a 404 says nothing about the endpoint: keep trying it
  });

  it('treats a permission deleted by someone else meanwhile as deleted', async () => {
    const store = new RecordingStore(
      upstream().filter((p) => p.name !== 'drop'),
      'ok',
    );
    store.staleList = upstream();
    const { result } = await run(store);
    expect(store.log).toContain('delete 3');
    expect(result.deleted).toEqual(['drop']);
  });

  it('a 409 on create: the permission someone else created is read again; the same is unchanged', async () => {
    const store = new RecordingStore([{ ...flag('new'), id: '9' }], 'ok');
    store.staleList = [];
    const result = await syncPermissions(store, [flag('new')]);
    expect(store.log).toEqual(['list', 'create new', 'list']);
    expect(result.unchanged).toEqual(['new']);
    expect(result.created).toEqual([]);
  });

  it('a 409 on create: a different one is a change like any other', async () => {
    const store = new RecordingStore([{ ...flag('new', { label: 'Theirs' }), id: '9' }], 'ok');
    store.staleList = [];
    const result = await syncPermissions(store, [flag('new')]);
    expect(store.log).toEqual(['list', 'create new', 'list', 'update 9']);
    expect(result.updated).toEqual(['new']);
  });

  it('gives up on a permission that keeps changing upstream, saying so', async () => {
    const store = new RecordingStore([], 'ok');
    // Every create conflicts, and every re-read shows nothing: someone keeps deleting it.
    store.createPermission = () => {
      store.log.push('create');
      return Promise.reject(new AuthServiceConflictError('createPermission'));
    };
    const error = await syncPermissions(store, [flag('new')]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PermissionSyncError);
    expect((error as Error).message).toMatch(/^permission new kept changing upstream/);
    expect(store.log.filter((entry) => entry === 'create')).toHaveLength(3);
  });

  it('a failed k-th write names what was done and not done; the next run finishes the job', async () => {
    const store = new RecordingStore(upstream(), 'ok');
    store.failOn = 'create new';
    const error = await run(store).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PermissionSyncError);
    const failure = error as PermissionSyncError;
    expect(failure.message).toBe(
      'auth-service unavailable (write: 503) at create new; done: updated change, change2; not done: create new, delete drop',
    );
    expect(failure.cause).toBeInstanceOf(AuthServiceUnavailableError);
    expect(failure.done.updated).toEqual(['change', 'change2']);
    expect(failure.notDone).toEqual(['create new', 'delete drop']);

    store.log.length = 0;
    const { result } = await run(store);
    expect(store.log).toEqual(['list', 'create new', 'delete 3']);
    expect(result.unchanged).toEqual(['change', 'keep', 'change2']);
    expect(store.current.map((p) => p.name).sort()).toEqual(['change', 'change2', 'keep', 'new']);
  });
});

describe('planPermissionSync', () => {
  it('keeps a second upstream permission of a wanted name, and never deletes it', () => {
    for (const deleteRemoved of [true, false]) {
      const plan = planPermissionSync(
        [
          { ...flag('a'), id: '1' },
          { ...flag('a'), id: '2' },
        ],
        [flag('a')],
        { deleteRemoved },
      );
      expect(plan.kept).toEqual([{ ...flag('a'), id: '2', duplicate: true }]);
      expect(plan.deletes).toEqual([]);
      expect(plan.unchanged).toEqual(['a']);
    }
  });

  it('plans to delete extras, or lists them as kept with deleteRemoved false', () => {
    const current = [
      { ...flag('a'), id: '1' },
      { ...flag('old'), id: '2' },
    ];
    expect(planPermissionSync(current, [flag('a')]).deletes).toEqual([current[1]]);
    const kept = planPermissionSync(current, [flag('a')], { deleteRemoved: false });
    expect(kept.deletes).toEqual([]);
    expect(kept.kept).toEqual([{ ...current[1], duplicate: false }]);
  });

  it('compares label, description, type, values in order and default, naming each difference', () => {
    const base = flag('p', { type: 'string', values: ['x', 'y'], default: 'x' } as never);
    const current = [{ ...base, id: '1' }];
    for (const [change, fields] of [
      [{ label: 'L' }, ['label']],
      [{ description: 'D' }, ['description']],
      [{ values: ['y', 'x'] }, ['values']],
      [{ values: ['x'] }, ['values']],
      [{ default: 'y' }, ['default']],
      [{ type: 'integer', values: [], default: 1 }, ['type', 'values', 'default']],
    ] as const) {
      const plan = planPermissionSync(current, [{ ...base, ...change } as never]);
      expect(plan.updates).toHaveLength(1);
      expect(plan.updates[0].fields.map((f) => f.field)).toEqual(fields);
    }
    expect(planPermissionSync(current, [base]).unchanged).toEqual(['p']);
    expect(permissionDifferences(base, { ...base, label: 'New' })).toEqual([
      { field: 'label', old: 'p', new: 'New' },
    ]);
  });

  it('refuses an empty wanted schema', () => {
    expect(() => checkSyncableSchema([], 'schema')).toThrow(ApexAuthOptionsError);
    expect(() => checkSyncableSchema([], 'schema')).toThrow(/^schema: is empty/);
  });
});
