import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const entry = (path: string): string =>
  fileURLToPath(new URL(`../../lib/${path}`, import.meta.url));

/** Every name an entry point exports (types included), with the TSDoc of its declaration. */
function exportsOf(file: string): { name: string; documented: boolean }[] {
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    experimentalDecorators: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
  return checker.getExportsOfModule(moduleSymbol).map((symbol) => {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    const documented = (target.declarations ?? []).some(
      (declaration) => ts.getJSDocCommentsAndTags(declaration).length > 0,
    );
    return { name: symbol.getName(), documented };
  });
}

describe('the public API', () => {
  const root = exportsOf(entry('index.ts'));
  const testing = exportsOf(entry('testing/index.ts'));

  it('the root entry exports at most 45 names, types included, and no internals', () => {
    expect(root.length).toBeGreaterThan(20);
    expect(root.length).toBeLessThanOrEqual(45);
    const names = root.map(({ name }) => name);
    for (const internal of [
      'APEX_AUTH_SETTINGS',
      'MODULE_OPTIONS_TOKEN',
      'ApexAuthStrategy',
      'LoginAttemptLimiter',
      'RefusalDelay',
      'UserLookup',
    ]) {
      expect(names).not.toContain(internal);
    }
  });

  it('every export of both entries has TSDoc', () => {
    const undocumented = [...root, ...testing].filter(({ documented }) => !documented);
    expect(undocumented.map(({ name }) => name)).toEqual([]);
  });

  it("every export of the transports' entries has TSDoc, and each exports something", () => {
    for (const transport of ['graphql', 'websockets', 'microservices']) {
      const names = exportsOf(entry(`${transport}/index.ts`));
      expect(names.length, transport).toBeGreaterThan(0);
      expect(names.filter(({ documented }) => !documented).map(({ name }) => name)).toEqual([]);
    }
  });
});
