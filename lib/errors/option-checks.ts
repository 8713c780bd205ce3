import { ApexAuthOptionsError } from './apex-auth-options.error.js';

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

/**
 * Checks a numeric option, so that every one of them is refused with the same
 * kind of message: `cache.ttlMs: must be a number of milliseconds above 0`.
 *
 * @throws ApexAuthOptionsError naming the option
 */
export function checkNumberOption(value: unknown, option: string, range: NumberRange): number {
  const { min, aboveMin = false, max, integer = false } = range;
  const fits =
    typeof value === 'number' &&
    (integer ? Number.isSafeInteger(value) : Number.isFinite(value)) &&
    (aboveMin ? value > min : value >= min) &&
    (max === undefined || value <= max);
  if (!fits) throw new ApexAuthOptionsError(option, `must be ${describe(range)}`);
  return value;
}

function describe({ min, aboveMin, max, integer, unit }: NumberRange): string {
  const what = integer ? 'a whole number' : `a number of ${unit ?? 'units'}`;
  if (aboveMin) return `${what} above ${min}${max === undefined ? '' : ` and at most ${max}`}`;
  if (max !== undefined) return `${what} from ${min} to ${max}`;
  return `${what} ≥ ${min}`;
}

/**
 * Checks that an option is an object (not `null`, not an array), with the
 * same kind of message as the other option checks: `cache: must be false or { ttlMs, maxEntries }`.
 *
 * @param expected - what the option takes, for the message
 * @throws ApexAuthOptionsError naming the option
 */
export function assertObjectOption(
  value: unknown,
  option: string,
  expected = 'an object',
): asserts value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApexAuthOptionsError(option, `must be ${expected}`);
  }
}
