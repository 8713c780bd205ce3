import { ApexAuthOptionsError, PermissionField } from '@apex/nest-auth';
import { PermissionSchema } from '../../lib/permissions/index.js';
import { describe, expect, it } from 'vitest';

class Shop {
  @PermissionField({ label: 'Edit', default: false })
  canEdit!: boolean;

  @PermissionField({
    label: 'Region',
    description: 'Sales region',
    default: 'eu',
    values: ['eu', 'us'],
  })
  region!: string;

  @PermissionField({ label: 'Level', default: 1, values: [1, 2, 3], name: 'access_level' })
  level!: number;
}

describe('PermissionSchema from a class', () => {
  const schema = PermissionSchema.from(Shop);

  it('derives names, types from the TypeScript types, and defaults', () => {
    expect(schema.definitions).toEqual([
      {
        name: 'canEdit',
        label: 'Edit',
        description: '',
        type: 'boolean',
        values: [],
        default: false,
      },
      {
        name: 'region',
        label: 'Region',
        description: 'Sales region',
        type: 'string',
        values: ['eu', 'us'],
        default: 'eu',
      },
      {
        name: 'access_level',
        label: 'Level',
        description: '',
        type: 'integer',
        values: [1, 2, 3],
        default: 1,
      },
    ]);
  });

  it('reads stored metadata into an instance, defaults for missing or unfit values, unknown keys dropped', () => {
    const metadata = schema.readMetadata({
      canEdit: true,
      region: 'mars',
      access_level: 3,
      extra: 'x',
    });
    expect(metadata).toBeInstanceOf(Shop);
    expect({ ...metadata }).toEqual({ canEdit: true, region: 'eu', level: 3 });
    expect(schema.valueIn(metadata, 'access_level')).toBe(3);
  });

  it('an explicit type overrides the property type', () => {
    class Typed {
      @PermissionField({ label: 'Tier', default: 'a', type: 'string' })
      tier!: 'a' | 'b';
    }
    expect(PermissionSchema.from(Typed).get('tier')?.type).toBe('string');
  });

  it('a subclass adds fields without changing its parent', () => {
    class More extends Shop {
      @PermissionField({ label: 'Extra', default: false })
      extra!: boolean;
    }
    expect(PermissionSchema.from(More).definitions.map((d) => d.name)).toContain('extra');
    expect(PermissionSchema.from(Shop).has('extra')).toBe(false);
  });
});

describe('PermissionSchema refuses a bad schema, naming the option', () => {
  const refusal = (build: () => unknown) => {
    try {
      build();
    } catch (error) {
      expect(error).toBeInstanceOf(ApexAuthOptionsError);
      return (error as Error).message;
    }
    throw new Error('accepted');
  };

  it('a default that is not one of its values', () => {
    class Bad {
      @PermissionField({ label: 'Region', default: 'mars', values: ['eu', 'us'] })
      region!: string;
    }
    expect(refusal(() => PermissionSchema.from(Bad))).toBe(
      'permissions.region.default: "mars" is not one of its values ["eu","us"]',
    );
  });

  it('two fields with one name', () => {
    class Twice {
      @PermissionField({ label: 'A', default: false, name: 'same' })
      a!: boolean;
      @PermissionField({ label: 'B', default: false, name: 'same' })
      b!: boolean;
    }
    expect(refusal(() => PermissionSchema.from(Twice))).toBe(
      'permissions: two permissions are named "same"',
    );
  });

  it('a property whose type cannot be a permission', () => {
    class Weird {
      @PermissionField({ label: 'List', default: 'x' })
      list!: string[];
    }
    expect(refusal(() => PermissionSchema.from(Weird))).toMatch(
      /^permissions\.list: cannot infer the permission type/,
    );
  });

  it('a field without decorator metadata (emitDecoratorMetadata off): says so, not "declare it boolean"', () => {
    // What a compiler without emitDecoratorMetadata makes of `@PermissionField() canEdit!: boolean`:
    // the decorator runs, and no `design:type` was recorded for the property.
    class Compiled {
      canEdit!: boolean;
    }
    PermissionField({ label: 'Edit', default: false })(Compiled.prototype, 'canEdit');
    expect(Reflect.getMetadata('design:type', Compiled.prototype, 'canEdit')).toBeUndefined();
    const message = refusal(() => PermissionSchema.from(Compiled));
    expect(message).toBe(
      'permissions.canEdit: has no type metadata, so its permission type cannot be read: compile with "experimentalDecorators" and "emitDecoratorMetadata" on (tsconfig), or pass `type`',
    );
    expect(message).not.toContain('declare it');
    // `type` is the way out without the metadata.
    class Typed {
      canEdit!: boolean;
    }
    PermissionField({ label: 'Edit', default: false, type: 'boolean' })(Typed.prototype, 'canEdit');
    expect(PermissionSchema.from(Typed).get('canEdit')?.type).toBe('boolean');
  });

  it('a class without fields, a default of the wrong type, values on a boolean, a non-integer', () => {
    class Empty {}
    expect(refusal(() => PermissionSchema.from(Empty))).toMatch(
      /^permissions: Empty has no property/,
    );
    expect(
      refusal(() => PermissionSchema.from([{ name: 'n', type: 'integer', default: 'one' }])),
    ).toBe('permissions[0].default: "one" is not a integer');
    expect(
      refusal(() =>
        PermissionSchema.from([{ name: 'b', type: 'boolean', default: true, values: ['x'] }]),
      ),
    ).toBe('permissions[0].values: a boolean permission takes no values');
    expect(
      refusal(() => PermissionSchema.from([{ name: 'n', type: 'integer', default: 1.5 }])),
    ).toBe('permissions[0].default: 1.5 is not a integer');
    expect(refusal(() => PermissionSchema.from([{ name: '', type: 'string', default: '' }]))).toBe(
      'permissions[0].name: must be a non-empty string',
    );
  });

  it('an array schema reads into a plain record', () => {
    const schema = PermissionSchema.from([{ name: 'canEdit', type: 'boolean', default: false }]);
    expect(schema.readMetadata({ canEdit: 'yes' })).toEqual({ canEdit: false });
    expect(schema.definitions[0]).toMatchObject({ label: 'canEdit', description: '', values: [] });
  });
});
