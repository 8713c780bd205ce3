import { AuthServiceEmulator } from '../testing/emulator/auth-service-emulator.js';
import type { EmulatorSeed } from '../testing/emulator/options.js';
import { CliUsageError } from './cli-arguments.js';
import { parseEmulatorArguments, type EmulatorCommandRun } from './emulator-arguments.js';
import { EMULATOR_HELP } from './emulator-help.js';
import { describeRunningEmulator, type PrintedToken } from './emulator-report.js';
import { loadSeed } from './load-seed.js';
import type { CliIo } from './run-cli.js';

/** The signals that stop `apex-auth emulator`: the process's, or a test's emitter. */
export interface StopSignals {
  on(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  off(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
}

// A working day: the printed tokens last as long as a session of local development.
const TOKEN_TTL_SECONDS = 8 * 3600;

/**
 * `apex-auth emulator [options]` (`argv`: what follows `emulator`): starts the emulator,
 * prints how to use it, and serves until SIGINT or SIGTERM, then stops it and resolves.
 *
 * @throws CliUsageError for a wrong flag or seed file, or a port it cannot listen on
 */
export async function runEmulatorCommand(
  argv: readonly string[],
  io: CliIo,
  signals: StopSignals,
): Promise<void> {
  const run = parseEmulatorArguments(argv);
  if (run.help) {
    io.stdout.write(EMULATOR_HELP);
    return;
  }
  // Listened for from the start, so that Ctrl-C while it starts stops it as well.
  const stop = stopSignal(signals);
  try {
    const seed = run.seedFile === undefined ? {} : loadSeed(run.seedFile, io.cwd ?? process.cwd());
    const emulator = await start(run, seed);
    try {
      for (const { fault, options } of run.failures) emulator.fail(fault, options);
      const tokens = (seed.users ?? []).map(({ username }): PrintedToken => [
        username,
        emulator.issueToken(username),
      ]);
      io.stdout.write(describeRunningEmulator(emulator, run, tokens, TOKEN_TTL_SECONDS));
      await stop.received;
    } finally {
      await emulator.stop();
    }
    io.stdout.write('auth-service emulator stopped\n');
  } finally {
    stop.release();
  }
}

async function start(run: EmulatorCommandRun, seed: EmulatorSeed): Promise<AuthServiceEmulator> {
  try {
    return await AuthServiceEmulator.start({
      port: run.port,
      // HS256 without a secret: a random one, printed.
      signing: run.signing === 'RS256' ? { algorithm: 'RS256' } : undefined,
      tokenTtlSeconds: TOKEN_TTL_SECONDS,
      latencyMs: run.latency,
      seed,
    });
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'EADDRINUSE') {
      throw new CliUsageError(`--port: ${run.port} is in use (--port 0 takes any free port)`);
    }
    if (code === 'EACCES') throw new CliUsageError(`--port: not allowed to listen on ${run.port}`);
    throw error;
  }
}

/** Resolves `received` on the first SIGINT or SIGTERM; `release()` stops listening. */
function stopSignal(signals: StopSignals): { received: Promise<void>; release(): void } {
  let release = (): void => undefined;
  const received = new Promise<void>((resolve) => {
    const stop = (): void => {
      release();
      resolve();
    };
    release = () => {
      signals.off('SIGINT', stop);
      signals.off('SIGTERM', stop);
    };
    signals.on('SIGINT', stop);
    signals.on('SIGTERM', stop);
  });
  return { received, release };
}
