import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ServicePermissionDefinition } from '../client/auth-service.entities.js';
import { checkSyncableSchema } from '../client/permission-plan.js';
import { PermissionSchema, type PermissionsSource } from '../permissions/index.js';
import { CliUsageError, type SchemaReference } from './cli-arguments.js';

/**
 * Imports the module of `--schema` (a compiled one: this runs in plain Node)
 * and checks its export as the module checks its `permissions` option.
 *
 * @param cwd - what a relative module path is relative to
 * @throws CliUsageError when the module cannot be imported or lacks the export
 * @throws ApexAuthOptionsError when the export is no valid, non-empty schema
 */
export async function loadSchema(
  reference: SchemaReference,
  cwd: string,
): Promise<readonly ServicePermissionDefinition[]> {
  const path = resolve(cwd, reference.module);
  if (!existsSync(path)) {
    throw new CliUsageError(`--schema: there is no file ${reference.module}`);
  }
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new CliUsageError(`--schema: cannot import ${reference.module}: ${importFailure(error)}`);
  }
  if (!Object.hasOwn(exports, reference.exportName)) {
    const names = Object.keys(exports).join(', ') || 'nothing';
    throw new CliUsageError(
      `--schema: ${reference.module} has no export named ${reference.exportName} (it exports ${names})`,
    );
  }
  const source = exports[reference.exportName] as PermissionsSource;
  const definitions = PermissionSchema.from(source, '--schema').definitions;
  checkSyncableSchema(definitions, '--schema');
  return definitions;
}

/** Not the error's message: a module's own error may say anything. */
function importFailure(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_MODULE_NOT_FOUND') {
    return 'a module it imports was not found (is @apex/nest-auth installed where it can import it?)';
  }
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION') return 'not a JavaScript module (compile it first)';
  return error instanceof Error ? `it threw ${error.name}` : 'it threw';
}
