/**
 * Loads an optional peer dependency (`@nestjs/swagger`, `@nestjs/terminus`), or
 * `undefined` when the app has not installed it. Nothing of the module imports
 * one statically, so that the module loads without them.
 *
 * `load` is the literal `() => import('<name>')` (as Nest's own `loadPackage`
 * takes it), so that bundlers see the package; a dynamic import keeps the
 * package ESM-friendly and loadable through `require(esm)` from CommonJS apps,
 * which a top-level `await` would break. Only the package itself missing counts
 * as absent: a package that is there but fails to load (one of its own
 * dependencies missing, say) is an error the app should see.
 */
export async function importOptionalPeer<T>(
  name: string,
  load: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await load();
  } catch (error) {
    if (isMissing(error, name)) return undefined;
    throw error;
  }
}

function isMissing(error: unknown, name: string): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  // Node: "Cannot find package '@nestjs/swagger' imported from …"; about the package, not one of its imports.
  return new RegExp(`['"]${name.replace(/[/.]/g, '\\$&')}['"]`).test(error.message);
}
