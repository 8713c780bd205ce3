import { HttpService } from '@nestjs/axios';
import axios from 'axios';
import { AuthApi, type AuthApiForToken } from '../client/index.js';
import {
  describePlan,
  describeSyncEvent,
  planHasChanges,
  summarizePlan,
  summarizeSync,
} from '../client/permission-sync.describe.js';
import type { ServicePermissionDefinition } from '../client/auth-service.entities.js';
import {
  ApexAuthOptionsError,
  AuthServiceForbiddenError,
  AuthServiceNotFoundError,
  AuthServiceUnauthorizedError,
  AuthServiceUnavailableError,
  PermissionSyncError,
  safeErrorMessage,
} from '../errors/index.js';
import { CliUsageError, flagName, parseCliArguments, type CliRun } from './cli-arguments.js';
import { CLI_HELP } from './cli-help.js';
import { runEmulatorCommand, type StopSignals } from './emulator-command.js';
import { loadSchema } from './load-schema.js';

/** Where the command line reads its settings and writes its output. */
export interface CliIo {
  /** The environment variables (`process.env`). */
  env: Readonly<Record<string, string | undefined>>;
  /** Human-readable lines, or the JSON document with `--json`. */
  stdout: { write(text: string): unknown };
  /** Error messages. */
  stderr: { write(text: string): unknown };
  /** What a relative `--schema` or `--seed` path is relative to (default: the process's working directory). */
  cwd?: string;
  /** What stops `apex-auth emulator` (default: the process's SIGINT and SIGTERM). */
  signals?: StopSignals;
}

/** Exit codes of `apex-auth`. */
export const CLI_EXIT = { ok: 0, error: 1, changesPlanned: 2 } as const;

/**
 * Runs `apex-auth` with `argv` (the arguments after the script name) and
 * returns its exit code: `0` nothing to change (plan) or done (sync), `2`
 * changes planned (plan), `1` an error, whose message goes to `stderr`.
 * Nothing it writes holds a password, token or upstream body, except
 * `apex-auth emulator`, which prints its test tokens and secret on purpose and
 * resolves `0` once stopped by a signal.
 *
 * @example
 * ```ts
 * const { env, stdout, stderr } = process;
 * process.exitCode = await runCli(['permissions', 'plan', '--schema', 'dist/permissions.js#ShopPermissions'], { env, stdout, stderr });
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    if (argv[0] === 'emulator') {
      await runEmulatorCommand(argv.slice(1), io, io.signals ?? process);
      return CLI_EXIT.ok;
    }
    const request = parseCliArguments(argv, io.env);
    if (request.help) {
      io.stdout.write(CLI_HELP);
      return CLI_EXIT.ok;
    }
    const wanted = await loadSchema(request.schema, io.cwd ?? process.cwd());
    const admin = await adminClient(request).asAdmin();
    return request.command === 'plan'
      ? await plan(admin, wanted, request, io)
      : await sync(admin, wanted, request, io);
  } catch (error) {
    io.stderr.write(`apex-auth: ${cliErrorMessage(error)}\n`);
    return CLI_EXIT.error;
  }
}

function adminClient(run: CliRun): AuthApi {
  return new AuthApi(new HttpService(axios.create()), {
    baseUrl: run.baseUrl,
    serviceName: run.serviceName,
    admin: run.admin,
    // One run, a handful of calls: nothing for a circuit breaker to protect.
    circuitBreaker: false,
  });
}

async function plan(
  admin: AuthApiForToken,
  wanted: readonly ServicePermissionDefinition[],
  run: CliRun,
  io: CliIo,
): Promise<number> {
  const planned = await admin.planPermissions(wanted, { deleteRemoved: run.prune });
  const changes = planHasChanges(planned);
  if (run.json) {
    writeJson(io, { service: run.serviceName, command: 'plan', changes, plan: planned });
  } else {
    for (const line of describePlan(planned, run.onChanged)) io.stdout.write(`${line}\n`);
    io.stdout.write(`${summarizePlan(run.serviceName, planned)}\n`);
  }
  return changes ? CLI_EXIT.changesPlanned : CLI_EXIT.ok;
}

async function sync(
  admin: AuthApiForToken,
  wanted: readonly ServicePermissionDefinition[],
  run: CliRun,
  io: CliIo,
): Promise<number> {
  const result = await admin.updatePermissions(wanted, {
    onChanged: run.onChanged,
    deleteRemoved: run.prune,
    // As they happen, so that a run that stops halfway has shown what it did.
    onEvent: run.json ? undefined : (event) => io.stdout.write(`${describeSyncEvent(event)}\n`),
  });
  if (run.json) writeJson(io, { service: run.serviceName, command: 'sync', result });
  else io.stdout.write(`${summarizeSync(run.serviceName, result)}\n`);
  return CLI_EXIT.ok;
}

function writeJson(io: CliIo, document: object): void {
  io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
}

/** The options the client checks, as the command line names them. */
const FLAG_OF_OPTION: Readonly<Record<string, Parameters<typeof flagName>[0]>> = {
  baseUrl: 'url',
  serviceName: 'service',
  'admin.username': 'admin-username',
  'admin.password': 'admin-password',
};

function cliErrorMessage(error: unknown): string {
  if (error instanceof CliUsageError) return error.message;
  if (error instanceof ApexAuthOptionsError) {
    const flag = FLAG_OF_OPTION[error.option];
    if (flag !== undefined) {
      return `${flagName(flag)}${error.message.slice(error.option.length)}`;
    }
  }
  const cause = error instanceof PermissionSyncError ? error.cause : error;
  const hint = hintFor(cause);
  return hint === undefined ? safeErrorMessage(error) : `${safeErrorMessage(error)}: ${hint}`;
}

/** What to check, for the failures a wrong setting causes. */
function hintFor(error: unknown): string | undefined {
  if (error instanceof AuthServiceUnavailableError) {
    return `is ${flagName('url')} right, and the auth-service up?`;
  }
  if (error instanceof AuthServiceUnauthorizedError) {
    return error.operation === 'login'
      ? 'check the admin username and password'
      : 'the admin token was refused: check it, it may have expired';
  }
  if (error instanceof AuthServiceForbiddenError) {
    return 'the admin must be an admin of the service, or a superadmin';
  }
  if (error instanceof AuthServiceNotFoundError && error.operation === 'permissions') {
    return `is ${flagName('service')} right?`;
  }
  return undefined;
}
