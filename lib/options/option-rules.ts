import 'reflect-metadata';
import { Transform, Type } from 'class-transformer';
import { ValidateBy, ValidateIf, ValidateNested } from 'class-validator';

// The rules of option classes: class-validator and class-transformer decorators
// with the module's own wording, so that every option is refused the same way
// (`cache.ttlMs: must be a number of milliseconds above 0`). Messages never
// quote the value: it may be a secret, or a URL holding one.

type Decorator = PropertyDecorator;

/** The numbers a numeric option accepts. */
export interface NumberRange {
  min: number;
  /** `min` itself is excluded: "above min". */
  aboveMin?: boolean;
  max?: number;
  integer?: boolean;
  /** What the number counts, for the message: `milliseconds`, `seconds`. */
  unit?: string;
}

/** Skips the property's rules when it is absent (`undefined`); `null` is still checked. */
export const Optional = (): Decorator => ValidateIf((_object, value) => value !== undefined);

/** A custom rule with a fixed message. */
export function Rule(name: string, holds: (value: unknown) => boolean, message: string): Decorator {
  return ValidateBy({ name, validator: { validate: holds, defaultMessage: () => message } });
}

/** A number in a range: `must be a number of milliseconds above 0`, `must be a whole number ≥ 1`. */
export function NumberIn(range: NumberRange): Decorator {
  const { min, aboveMin = false, max, integer = false } = range;
  return Rule(
    'numberIn',
    (value) =>
      typeof value === 'number' &&
      (integer ? Number.isSafeInteger(value) : Number.isFinite(value)) &&
      (aboveMin ? value > min : value >= min) &&
      (max === undefined || value <= max),
    `must be ${describeRange(range)}`,
  );
}

/** Milliseconds from `min` (default 0), optionally strictly above it or up to `max`. */
export const Milliseconds = (range: Partial<NumberRange> = {}): Decorator =>
  NumberIn({ min: 0, unit: 'milliseconds', ...range });

/** A whole number of at least `min`. */
export const WholeNumber = (range: Omit<NumberRange, 'integer'>): Decorator =>
  NumberIn({ ...range, integer: true });

export const NonEmptyString = (): Decorator =>
  Rule(
    'nonEmptyString',
    (value) => typeof value === 'string' && value !== '',
    'must be a non-empty string',
  );

/** Any string, the empty one included: what it must be is said by `message`. */
export const Text = (message = 'must be a string'): Decorator =>
  Rule('string', (value) => typeof value === 'string', message);

export const Bool = (): Decorator =>
  Rule('bool', (value) => typeof value === 'boolean', 'must be true or false');

/** One of a few strings: `must be 'fail' or 'warn'`. */
export function OneOf(values: readonly string[]): Decorator {
  const listed = values.map((value) => `'${value}'`);
  const words =
    listed.length > 1 ? `${listed.slice(0, -1).join(', ')} or ${listed.at(-1)}` : listed[0];
  return Rule('oneOf', (value) => values.includes(value as string), `must be ${words}`);
}

/** A string or a non-empty list of them, none empty. */
export const StringOrList = (): Decorator =>
  Rule(
    'stringOrList',
    (value) => {
      const values: unknown[] = Array.isArray(value) ? value : [value];
      return values.length > 0 && values.every((v) => typeof v === 'string' && v !== '');
    },
    'must be a non-empty string or array of them',
  );

/**
 * A value the options hold as it is, never copied or transformed: a function,
 * a class, an object with methods (a `ThrottlerStorage`, a client).
 */
export const AsGiven = (): Decorator =>
  Transform(({ obj, key }) => (obj as Record<string, unknown>)[key], { toClassOnly: true });

/** A nested options object, checked against its class (unknown keys included). */
export function Nested(type: () => new () => object, expected: string): Decorator {
  return compose(
    Type(type),
    Rule('objectOption', isPlainObjectLike, `must be ${expected}`),
    ValidateNested(),
  );
}

/** `false` (turned off), or a nested options object checked against its class. */
export function FalseOrNested(type: () => new () => object, expected: string): Decorator {
  return compose(
    Type(type),
    ValidateIf((_object, value) => value !== false),
    Rule('objectOption', isPlainObjectLike, `must be ${expected}`),
    ValidateNested(),
  );
}

/** `true`, `false`, or a nested options object checked against its class. */
export function BooleanOrNested(type: () => new () => object, expected: string): Decorator {
  return compose(
    Type(type),
    ValidateIf((_object, value) => typeof value !== 'boolean'),
    Rule('objectOption', isPlainObjectLike, `must be ${expected}`),
    ValidateNested(),
  );
}

function compose(...decorators: Decorator[]): Decorator {
  return (target, property) => {
    for (const decorator of decorators) decorator(target, property);
  };
}

function isPlainObjectLike(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeRange({ min, aboveMin, max, integer, unit }: NumberRange): string {
  const what = integer ? 'a whole number' : `a number of ${unit ?? 'units'}`;
  if (aboveMin) return `${what} above ${min}${max === undefined ? '' : ` and at most ${max}`}`;
  if (max !== undefined) return `${what} from ${min} to ${max}`;
  return `${what} ≥ ${min}`;
}
