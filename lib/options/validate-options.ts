import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, type ValidationError } from 'class-validator';
import { ApexAuthOptionsError, type OptionProblem } from '../errors/index.js';

/** Constraints that only repeat, in class-validator's words, what a rule of ours said. */
const REDUNDANT = new Set(['nestedValidation']);

/**
 * Checks options against their class, once: every rule of every property at
 * any depth, unknown keys included (with the likely key when one is close), and
 * every problem reported in one {@link ApexAuthOptionsError}. Defaults are the
 * class's property initializers; functions, classes and objects with methods
 * marked `@AsGiven()` are kept as they are.
 *
 * @param root - the path of the options, for messages (`''` for top-level options)
 * @returns an instance of `type`, defaults applied
 */
export function validateOptions<T extends object>(type: new () => T, plain: unknown, root = ''): T {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    throw new ApexAuthOptionsError(root || 'options', 'must be an object');
  }
  // class-transformer would copy an object of a class (and construct another of its class):
  // objects with methods (a storage, a client, a schema) pass through it as stand-ins.
  const held = new Map<symbol, object>();
  const options = plainToInstance(type, shielded(plain, held), { exposeDefaultValues: true });
  unshield(options, held);
  const errors = validateSync(options, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: true, value: false },
  });
  const problems = errors.flatMap((error) => problemsOf(error, root));
  if (problems.length > 0) throw new ApexAuthOptionsError(problems);
  return options;
}

function problemsOf(error: ValidationError, parent: string): OptionProblem[] {
  const option = pathOf(parent, error.property);
  const constraints = Object.entries(error.constraints ?? {});
  const own = constraints.filter(([name]) => !REDUNDANT.has(name));
  const problems: OptionProblem[] = [];
  if (own.some(([name]) => name === 'whitelistValidation')) {
    problems.push({ option, problem: unknownOption(error) });
  } else if (own.length > 0) {
    problems.push({ option, problem: own[0][1] });
  }
  for (const child of error.children ?? []) problems.push(...problemsOf(child, option));
  return problems;
}

function pathOf(parent: string, property: string): string {
  if (/^\d+$/.test(property)) return `${parent}[${property}]`;
  return parent === '' ? property : `${parent}.${property}`;
}

/** `unknown option (did you mean serviceName?)` when a known key is close. */
function unknownOption(error: ValidationError): string {
  const known = knownOptions(error.target);
  const likely = closest(error.property, known);
  return likely === undefined ? 'unknown option' : `unknown option (did you mean ${likely}?)`;
}

function knownOptions(target: object | undefined): string[] {
  if (target === undefined) return [];
  return optionKeysOf(target.constructor as new () => object);
}

/** The keys an options class has rules for. */
export function optionKeysOf(type: abstract new (...args: never[]) => object): string[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(type, '', true, false);
  return [...new Set(metadata.map((rule) => rule.propertyName))];
}

/** What a duration option's name ends with: a name without it means that option (`ttl` → `ttlMs`). */
const UNITS = ['ms', 'seconds'];

/**
 * The known name a typo most likely meant: the name with its unit, or one within
 * two edits (one for short names), case aside.
 */
export function closest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const withUnit = known.find((key) =>
    UNITS.some((unit) => key.toLowerCase() === `${lower}${unit}`),
  );
  if (withUnit !== undefined) return withUnit;
  let best: { key: string; distance: number } | undefined;
  for (const key of known) {
    const distance = editDistance(lower, key.toLowerCase());
    if (best === undefined || distance < best.distance) best = { key, distance };
  }
  const allowed = name.length <= 4 ? 1 : 2;
  return best !== undefined && best.distance <= allowed ? best.key : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length];
}

/** A copy of plain data, with each object of a class replaced by a stand-in. */
function shielded(value: unknown, held: Map<symbol, object>): unknown {
  if (Array.isArray(value)) return value.map((each) => shielded(each, held));
  if (typeof value !== 'object' || value === null) return value;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    const standIn = Symbol('as given');
    held.set(standIn, value);
    return standIn;
  }
  return Object.fromEntries(
    Object.entries(value).map(([key, each]) => [key, shielded(each, held)]),
  );
}

/** Puts the objects {@link shielded} held back in place of their stand-ins. */
function unshield(target: object, held: Map<symbol, object>): void {
  for (const [key, value] of Object.entries(target)) {
    const original = typeof value === 'symbol' ? held.get(value) : undefined;
    if (original !== undefined) {
      (target as Record<string, unknown>)[key] = original;
    } else if (typeof value === 'object' && value !== null && held.size > 0) {
      unshield(value as object, held);
    }
  }
}
