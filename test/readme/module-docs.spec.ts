import { readFileSync } from 'node:fs';
import { getMetadataStorage } from 'class-validator';
import { ApexAuthModuleOptions } from '@apex/nest-auth';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = (from: string, to: string): string =>
  readme.slice(readme.indexOf(from), readme.indexOf(to, readme.indexOf(from)));

/** The option named in the first column of each table row of `text`. */
function tableKeys(text: string): string[] {
  return [...text.matchAll(/^\| `([A-Za-z0-9]+)`[^|]*\|/gm)].map((match) => match[1]);
}

describe('the README and the module agree', () => {
  it('the options table lists every option of the module, and only those', () => {
    const known = new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(ApexAuthModuleOptions, '', true, false)
        .map((rule) => rule.propertyName),
    );
    const extras = ['isGlobal', 'globalGuard', 'controller'];
    const listed = tableKeys(section('## Options\n', '`@PermissionField({'));
    expect(listed.sort()).toEqual([...known, ...extras].sort());
  });

  it('"Test your service" shows the example test file as it is', () => {
    const example = readFileSync(
      new URL('../../examples/shop/shop.spec.ts', import.meta.url),
      'utf8',
    );
    expect(readme).toContain('```ts title="examples/shop/shop.spec.ts"\n' + example + '```');
  });
});
