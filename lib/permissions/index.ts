export { PermissionField, type PermissionFieldOptions } from './permission-field.decorator.js';
export {
  PermissionSchema,
  type PermissionDefinitionInput,
  type PermissionsClass,
  type PermissionsSource,
} from './permission-schema.js';
export { type PermissionRequirement } from './permission-requirement.js';
