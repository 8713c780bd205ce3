import { PERMISSION_TYPES, isPermissionType } from '../client/permission-types.js';
import {
  type PermissionType,
  type PermissionValue,
  type ServicePermissionDefinition,
} from '../client/auth-service.entities.js';
import { ApexAuthOptionsError } from '../errors/index.js';
import { getPermissionFields, type PermissionFieldEntry } from './permission-field.decorator.js';

/** A permission given as a plain object: `label`, `description` and `values` may be left out. */
export type PermissionDefinitionInput = Pick<
  ServicePermissionDefinition,
  'name' | 'type' | 'default'
> &
  Partial<Pick<ServicePermissionDefinition, 'label' | 'description' | 'values'>>;

/** A permissions class (properties decorated with `@PermissionField`). */
export type PermissionsClass<T extends object = object> = new () => T;

/** Where a service's permission schema comes from: a permissions class or a list of definitions. */
export type PermissionsSource<T extends object = object> =
  PermissionsClass<T> | readonly PermissionDefinitionInput[];

/**
 * A service's permission schema, checked once at startup: what is synced to the
 * auth-service, and how stored metadata is read back (defaults filled in).
 */
export class PermissionSchema<T extends object = object> {
  private readonly byName: ReadonlyMap<string, ServicePermissionDefinition>;

  private constructor(
    /** The definitions, in declaration order. */
    readonly definitions: readonly ServicePermissionDefinition[],
    /** Property of the permissions class that holds each permission, by permission name. */
    private readonly propertyByName: ReadonlyMap<string, string>,
    private readonly metadataClass?: PermissionsClass<T>,
  ) {
    this.byName = new Map(definitions.map((definition) => [definition.name, definition]));
  }

  /**
   * Builds and checks a schema.
   *
   * @param option - the option path used in error messages
   * @throws ApexAuthOptionsError naming the option and the faulty permission
   */
  static from<T extends object>(
    source: PermissionsSource<T>,
    option = 'permissions',
  ): PermissionSchema<T> {
    if (typeof source === 'function') {
      const fields = getPermissionFields(source);
      if (fields.length === 0) {
        throw new ApexAuthOptionsError(
          option,
          `${source.name} has no property decorated with @PermissionField()`,
        );
      }
      const definitions = fields.map((field) =>
        definitionOfField(field, `${option}.${field.propertyKey}`),
      );
      checkUniqueNames(definitions, option);
      const properties = new Map(
        fields.map((field, i) => [definitions[i].name, field.propertyKey]),
      );
      return new PermissionSchema(definitions, properties, source);
    }
    if (!Array.isArray(source)) {
      throw new ApexAuthOptionsError(
        option,
        'must be a permissions class or an array of permissions',
      );
    }
    // Array.isArray narrows a readonly array to any[]: restore the element type.
    const inputs = source as readonly PermissionDefinitionInput[];
    const definitions = inputs.map((input, i) => checkedDefinition(input, `${option}[${i}]`));
    checkUniqueNames(definitions, option);
    return new PermissionSchema<T>(definitions, new Map(definitions.map((d) => [d.name, d.name])));
  }

  /** Whether the schema has a permission of that name. */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The definition of a permission, if the schema has it. */
  get(name: string): ServicePermissionDefinition | undefined {
    return this.byName.get(name);
  }

  /** Whether a user may hold that value for the named permission. */
  accepts(name: string, value: unknown): boolean {
    const definition = this.byName.get(name);
    return definition !== undefined && fitsDefinition(definition, value);
  }

  /** The value of a permission in metadata made by {@link readMetadata}. */
  valueIn(metadata: T, name: string): unknown {
    const property = this.propertyByName.get(name);
    return property === undefined ? undefined : (metadata as Record<string, unknown>)[property];
  }

  /**
   * A user's stored metadata as the service sees it: an instance of the
   * permissions class (or a plain record), one value per permission of the
   * schema, the default where the stored value is missing or does not fit the
   * schema. Keys the schema does not know are dropped.
   */
  readMetadata(stored: Readonly<Record<string, unknown>>): T {
    const metadata = (this.metadataClass ? new this.metadataClass() : {}) as Record<
      string,
      unknown
    >;
    for (const definition of this.definitions) {
      const value = stored[definition.name];
      metadata[this.propertyByName.get(definition.name)!] = fitsDefinition(definition, value)
        ? value
        : definition.default;
    }
    return metadata as T;
  }
}

