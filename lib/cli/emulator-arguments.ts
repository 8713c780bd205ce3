import type {
  EmulatorEndpoint,
  EmulatorFault,
  EmulatorFaultOptions,
  EmulatorLatency,
} from '../testing/emulator/options.js';
import { ENDPOINTS, isEndpoint } from '../testing/emulator/router.js';
import { CliUsageError, parseFlags } from './cli-arguments.js';

/** The port `apex-auth emulator` listens on without `--port`: the auth-service's usual one. */
export const EMULATOR_DEFAULT_PORT = 8000;

const HELP = 'apex-auth emulator --help';

const OPTIONS = {
  port: { type: 'string' },
  seed: { type: 'string' },
  signing: { type: 'string' },
  latency: { type: 'string' },
  fail: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

/** One `--fail`: the arguments of `AuthServiceEmulator.fail()`. */
export interface EmulatorFailure {
  fault: EmulatorFault;
  options: EmulatorFaultOptions;
}

/** An `apex-auth emulator` to run. */
export interface EmulatorCommandRun {
  port: number;
  /** The seed file's path as given (relative to the working directory); none: no seed. */
  seedFile: string | undefined;
  signing: 'HS256' | 'RS256';
  /** `--latency`; none: answers at once. */
  latency: EmulatorLatency | undefined;
  /** Every `--fail`, in the order given (the emulator applies the newest matching one). */
  failures: EmulatorFailure[];
}

/** What the arguments of `apex-auth emulator` ask for: its help, or a run. */
export type EmulatorCommandRequest = { help: true } | ({ help: false } & EmulatorCommandRun);

/**
 * Reads the arguments after `apex-auth emulator`.
 *
 * @throws CliUsageError naming the flag that is wrong
 */
export function parseEmulatorArguments(argv: readonly string[]): EmulatorCommandRequest {
  const { values, positionals } = parseFlags(argv, OPTIONS, HELP);
  if (values.help === true) return { help: true };
  if (positionals.length > 0) {
    throw new CliUsageError(`apex-auth emulator takes no arguments but its options; see ${HELP}`);
  }
  return {
    help: false,
    port: port(values.port),
    seedFile: values.seed,
    signing: signing(values.signing),
    latency: values.latency === undefined ? undefined : latency(values.latency),
    failures: (values.fail ?? []).map(failure),
  };
}

function port(value: string | undefined): number {
  if (value === undefined) return EMULATOR_DEFAULT_PORT;
  const number = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(number <= 65535)) {
    throw new CliUsageError('--port must be a port number from 0 to 65535 (0: any free port)');
  }
  return number;
}

function signing(value: string | undefined): 'HS256' | 'RS256' {
  const algorithm = (value ?? 'hs256').toUpperCase();
  if (algorithm !== 'HS256' && algorithm !== 'RS256') {
    throw new CliUsageError('--signing must be hs256 or rs256');
  }
  return algorithm;
}

/** `400` (every endpoint) or `user=200,permissions=400`. */
function latency(value: string): EmulatorLatency {
  if (/^\d+$/.test(value)) return Number(value);
  const byEndpoint: Partial<Record<EmulatorEndpoint, number>> = {};
  for (const entry of value.split(',')) {
    const [, name = '', ms] = /^([^=]*)=(\d+)$/.exec(entry) ?? [];
    if (ms === undefined) {
      throw new CliUsageError(
        '--latency must be milliseconds (400) or <endpoint>=<milliseconds>,… (user=200,permissions=400)',
      );
    }
    byEndpoint[endpoint(name, '--latency')] = Number(ms);
  }
  return byEndpoint;
}

/** `<fault>[@<endpoint>,…][:<times>]`, where a fault is a status, `hang` or `reset`. */
function failure(value: string): EmulatorFailure {
  const [, kind = '', endpoints, times] = /^([^@:]*)(?:@([^:]*))?(?::(.*))?$/.exec(value) ?? [];
  const options: EmulatorFaultOptions = {};
  if (endpoints !== undefined) {
    options.endpoints = endpoints.split(',').map((name) => endpoint(name, '--fail'));
  }
  if (times !== undefined) {
    if (!/^[1-9]\d*$/.test(times)) {
      throw new CliUsageError('--fail: the count after ":" must be a positive whole number');
    }
    options.times = Number(times);
  }
  return { fault: fault(kind), options };
}

function fault(kind: string): EmulatorFault {
  if (kind === 'hang' || kind === 'reset') return { kind };
  const status = /^\d{3}$/.test(kind) ? Number(kind) : NaN;
  if (!(status >= 200 && status <= 599)) {
    throw new CliUsageError(
      '--fail must be <fault>[@<endpoint>,…][:<times>], the fault a status from 200 to 599, hang or reset',
    );
  }
  return { kind: 'status', status };
}

function endpoint(name: string, flag: string): EmulatorEndpoint {
  if (isEndpoint(name)) return name;
  throw new CliUsageError(
    `${flag}: unknown endpoint ${JSON.stringify(name)} (the endpoints: ${ENDPOINTS.join(', ')})`,
  );
}
