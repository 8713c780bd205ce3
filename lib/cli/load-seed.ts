import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EmulatorSeed } from '../testing/emulator/options.js';
import { checkEmulatorSeed, EmulatorSeedError } from '../testing/emulator/seed-check.js';
import { CliUsageError } from './cli-arguments.js';

/**
 * Reads and checks the seed file of `apex-auth emulator --seed`.
 *
 * @param cwd - what a relative path is relative to
 * @throws CliUsageError naming the file and, for a wrong seed, the path of each wrong
 * field (`users[1].password: …`); it never quotes the file's text, which holds passwords
 */
export function loadSeed(file: string, cwd: string): EmulatorSeed {
  let text: string;
  try {
    text = readFileSync(resolve(cwd, file), 'utf8');
  } catch (error) {
    const missing = (error as { code?: unknown } | null)?.code === 'ENOENT';
    throw new CliUsageError(`--seed: ${missing ? 'there is no file' : 'cannot read'} ${file}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new CliUsageError(`--seed ${file}: not valid JSON${jsonErrorPlace(text, error)}`);
  }
  try {
    return checkEmulatorSeed(document);
  } catch (error) {
    if (error instanceof EmulatorSeedError)
      throw new CliUsageError(`--seed ${file}: ${error.message}`);
    throw error;
  }
}

/** ` (line 3, column 5)` when the parser said where; its own message may quote the text. */
function jsonErrorPlace(text: string, error: unknown): string {
  const position = /at position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
  if (position === undefined) return '';
  const before = text.slice(0, Number(position));
  const line = before.split('\n').length;
  return ` (line ${line}, column ${before.length - before.lastIndexOf('\n')})`;
}
