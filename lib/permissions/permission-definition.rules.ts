import { PERMISSION_TYPES } from '../client/permission-types.js';
import { plainToInstance } from 'class-transformer';
import { type PermissionType, type PermissionValue } from '../client/auth-service.entities.js';
import { NonEmptyString, OneOf, Optional, Rule, Text } from '../options/option-rules.js';

/**
 * The rules of one permission definition given as data (`permissions: [{ … }]`),
 * checked with the other options, unknown keys included (`lable`: did you mean
 * `label`?). What needs several fields at once (a default among the values,
 * unique names) is the schema's to check, once these hold.
 */
export class PermissionDefinitionRules {
  @NonEmptyString()
  name!: string;

  @OneOf(PERMISSION_TYPES)
  type!: PermissionType;

  @Rule('defined', (value) => value !== undefined, 'is required')
  default!: PermissionValue;

  @Optional()
  @Text()
  label?: string;

  @Optional()
  @Text()
  description?: string;

  @Optional()
  @Rule('array', (value) => Array.isArray(value), 'must be an array')
  values?: PermissionValue[];
}

/** Definitions given as data become instances of the rules; a class or a schema stays as given. */
export function asDefinitionRules(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((each: unknown) =>
    typeof each === 'object' && each !== null && !Array.isArray(each)
      ? plainToInstance(PermissionDefinitionRules, each)
      : each,
  );
}
