import { describe, expect, it } from 'vitest';
import type { ServicePermission, ServicePermissionDefinition } from '../../lib/entities/index.js';
import { AuthServiceConflictError, AuthServiceNotFoundError } from '../../lib/errors/index.js';
import {
  planPermissionSync,
  syncPermissions,
  type PermissionStore,
} from '../../lib/client/permission-sync.js';

// The emulator cannot make a permission vanish between the read and the write of one
// sync, nor show the order of writes: an in-memory store of the same calls does.

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
  constructor(
    private current: ServicePermission[],
    private readonly put: 'ok' | 404 | 405,
  ) {}

  permissions(): Promise<ServicePermission[]> {
    this.log.push('list');
    return Promise.resolve(this.current.map((p) => ({ ...p })));
  }
  createPermission(definition: ServicePermissionDefinition): Promise<ServicePermission> {
    this.log.push(`create ${definition.name}`);
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
    this.log.push(`update ${id}`);
    if (this.put !== 'ok') {
      if (this.put === 404) this.current = this.current.filter((p) => p.id !== id);
      return Promise.reject(new AuthServiceNotFoundError('updatePermission', this.put));
    }
    return Promise.resolve({ ...definition, id });
  }
  deletePermission(id: string): Promise<void> {
    this.log.push(`delete ${id}`);
    if (!this.current.some((p) => p.id === id)) {
      return Promise.reject(new AuthServiceNotFoundError('deletePermission', 404));
    }
    this.current = this.current.filter((p) => p.id !== id);
    return Promise.resolve();
  }
}

describe('syncPermissions', () => {
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

  it('deletes, then updates, then creates', async () => {
    const store = new RecordingStore(upstream(), 'ok');
    const result = await syncPermissions(store, wanted);
    expect(store.log).toEqual(['list', 'delete 3', 'update 2', 'update 4', 'create new']);
    expect(result).toEqual({
      created: ['new'],
      updated: ['change', 'change2'],
      replaced: [],
      deleted: ['drop'],
      unchanged: ['keep'],
    });
  });

  it('falls back to delete and create after a 405, without trying PUT again', async () => {
    const store = new RecordingStore(upstream(), 405);
    const result = await syncPermissions(store, wanted);
    expect(store.log).toEqual([
      'list',
      'delete 3',
      'update 2',
      'delete 2',
      'create change',
      'delete 4',
      'create change2',
      'create new',
    ]);
    expect(result.replaced).toEqual(['change', 'change2']);
  });

  it('creates a permission that vanished before its update (404)', async () => {
    const store = new RecordingStore(upstream(), 404);
    const result = await syncPermissions(store, wanted);
    expect(result.created).toEqual(['change', 'change2', 'new']);
    expect(result.updated).toEqual([]);
    expect(store.log).toContain('update 4'); // a 404 says nothing about the endpoint: keep trying it
  });

  it('treats a permission deleted by someone else meanwhile as deleted', async () => {
    const store = new RecordingStore(
      upstream().filter((p) => p.name !== 'drop'),
      'ok',
    );
    store.permissions = () => Promise.resolve(upstream()); // read before the concurrent delete
    const result = await syncPermissions(store, wanted);
    expect(store.log).toContain('delete 3');
    expect(result.deleted).toEqual(['drop']);
  });

  it('propagates other failures', async () => {
    const store = new RecordingStore([{ ...flag('new'), id: '9' }], 'ok');
    store.permissions = () => Promise.resolve([]); // stale read: `new` exists after all
    await expect(syncPermissions(store, [flag('new')])).rejects.toBeInstanceOf(
      AuthServiceConflictError,
    );
  });
});

describe('planPermissionSync', () => {
  it('deletes a second upstream permission of the same name', () => {
    const plan = planPermissionSync(
      [
        { ...flag('a'), id: '1' },
        { ...flag('a'), id: '2' },
      ],
      [flag('a')],
    );
    expect(plan.deletes.map((p) => p.id)).toEqual(['2']);
    expect(plan.unchanged).toEqual(['a']);
  });

  it('compares label, description, type, values in order and default', () => {
    const base = flag('p', { type: 'string', values: ['x', 'y'], default: 'x' } as never);
    const current = [{ ...base, id: '1' }];
    for (const change of [
      { label: 'L' },
      { description: 'D' },
      { values: ['y', 'x'] },
      { values: ['x'] },
      { default: 'y' },
      { type: 'integer', values: [], default: 1 },
    ]) {
      const plan = planPermissionSync(current, [{ ...base, ...change } as never]);
      expect(plan.updates).toHaveLength(1);
    }
    expect(planPermissionSync(current, [base]).unchanged).toEqual(['p']);
  });
});
