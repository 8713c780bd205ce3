import {
  STATUS_CODES,
  validateHeaderName,
  validateHeaderValue,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';

import type { EmulatorEndpoint, EmulatorFault, EmulatorFaultOptions } from './options.js';
import { isEndpoint } from './router.js';

interface FaultEntry {
  readonly fault: EmulatorFault;
  /** `undefined`: every endpoint. */
  readonly endpoints: ReadonlySet<EmulatorEndpoint> | undefined;
  /** `undefined`: until cleared. */
  remaining: number | undefined;
}

/**
 * The faults in force. The newest one matching an endpoint applies, and only that one
 * counts down its `times`. Faults are checked when added so that a bad one fails in the
 * test that wrote it rather than as a broken response later.
 */
export class FaultRegistry {
  private entries: FaultEntry[] = [];

  /** Adds a fault (a copy of it). */
  add(fault: EmulatorFault, options: EmulatorFaultOptions = {}): void {
    const checked = checkFault(fault);
    const { endpoints, times } = options;
    if (endpoints !== undefined) {
      if (!Array.isArray(endpoints) || endpoints.length === 0) {
        throw new RangeError('fault endpoints must be a non-empty array when given');
      }
      const unknown = endpoints.filter((endpoint) => !isEndpoint(endpoint));
      if (unknown.length > 0) throw new RangeError(`Unknown endpoints: ${unknown.join(', ')}`);
    }
    if (times !== undefined && (!Number.isInteger(times) || times < 1)) {
      throw new RangeError(`fault times must be a positive integer, got ${String(times)}`);
    }
    this.entries.push({
      fault: checked,
      endpoints: endpoints === undefined ? undefined : new Set(endpoints),
      remaining: times,
    });
  }

  /** Removes every fault. */
  clear(): void {
    this.entries = [];
  }

  /** The fault to apply to a request of `endpoint`, counting it down; `undefined` for none. */
  take(endpoint: EmulatorEndpoint): EmulatorFault | undefined {
    for (let index = this.entries.length - 1; index >= 0; index--) {
      const entry = this.entries[index];
      if (
        entry === undefined ||
        (entry.endpoints !== undefined && !entry.endpoints.has(endpoint))
      ) {
        continue;
      }
      if (entry.remaining !== undefined && --entry.remaining === 0) this.entries.splice(index, 1);
      return entry.fault;
    }
    return undefined;
  }
}

/** Produces `fault` instead of a normal answer. */
export function applyFault(fault: EmulatorFault, req: IncomingMessage, res: ServerResponse): void {
  switch (fault.kind) {
    case 'status': {
      const body = fault.body ?? JSON.stringify({ detail: STATUS_CODES[fault.status] ?? 'Error' });
      res.setHeader('content-type', fault.contentType ?? 'application/json');
      res.setHeader('content-length', Buffer.byteLength(body));
      for (const [name, value] of Object.entries(fault.headers ?? {})) res.setHeader(name, value);
      res.writeHead(fault.status);
      res.end(body);
      return;
    }
    case 'hang':
      // Deliberately nothing: the response stays open until the client gives up or stop().
      return;
    case 'reset':
      req.socket.destroy();
      return;
  }
}

function checkFault(fault: EmulatorFault): EmulatorFault {
  switch (fault?.kind) {
    case 'hang':
    case 'reset':
      return { kind: fault.kind };
    case 'status': {
      if (!Number.isInteger(fault.status) || fault.status < 200 || fault.status > 599) {
        throw new RangeError(
          `fault status must be an integer from 200 to 599, got ${String(fault.status)}`,
        );
      }
      if (fault.body !== undefined && typeof fault.body !== 'string') {
        throw new TypeError('fault body must be a string');
      }
      const headers = { ...fault.headers };
      if (fault.contentType !== undefined) validateHeaderValue('content-type', fault.contentType);
      for (const [name, value] of Object.entries(headers)) {
        validateHeaderName(name);
        validateHeaderValue(name, value);
      }
      return { ...fault, headers };
    }
    default:
      throw new TypeError(
        `fault kind must be 'status', 'hang' or 'reset', got ${JSON.stringify((fault as { kind?: unknown } | undefined)?.kind)}`,
      );
  }
}
