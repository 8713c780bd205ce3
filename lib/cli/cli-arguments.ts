import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { AdminCredentials } from '../client/index.js';
import {
  CHANGED_PERMISSION_POLICIES,
  isChangedPermissionPolicy,
  type ChangedPermissionPolicy,
} from '../client/permission-sync.js';

/** The environment variables the command line reads, by the flag they stand in for. */
export const CLI_ENVIRONMENT = {
  url: 'APEX_AUTH_URL',
  service: 'APEX_AUTH_SERVICE',
  'admin-username': 'APEX_AUTH_ADMIN_USERNAME',
  'admin-password': 'APEX_AUTH_ADMIN_PASSWORD',
  'admin-token': 'APEX_AUTH_ADMIN_TOKEN',
} as const;

type EnvironmentFlag = keyof typeof CLI_ENVIRONMENT;

const OPTIONS = {
  schema: { type: 'string' },
  url: { type: 'string' },
  service: { type: 'string' },
  'admin-username': { type: 'string' },
  'admin-password': { type: 'string' },
  'admin-token': { type: 'string' },
  prune: { type: 'boolean' },
  'on-changed': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A wrong command line; its message says what to fix and never quotes a value. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

/** Where the schema comes from: `--schema <module>#<export>`. */
export interface SchemaReference {
  /** The module's path as given (relative to the working directory). */
  module: string;
  /** The export's name; `default` when the reference names none. */
  exportName: string;
}

/** A command line to carry out. */
export interface CliRun {
  command: 'plan' | 'sync';
  schema: SchemaReference;
  baseUrl: string;
  serviceName: string;
  admin: AdminCredentials;
  prune: boolean;
  onChanged: ChangedPermissionPolicy;
  json: boolean;
}

/** What the arguments ask for: the help, or a run. */
export type CliRequest = { help: true } | ({ help: false } & CliRun);

/**
 * Reads the arguments (without `node` and the script) and the environment.
 * Flags win over environment variables; admin credentials come from the flags
 * when any admin flag is given, else from the environment.
 *
 * @throws CliUsageError naming what is missing or wrong
 */
export function parseCliArguments(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CliRequest {
  const { values, positionals } = parseFlags(argv, OPTIONS, 'apex-auth --help');
  if (values.help === true) return { help: true };
  const [group, command, ...extra] = positionals;
  if (group !== 'permissions' || (command !== 'plan' && command !== 'sync')) {
    throw new CliUsageError(
      'the command is `apex-auth permissions plan` or `apex-auth permissions sync`; see apex-auth --help',
    );
  }
  if (extra.length > 0) {
    throw new CliUsageError(`permissions ${command} takes no further arguments than its options`);
  }
  const setting = (flag: EnvironmentFlag): string | undefined =>
    values[flag] ?? nonEmpty(env[CLI_ENVIRONMENT[flag]]);
  const onChanged = values['on-changed'] ?? 'keep';
  if (!isChangedPermissionPolicy(onChanged)) {
    throw new CliUsageError(
      `--on-changed must be one of ${CHANGED_PERMISSION_POLICIES.join(', ')}`,
    );
  }
  return {
    help: false,
    command,
    schema: schemaReference(values.schema),
    baseUrl: required(setting('url'), 'url'),
    serviceName: required(setting('service'), 'service'),
    admin: adminCredentials(values, env),
    prune: values.prune === true,
    onChanged,
    json: values.json === true,
  };
}

/**
 * `parseArgs` of `argv`, strictly (unknown options refused) and with positionals; a wrong
 * option is a {@link CliUsageError} that points to `help`, the command that documents it.
 */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: readonly string[],
  options: T,
  help: string,
): ReturnType<typeof parseArgs<{ options: T; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    // Node's messages name the option, never its value; the hint after the first sentence is noise here.
    const message = error instanceof Error ? (error.message.split(/\.\s/, 1)[0] ?? '') : '';
    throw new CliUsageError(`${message}; see ${help}`);
  }
}

/** How a flag is named in messages: `--url (or APEX_AUTH_URL)`. */
export function flagName(flag: EnvironmentFlag): string {
  return `--${flag} (or ${CLI_ENVIRONMENT[flag]})`;
}

function schemaReference(value: string | undefined): SchemaReference {
  if (value === undefined || value === '') {
    throw new CliUsageError(
      '--schema <module>#<export> is required: the compiled module that exports the permissions',
    );
  }
  const hash = value.lastIndexOf('#');
  const module = hash < 0 ? value : value.slice(0, hash);
  const exportName = hash < 0 ? 'default' : value.slice(hash + 1);
  if (module === '' || exportName === '') {
    throw new CliUsageError('--schema must be <module>#<export>, both parts non-empty');
  }
  return { module, exportName };
}

function adminCredentials(
  flags: Partial<Record<EnvironmentFlag, string>>,
  env: Readonly<Record<string, string | undefined>>,
): AdminCredentials {
  const adminFlags = ['admin-username', 'admin-password', 'admin-token'] as const;
  const fromFlags = adminFlags.some((flag) => flags[flag] !== undefined);
  const read = (flag: (typeof adminFlags)[number]): string | undefined =>
    fromFlags ? flags[flag] : nonEmpty(env[CLI_ENVIRONMENT[flag]]);
  const token = read('admin-token');
  const username = read('admin-username');
  const password = read('admin-password');
  if (token !== undefined) {
    if (username !== undefined || password !== undefined) {
      throw new CliUsageError(
        `give ${fromFlags ? 'the flags' : 'the environment'} either an admin token or an admin username and password, not both`,
      );
    }
    // Checked here so that the message names the flag; the token itself is never quoted.
    if (token === '' || /[^\x21-\x7e]/.test(token)) {
      throw new CliUsageError(`${flagName('admin-token')} must be a token without whitespace`);
    }
    return { token: () => token };
  }
  if (username === undefined && password === undefined) {
    throw new CliUsageError(
      `admin credentials are required: ${flagName('admin-username')} and ${flagName('admin-password')}, or ${flagName('admin-token')}`,
    );
  }
  return {
    username: required(username, 'admin-username'),
    password: required(password, 'admin-password'),
  };
}

function required(value: string | undefined, flag: EnvironmentFlag): string {
  if (value === undefined || value === '') throw new CliUsageError(`${flagName(flag)} is required`);
  return value;
}

/** An empty variable counts as unset, as shells and CI systems often leave them. */
function nonEmpty(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}
