import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest request body the emulator accepts; larger ones get `413`. */
export const MAX_BODY_BYTES = 64 * 1024;

// Past the limit the rest is drained so the client can read the 413; past this much
// more, the client is not going to stop and the connection is cut instead.
const MAX_DRAIN_BYTES = 8 * 1024 * 1024;

/** One entry of a FastAPI `422` detail list (never with the offending input echoed). */
export interface ValidationIssue {
  readonly loc: (string | number)[];
  readonly msg: string;
  readonly type: string;
}

/** What a handler answers: a status, an optional JSON body and extra headers. */
export interface Reply {
  readonly status: number;
  /** Serialized as JSON; `undefined` sends no body at all (as for `204`). */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The challenge FastAPI's OAuth2 scheme adds to every `401`. */
export const BEARER_CHALLENGE: Readonly<Record<string, string>> = { 'WWW-Authenticate': 'Bearer' };

/** A FastAPI-style error: thrown by handlers, answered as `{"detail": ...}`. */
export class HttpError extends Error {
  /** The response status. */
  readonly status: number;
  /** A message, or the issue list of a `422`. */
  readonly detail: string | ValidationIssue[];
  /** Extra response headers. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    detail: string | ValidationIssue[],
    headers: Readonly<Record<string, string>> = {},
  ) {
    super(typeof detail === 'string' ? detail : 'Validation failed');
    this.name = 'HttpError';
    this.status = status;
    this.detail = detail;
    this.headers = headers;
  }

  /** This error as a reply. */
  toReply(): Reply {
    return { status: this.status, body: { detail: this.detail }, headers: this.headers };
  }
}

/** A `422` carrying `issues`. */
export function validationError(issues: ValidationIssue[]): HttpError {
  return new HttpError(422, issues);
}

/** The answer to a bug in the emulator itself; deliberately says nothing more. */
export const INTERNAL_ERROR_REPLY: Reply = {
  status: 500,
  body: { detail: 'Internal Server Error' },
};

/** The request body, or only the fact that it was over {@link MAX_BODY_BYTES}. */
export interface RequestBody {
  readonly bytes: Buffer;
  readonly tooLarge: boolean;
}

/**
 * Reads the whole body, keeping at most `limit` bytes. Rejects when the client goes
 * away before the body ends (then there is nobody left to answer).
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<RequestBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_DRAIN_BYTES) {
        req.socket.destroy();
      } else if (received <= limit) {
        chunks.push(chunk);
      }
    });
    req.on('end', () => {
      const tooLarge = received > limit;
      resolve({ bytes: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), tooLarge });
    });
    req.on('error', reject);
    // Settles nothing when 'end' came first; otherwise the body never will.
    req.on('close', () => reject(new Error('The request closed before its body ended')));
  });
}

/** The media type of the request (`content-type` without parameters, lower case). */
export function mediaType(req: IncomingMessage): string {
  const header = req.headers['content-type'] ?? '';
  return (header.split(';', 1)[0] ?? '').trim().toLowerCase();
}

/** The form fields of an `application/x-www-form-urlencoded` body; `undefined` for any other body. */
export function parseForm(req: IncomingMessage, body: Buffer): URLSearchParams | undefined {
  if (mediaType(req) !== 'application/x-www-form-urlencoded') return undefined;
  return new URLSearchParams(body.toString('utf8'));
}

/**
 * The JSON value of the body, or a FastAPI-like `422`: for a body that is not JSON
 * (by media type), empty, or malformed.
 */
export function parseJsonBody(req: IncomingMessage, body: Buffer): unknown {
  const type = mediaType(req);
  if (type !== 'application/json' && !/^application\/[^/]+\+json$/.test(type)) {
    throw validationError([
      {
        loc: ['body'],
        msg: 'Input should be a valid dictionary or object to extract fields from',
        type: 'model_attributes_type',
      },
    ]);
  }
  const text = body.toString('utf8');
  if (text.trim() === '') {
    throw validationError([{ loc: ['body'], msg: 'Field required', type: 'missing' }]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const position = /position (\d+)/.exec(error instanceof Error ? error.message : '');
    throw validationError([
      { loc: ['body', Number(position?.[1] ?? 0)], msg: 'JSON decode error', type: 'json_invalid' },
    ]);
  }
}

/**
 * Sends `reply` unless the response is already under way or the client is gone.
 * Headers go through `setHeader` so that a caller's header replaces a default
 * whatever its letter case.
 */
export function writeReply(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  const payload = reply.body === undefined ? undefined : JSON.stringify(reply.body);
  if (payload !== undefined) {
    res.setHeader('content-type', 'application/json');
    res.setHeader('content-length', Buffer.byteLength(payload));
  }
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  res.writeHead(reply.status);
  res.end(payload);
}
