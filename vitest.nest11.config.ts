import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vitest/config';
import base from './vitest.config.js';

/** The second install (`npm ci --prefix test/nest11`): Nest 11 and its companions. */
const NEST11 = fileURLToPath(new URL('./test/nest11/', import.meta.url));

/**
 * Resolves every package that the Nest 11 install holds from there, as if it were imported
 * from inside that folder; everything else resolves as usual. The library's source and the
 * tests then import Nest 11, and so does every package Node loads natively from the install
 * (the platforms, the companions), since Node resolves their imports from their own location.
 */
function preferNest11Install(): Plugin {
  const importer = join(NEST11, 'package.json');
  const installed = new Map<string, boolean>();
  const isInstalled = (name: string): boolean => {
    let found = installed.get(name);
    if (found === undefined) {
      found = existsSync(join(NEST11, 'node_modules', name, 'package.json'));
      installed.set(name, found);
    }
    return found;
  };
  return {
    name: 'apex-auth:prefer-nest11-install',
    enforce: 'pre',
    resolveId(source, _importer, options) {
      const name = /^(?:@[^/]+\/)?[^/.][^/]*/.exec(source)?.[0];
      if (name === undefined || !isInstalled(name)) return null;
      return this.resolve(source, importer, { ...options, skipSelf: true });
    },
  };
}

/** `npm run test:nest11`: the end-to-end suite (Express and Fastify) against Nest 11. */
export default defineConfig({
  ...base,
  plugins: [preferNest11Install()],
  test: {
    ...base.test,
    name: 'nest11',
    include: ['test/e2e/**/*.spec.ts', 'examples/**/*.spec.ts'],
    env: { APEX_AUTH_NEST_INSTALL: NEST11 },
  },
});
