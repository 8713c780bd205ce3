import 'reflect-metadata';
import type { PermissionType, PermissionValue } from '../client/auth-service.entities.js';

/** Options of {@link PermissionField}. */
export interface PermissionFieldOptions<V extends PermissionValue = PermissionValue> {
  /** Human label for admin UIs. */
  label: string;
  description?: string;
  /** The value of a user who has none stored. */
  default: V;
  /** Allowed values (string and integer permissions); omitted or empty: any value of the type. */
  values?: readonly V[];
  /**
   * Overrides the type read from the property's TypeScript type
   * (`boolean` → `boolean`, `number` → `integer`, `string` → `string`).
   */
  type?: PermissionType;
  /** The permission's name upstream; defaults to the property name. */
  name?: string;
}

/** One decorated property of a permissions class. */
export interface PermissionFieldEntry {
  propertyKey: string;
  options: PermissionFieldOptions;
  /** The constructor TypeScript recorded as the property's type (`design:type`). */
  designType: unknown;
}

const PERMISSION_FIELDS = 'apex-auth:permission-fields';

/**
 * Declares a property of a permissions class as a permission of the service's
 * schema. The class is what `ApexAuthModule` syncs to the auth-service and what
 * `@CurrentUser('metadata')` is an instance of.
 *
 * @example
 * ```ts
 * class ShopPermissions {
 *   @PermissionField({ label: 'Can edit products', default: false })
 *   canEdit!: boolean;
 *
 *   @PermissionField({ label: 'Region', default: 'eu', values: ['eu', 'us'] })
 *   region!: string;
 * }
 * ```
 */
export function PermissionField<V extends PermissionValue>(
  options: PermissionFieldOptions<V>,
): PropertyDecorator {
  return (prototype, propertyKey) => {
    if (typeof propertyKey !== 'string') {
      throw new TypeError('@PermissionField() needs a string property name');
    }
    const target = prototype.constructor;
    // Copy rather than push, so a subclass never adds fields to its parent's list.
    const fields = [...getPermissionFields(target)];
    fields.push({
      propertyKey,
      options,
      designType: Reflect.getMetadata('design:type', prototype, propertyKey),
    });
    Reflect.defineMetadata(PERMISSION_FIELDS, fields, target);
  };
}

/** The decorated properties of a permissions class, its parents' first. */
export function getPermissionFields(target: object): readonly PermissionFieldEntry[] {
  return (
    (Reflect.getMetadata(PERMISSION_FIELDS, target) as PermissionFieldEntry[] | undefined) ?? []
  );
}