function definitionOfField(
  field: PermissionFieldEntry,
  option: string,
): ServicePermissionDefinition {
  const { options } = field;
  return checkedDefinition(
    {
      name: options.name ?? field.propertyKey,
      label: options.label,
      description: options.description,
      type: options.type ?? typeOfDesign(field.designType, option),
      values: options.values as string[] | number[] | undefined,
      default: options.default,
    },
    option,
  );
}

function typeOfDesign(designType: unknown, option: string): PermissionType {
  if (designType === Boolean) return 'boolean';
  if (designType === Number) return 'integer';
  if (designType === String) return 'string';
  if (designType === undefined) {
    // No `design:type` at all: the compiler emitted no decorator metadata.
    throw new ApexAuthOptionsError(
      option,
      'has no type metadata, so its permission type cannot be read: compile with "experimentalDecorators" and "emitDecoratorMetadata" on (tsconfig), or pass `type`',
    );
  }
  throw new ApexAuthOptionsError(
    option,
    'cannot infer the permission type from the property type: declare it boolean, number or string, or pass `type`',
  );
}

function checkedDefinition(
  input: PermissionDefinitionInput,
  option: string,
): ServicePermissionDefinition {
  if (typeof input !== 'object' || input === null) {
    throw new ApexAuthOptionsError(option, 'must be an object');
  }
  const { name, type } = input;
  if (typeof name !== 'string' || name.trim() === '') {
    throw new ApexAuthOptionsError(`${option}.name`, 'must be a non-empty string');
  }
  if (!isPermissionType(type)) {
    throw new ApexAuthOptionsError(
      `${option}.type`,
      `must be one of ${PERMISSION_TYPES.join(', ')}`,
    );
  }
  const label = input.label ?? name;
  const description = input.description ?? '';
  if (typeof label !== 'string')
    throw new ApexAuthOptionsError(`${option}.label`, 'must be a string');
  if (typeof description !== 'string') {
    throw new ApexAuthOptionsError(`${option}.description`, 'must be a string');
  }
  const values = input.values ?? [];
  if (!Array.isArray(values))
    throw new ApexAuthOptionsError(`${option}.values`, 'must be an array');
  if (type === 'boolean' && values.length > 0) {
    throw new ApexAuthOptionsError(`${option}.values`, 'a boolean permission takes no values');
  }
  values.forEach((value: unknown, i) => {
    if (!fitsType(type, value)) {
      throw new ApexAuthOptionsError(
        `${option}.values[${i}]`,
        `${JSON.stringify(value)} is not a ${type}`,
      );
    }
  });
  if (new Set<unknown>(values).size !== values.length) {
    throw new ApexAuthOptionsError(`${option}.values`, 'has duplicates');
  }
  const definition: ServicePermissionDefinition = {
    name,
    label,
    description,
    type,
    values: [...values] as string[] | number[],
    default: input.default,
  };
  if (!fitsType(type, definition.default)) {
    throw new ApexAuthOptionsError(
      `${option}.default`,
      `${JSON.stringify(definition.default)} is not a ${type}`,
    );
  }
  if (!fitsDefinition(definition, definition.default)) {
    throw new ApexAuthOptionsError(
      `${option}.default`,
      `${JSON.stringify(definition.default)} is not one of its values ${JSON.stringify(values)}`,
    );
  }
  return definition;
}

function checkUniqueNames(
  definitions: readonly ServicePermissionDefinition[],
  option: string,
): void {
  const seen = new Set<string>();
  for (const { name } of definitions) {
    if (seen.has(name))
      throw new ApexAuthOptionsError(option, `two permissions are named "${name}"`);
    seen.add(name);
  }
}

function fitsType(type: PermissionType, value: unknown): value is PermissionValue {
  switch (type) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return Number.isSafeInteger(value);
    case 'string':
      return typeof value === 'string';
  }
}

function fitsDefinition(definition: ServicePermissionDefinition, value: unknown): boolean {
  if (!fitsType(definition.type, value)) return false;
  return definition.values.length === 0 || (definition.values as PermissionValue[]).includes(value);
}
