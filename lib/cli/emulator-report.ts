import type { AuthServiceEmulator } from '../testing/emulator/auth-service-emulator.js';
import type { EmulatorLatency } from '../testing/emulator/options.js';
import type { EmulatorCommandRun, EmulatorFailure } from './emulator-arguments.js';

/** A seeded user's username and the token printed for it. */
export type PrintedToken = readonly [username: string, token: string];

/**
 * What `apex-auth emulator` prints once it listens: its URL and settings, the options a
 * service needs to use it, and a token per seeded user. It holds the HS256 secret and
 * the tokens, deliberately: the command is a local testing tool.
 */
export function describeRunningEmulator(
  emulator: AuthServiceEmulator,
  run: EmulatorCommandRun,
  tokens: readonly PrintedToken[],
  tokenTtlSeconds: number,
): string {
  const jwt =
    emulator.hmacSecret === undefined
      ? `{ jwksUri: '${emulator.jwksUri}' }`
      : `{ secret: '${emulator.hmacSecret}' }`;
  const width = Math.max(0, ...tokens.map(([username]) => username.length));
  const lines = [
    `auth-service emulator on ${emulator.url} (for local development only: it prints its secret and test tokens)`,
    `  signing  ${run.signing}`,
    `  latency  ${describeLatency(run.latency)}`,
    `  faults   ${run.failures.map(describeFailure).join('; ') || 'none'}`,
    '',
    'Configure your service with:',
    `  baseUrl: '${emulator.url}',`,
    `  jwt: ${jwt}, // optional: without it, every new token is checked at the emulator`,
    '',
    tokens.length === 0
      ? 'No users in the seed, so no tokens: give --seed a file with users.'
      : `Tokens of the seeded users, valid for ${tokenTtlSeconds / 3600} hours (Authorization: Bearer <token>):`,
    ...tokens.map(([username, token]) => `  ${username.padEnd(width)}  ${token}`),
    '',
    'Ctrl-C stops it.',
  ];
  return `${lines.join('\n')}\n`;
}

function describeLatency(latency: EmulatorLatency | undefined): string {
  if (latency === undefined || latency === 0) return 'none';
  if (typeof latency === 'number') return `${latency} ms on every endpoint`;
  return Object.entries(latency)
    .map(([endpoint, ms]) => `${endpoint} ${ms} ms`)
    .join(', ');
}

function describeFailure({ fault, options }: EmulatorFailure): string {
  const what = fault.kind === 'status' ? String(fault.status) : fault.kind;
  const where = options.endpoints?.join(', ') ?? 'every endpoint';
  const times = options.times;
  if (times === undefined) return `${what} on ${where}`;
  return `${what} on ${where} (the next ${times === 1 ? 'request' : `${times} requests`})`;
}
