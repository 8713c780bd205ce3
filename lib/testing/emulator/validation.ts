import { isPermissionType } from '../../client/permission-types.js';
import type { ValidationIssue } from './http.js';
import type { EmulatorPermissionSeed, WirePermission } from './options.js';

/** A permission as a client sends it: every field of {@link WirePermission} but the id. */
export type PermissionInput = Omit<WirePermission, 'id'>;

/** A validated value, or the FastAPI-style issues that make it invalid. */
export type Validated<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

// What each permission type accepts as a value, and how pydantic words a mismatch.
const VALUE_CHECKS = {
  string: {
    test: (value: unknown) => typeof value === 'string',
    what: 'string',
    code: 'string_type',
  },
  integer: { test: (value: unknown) => Number.isInteger(value), what: 'integer', code: 'int_type' },
  boolean: {
    test: (value: unknown) => typeof value === 'boolean',
    what: 'boolean',
    code: 'bool_type',
  },
} as const;

/**
 * Validates a permission body the way the real service's pydantic model does, reporting
 * every problem at once: text fields, `type`, `values` matching `type` (`[]` for boolean,
 * `[]` when absent) and `default` matching `type` and, when `values` is non-empty, one of them.
 * Unknown fields (an `id` included) are ignored.
 */
export function validatePermission(body: unknown): Validated<PermissionInput> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return {
      ok: false,
      issues: [
        {
          loc: ['body'],
          msg: 'Input should be a valid dictionary or object to extract fields from',
          type: 'model_attributes_type',
        },
      ],
    };
  }
  const fields = body as Record<string, unknown>;
  const get = (name: string): unknown => (Object.hasOwn(fields, name) ? fields[name] : undefined);
  const issues: ValidationIssue[] = [];

  const text = (name: string): string => {
    const value = get(name);
    if (value === undefined) issues.push(missing(name));
    else if (typeof value !== 'string') issues.push(wrongType(['body', name], 'string'));
    return typeof value === 'string' ? value : '';
  };
  const name = text('name');
  if (get('name') === '') {
    issues.push({
      loc: ['body', 'name'],
      msg: 'String should have at least 1 character',
      type: 'string_too_short',
    });
  }
  const label = text('label');
  const description = text('description');

  const rawType = get('type');
  let type: WirePermission['type'] | undefined;
  if (rawType === undefined) issues.push(missing('type'));
  else if (typeof rawType === 'string' && isPermissionType(rawType)) {
    type = rawType;
  } else {
    issues.push({
      loc: ['body', 'type'],
      msg: "Input should be 'string', 'integer' or 'boolean'",
      type: 'enum',
    });
  }

  const values = checkValues(get('values') ?? [], type, issues);

  const fallback = get('default');
  if (fallback === undefined) issues.push(missing('default'));
  else if (type !== undefined && !VALUE_CHECKS[type].test(fallback)) {
    issues.push(wrongType(['body', 'default'], type));
  } else if (values !== undefined && values.length > 0 && !values.includes(fallback)) {
    issues.push({
      loc: ['body', 'default'],
      msg: 'Value error, default must be one of values',
      type: 'value_error',
    });
  }

  if (issues.length > 0 || type === undefined || values === undefined) return { ok: false, issues };
  return {
    ok: true,
    value: {
      name,
      label,
      description,
      type,
      values: values as string[] | number[],
      default: fallback as string | number | boolean,
    },
  };
}

/**
 * Validates a permission seed as a `POST` body, with its defaults filled in first (label:
 * the name, description: `''`).
 */
export function validatePermissionSeed(seed: EmulatorPermissionSeed): Validated<PermissionInput> {
  return validatePermission({
    ...seed,
    label: seed.label ?? seed.name,
    description: seed.description ?? '',
  });
}

/**
 * A seed as a validated {@link PermissionInput} (label defaults to the name, description
 * to `''`); throws a `TypeError` listing what is wrong.
 */
export function permissionFromSeed(seed: EmulatorPermissionSeed): PermissionInput {
  const result = validatePermissionSeed(seed);
  if (result.ok) return result.value;
  const problems = result.issues.map((issue) => `${issue.loc.slice(1).join('.')}: ${issue.msg}`);
  throw new TypeError(
    `Invalid permission seed ${JSON.stringify(seed.name)}: ${problems.join('; ')}`,
  );
}

/** `missing` issues for each of `names` absent from `form` (FastAPI treats an empty form value as absent). */
export function missingFormFields(
  form: URLSearchParams,
  names: readonly string[],
): ValidationIssue[] {
  return names.filter((name) => formField(form, name) === undefined).map(missing);
}

/** A form field's value; `undefined` when absent or empty, as FastAPI reads forms. */
export function formField(form: URLSearchParams, name: string): string | undefined {
  const value = form.get(name);
  return value === null || value === '' ? undefined : value;
}

/** The values when they suit `type` (then every element has that type); else `undefined`. */
function checkValues(
  values: unknown,
  type: WirePermission['type'] | undefined,
  issues: ValidationIssue[],
): unknown[] | undefined {
  if (!Array.isArray(values)) {
    issues.push({
      loc: ['body', 'values'],
      msg: 'Input should be a valid list',
      type: 'list_type',
    });
    return undefined;
  }
  if (type === undefined) return undefined;
  if (type === 'boolean' && values.length > 0) {
    issues.push({
      loc: ['body', 'values'],
      msg: 'Value error, values must be empty for a boolean permission',
      type: 'value_error',
    });
    return undefined;
  }
  const before = issues.length;
  values.forEach((value: unknown, index) => {
    if (!VALUE_CHECKS[type].test(value)) issues.push(wrongType(['body', 'values', index], type));
  });
  return issues.length === before ? values : undefined;
}

function missing(name: string): ValidationIssue {
  return { loc: ['body', name], msg: 'Field required', type: 'missing' };
}

function wrongType(loc: (string | number)[], type: WirePermission['type']): ValidationIssue {
  const check = VALUE_CHECKS[type];
  return { loc, msg: `Input should be a valid ${check.what}`, type: check.code };
}
