import type { AuthServiceEmulator } from '@apex/nest-auth/testing';

/** JSON as the tests read it: loosely, field by field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted, not typed
export type Json = any;

/** A decoded HTTP answer: status, headers and the body (parsed when it is JSON). */
export interface Answer {
  status: number;
  headers: Headers;
  body: Json;
  text: string;
}

/** Sends a request to the emulator and reads the whole answer. */
export async function call(
  emulator: AuthServiceEmulator,
  path: string,
  init: RequestInit = {},
): Promise<Answer> {
  const response = await fetch(`${emulator.url}${path}`, init);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: parseIfJson(response, text),
  };
}

// Faults may label any text as JSON; such a body is kept as text for the test to assert.
function parseIfJson(response: Response, text: string): Json {
  if (!(response.headers.get('content-type') ?? '').includes('json') || text === '') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A urlencoded POST. */
export function form(fields: Record<string, string>): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  };
}

/** A JSON request with a Bearer token. */
export function json(method: string, token: string, body: unknown): RequestInit {
  return {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

/** A bodyless request with a Bearer token. */
export function bearer(token: string, method = 'GET'): RequestInit {
  return { method, headers: { authorization: `Bearer ${token}` } };
}

/** Logs in with the password grant and returns the token response. */
export async function login(
  emulator: AuthServiceEmulator,
  username: string,
  password: string,
): Promise<Json> {
  const answer = await call(emulator, '/auth/login', form({ username, password }));
  if (answer.status !== 200) throw new Error(`login failed: ${answer.status} ${answer.text}`);
  return answer.body;
}

/** The decoded header and payload of a compact JWS. */
export function decodeJwt(token: string): { header: Json; payload: Json } {
  const [header = '', payload = ''] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')),
  };
}

/** A valid permission body, with `overrides` applied. */
export function permissionBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'level',
    label: 'Level',
    description: 'Access level',
    type: 'integer',
    values: [1, 2, 3],
    default: 1,
    ...overrides,
  };
}
