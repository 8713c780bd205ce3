import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CliUsageError } from '../../lib/cli/cli-arguments.js';
import { parseEmulatorArguments } from '../../lib/cli/emulator-arguments.js';
import { EMULATOR_HELP } from '../../lib/cli/emulator-help.js';
import { ENDPOINTS } from '../../lib/testing/emulator/router.js';
import { emulatorCommand, stopAllCommands } from '../cli/fixtures/emulator-command.js';
import { parseEmulatorOutput } from '../cli/fixtures/emulator-output.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(
  readme.indexOf('## Run the emulator by hand'),
  readme.indexOf('## Coming from apexauthlib'),
);
const SEED = fileURLToPath(new URL('../../examples/emulator-seed.json', import.meta.url));

describe('the README, apex-auth emulator --help and the code agree', () => {
  afterEach(stopAllCommands);

  it('the README quotes --help verbatim', () => {
    expect(section).toContain(`\`\`\`text\n${EMULATOR_HELP}\`\`\``);
  });

  it('every flag --help names is one the command takes, and it lists every endpoint', () => {
    const flags = new Set(EMULATOR_HELP.match(/--[a-z][a-z-]*/g));
    expect([...flags].sort()).toEqual([
      '--fail',
      '--help',
      '--latency',
      '--port',
      '--seed',
      '--signing',
    ]);
    for (const flag of flags) {
      try {
        parseEmulatorArguments([flag, ...(flag === '--help' ? [] : ['x'])]);
      } catch (error) {
        // The value is wrong; the flag itself was understood.
        expect(error).toBeInstanceOf(CliUsageError);
        expect((error as Error).message).not.toMatch(/Unknown option/);
      }
    }
    const listed = /^Endpoints: ([^.]+)\./m.exec(EMULATOR_HELP)?.[1]?.split(/,\s+/);
    expect(listed).toEqual(ENDPOINTS);
  });

  it('the README shows what it prints for the example seed', async () => {
    const command = await emulatorCommand(['--port', '0', '--seed', SEED]);
    const { url, secret, tokens } = parseEmulatorOutput(command.stdout());
    let shown = command
      .stdout()
      .replaceAll(url, 'http://127.0.0.1:8000')
      .replace(secret!, '<secret>');
    for (const token of Object.values(tokens)) shown = shown.replace(token, '<token>');
    expect(section).toContain(`\`\`\`text\n${shown}\`\`\``);
  });
});
