import { AuthServicePayloadError } from '../errors/index.js';
import { isPathSegment } from './client-arguments.js';

/**
 * Checked reads of an untrusted upstream payload, each naming where it looks
 * (`data.permissions[2].type`), so that a payload that breaks the contract
 * becomes an {@link AuthServicePayloadError} for one operation instead of a
 * TypeError from deep inside the library.
 */
export class WireReader {
  /** @param operation - the client operation whose answer is read, for the error */
  constructor(private readonly operation: string) {}

  /** Throws the payload error for a field. */
  fail(path: string, problem: string): never {
    throw new AuthServicePayloadError(this.operation, path || 'body', problem);
  }

  /** An own property of a JSON object; never one inherited from `Object.prototype`. */
  field(object: Readonly<Record<string, unknown>>, key: string): unknown {
    return Object.hasOwn(object, key) ? object[key] : undefined;
  }

  /** A JSON object (not an array, not null). */
  object(value: unknown, path: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(path, value === undefined ? 'is missing' : 'must be an object');
    }
    return value as Record<string, unknown>;
  }

  /** A JSON array. */
  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) {
      this.fail(path, value === undefined ? 'is missing' : 'must be an array');
    }
    return value;
  }

  /** A string, possibly empty. */
  string(value: unknown, path: string): string {
    if (typeof value !== 'string') {
      this.fail(path, value === undefined ? 'is missing' : 'must be a string');
    }
    return value;
  }

  /** A string with at least one character. */
  nonEmptyString(value: unknown, path: string): string {
    const text = this.string(value, path);
    if (text === '') this.fail(path, 'must not be empty');
    return text;
  }

  /** A string that can be sent as one URL path segment: an id that the contract puts into paths. */
  pathSegment(value: unknown, path: string): string {
    const text = this.nonEmptyString(value, path);
    if (!isPathSegment(text)) {
      this.fail(path, 'cannot be sent as a URL path segment ("." or "..", or a lone surrogate)');
    }
    return text;
  }

  /** `true` or `false`. */
  boolean(value: unknown, path: string): boolean {
    if (typeof value !== 'boolean') {
      this.fail(path, value === undefined ? 'is missing' : 'must be a boolean');
    }
    return value;
  }

  /** A whole number within the safe integer range. */
  integer(value: unknown, path: string): number {
    if (!Number.isSafeInteger(value)) {
      this.fail(path, value === undefined ? 'is missing' : 'must be an integer');
    }
    return value as number;
  }

  /** A finite number, zero or more. */
  nonNegativeNumber(value: unknown, path: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      this.fail(path, value === undefined ? 'is missing' : 'must be a non-negative number');
    }
    return value;
  }

  /** FastAPI serializes an unset optional field as `null`: both mean absent. */
  optional<V>(value: unknown, read: (present: unknown) => V): V | undefined {
    return value === undefined || value === null ? undefined : read(value);
  }
}

/** `parent.key`, or `key` at the root. */
export function childPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/** `parent[index]`. */
export function itemPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}
