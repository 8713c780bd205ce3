import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
const between = (from: string, to: string): string =>
  readme.slice(readme.indexOf(from), readme.indexOf(to, readme.indexOf(from)));
const install = between('## Install', '## Register the module');
const engines: string = manifest.engines.node;

describe('the README says what package.json says', () => {
  it('the peer tables list every peer dependency with its range, the optional ones apart', () => {
    /** The `name → range` of each row of a table in `text`. */
    const rowsOf = (text: string): Record<string, string> =>
      Object.fromEntries(
        [...text.matchAll(/^\| ((?:`[^`]+`(?:, )?)+) +\| `([^`]+)`/gm)].flatMap(
          ([, names, range]) =>
            [...names.matchAll(/`([^`]+)`/g)].map(([, name]) => [
              name,
              range.replaceAll('\\|', '|'),
            ]),
        ),
      );
    const optionalTable = install.indexOf('| optional peer');
    expect(optionalTable).toBeGreaterThan(0);
    const required = rowsOf(install.slice(0, optionalTable));
    const optional = rowsOf(install.slice(optionalTable));
    expect({ ...required, ...optional }).toEqual(manifest.peerDependencies);
    const meta: Record<string, { optional?: boolean }> = manifest.peerDependenciesMeta ?? {};
    expect(Object.keys(optional).sort()).toEqual(
      Object.keys(meta)
        .filter((name) => meta[name].optional)
        .sort(),
    );
  });

  it('the optional-peer table names exactly the optional peers', () => {
    const table = install.slice(install.indexOf('| optional peer'));
    const rows = table.slice(0, table.indexOf('\n\n'));
    const names = [...rows.matchAll(/^\| ((?:`[^`]+`(?:, )?)+) +\|/gm)].flatMap(([, cell]) =>
      [...cell.matchAll(/`([^`]+)`/g)].map(([, name]) => name),
    );
    const meta = (manifest.peerDependenciesMeta ?? {}) as Record<string, { optional?: boolean }>;
    const optional = Object.keys(meta).filter((name) => meta[name].optional === true);
    expect(names.sort()).toEqual(optional.sort());
    expect(optional.length).toBeGreaterThan(0);
  });

  it('the Node versions are the engines range, and CI runs on its lowest version', () => {
    expect(install).toContain(`**Node.js: \`${engines}\`**`);
    // As .ci/run reads it: the range names its lowest version first.
    const lowest = /\d+\.\d+\.\d+/.exec(engines)![0];
    expect(install).toContain(`CI runs on the lowest of them, Node ${lowest},`);
    const short = engines
      .split(' || ')
      .map((range) => range.replace(/^\^(\d+\.\d+)\.0$/, '$1+').replace(/^>=(\d+)\.0\.0$/, '$1+'));
    expect(readme).toContain(
      `with Node.js ${short.slice(0, -1).join(', ')} or ${short.at(-1)}, in this repository`,
    );
  });
});
