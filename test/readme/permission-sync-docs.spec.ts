import { Logger } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI_ENVIRONMENT, CliUsageError, parseCliArguments } from '../../lib/cli/cli-arguments.js';
import { CLI_HELP } from '../../lib/cli/cli-help.js';
import { apexAuthSettings } from '../../lib/module/apex-auth.settings.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const syncSection = readme.slice(
  readme.indexOf('## Permission sync'),
  readme.indexOf('## Options'),
);

describe('the README, --help and the code agree', () => {
  it('the README quotes --help verbatim', () => {
    expect(syncSection).toContain(`\`\`\`text\n${CLI_HELP}\`\`\``);
  });

  it('every flag --help names is one the command line takes, and every variable it reads is named', () => {
    const flags = new Set(CLI_HELP.match(/--[a-z][a-z-]*/g));
    expect(flags.size).toBeGreaterThanOrEqual(10);
    for (const flag of flags) {
      const takesValue = new RegExp(`${flag} <|${flag} keep`).test(CLI_HELP);
      const args = ['permissions', 'plan', flag, ...(takesValue ? ['keep'] : [])];
      try {
        parseCliArguments(args, {});
      } catch (error) {
        // Whatever else is missing, the flag itself was understood.
        expect(error).toBeInstanceOf(CliUsageError);
        expect((error as Error).message).not.toMatch(/Unknown option/);
      }
    }
    for (const [flag, variable] of Object.entries(CLI_ENVIRONMENT)) {
      expect(CLI_HELP).toMatch(new RegExp(`--${flag} .*\\[${variable}\\]`));
    }
  });

  it('the sync options table lists every option of syncPermissions with its default', () => {
    const resolved = apexAuthSettings(
      {
        baseUrl: 'http://auth:8000',
        serviceName: 'shop',
        permissions: [{ name: 'canView', type: 'boolean', default: true }],
        admin: { token: () => 't' },
      },
      { logger: new Logger('test'), jwksFetcher: () => () => Promise.reject(new Error('unused')) },
    );
    expect(resolved.sync).not.toBe(false);
    const rows = [...syncSection.matchAll(/^\| `(\w+)` +\| (`[^`]+`) +\|/gm)].map(
      ([, option, fallback]) => [option, fallback],
    );
    expect(Object.fromEntries(rows)).toEqual(
      Object.fromEntries(
        Object.entries(resolved.sync as object).map(([option, value]) => [
          option,
          `\`${typeof value === 'string' ? `'${value}'` : String(value)}\``,
        ]),
      ),
    );
  });
});
