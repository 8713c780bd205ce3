import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchAppConfig, BenchAppMessage } from '../app/bench-config.js';

/** Whether `taskset` can pin processes to a core here. */
export const CAN_PIN = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** The cores of the run: the app alone on one, the load generator and the auth-service on the other. */
export const APP_CORE = 1;
export const LOAD_CORE = 0;

/** A core's time so far (Linux's /proc/stat, in clock ticks): all of it, and the idle part. */
export interface CoreTimes {
  total: number;
  idle: number;
}

/** The times of one core, or `undefined` where /proc/stat cannot tell. */
export function coreTimes(core: number): CoreTimes | undefined {
  let stat: string;
  try {
    stat = readFileSync('/proc/stat', 'utf8');
  } catch {
    return undefined;
  }
  const line = stat.split('\n').find((row) => row.startsWith(`cpu${core} `));
  if (line === undefined) return undefined;
  // user nice system idle iowait irq softirq steal
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: ticks.reduce((sum, tick) => sum + tick, 0), idle: ticks[3] + ticks[4] };
}

/** Pins this process (the load generator) to a core, when it can. */
export function pinSelf(core: number): void {
  if (CAN_PIN) spawnSync('taskset', ['-a', '-cp', String(core), String(process.pid)]);
}

/** A node process of the bench, pinned to a core, with an IPC channel. */
export class BenchProcess {
  private constructor(private readonly child: ChildProcess) {}

  /** Its process id (the node process's: `taskset` execs it). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** @param nodeFlags - for node itself (`--cpu-prof`) */
  static start(
    script: string,
    args: string[],
    core: number,
    nodeFlags: string[] = [],
  ): BenchProcess {
    const path = fileURLToPath(new URL(script, import.meta.url));
    const node = [...nodeFlags, path, ...args];
    const command = CAN_PIN ? 'taskset' : process.execPath;
    const argv = CAN_PIN ? ['-c', String(core), process.execPath, ...node] : node;
    return new BenchProcess(
      spawn(command, argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
  }

  /** The next message of `type` (rejects when the process exits first). */
  next<M extends { type: string }>(type: M['type'], timeoutMs = 60_000): Promise<M> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => done(new Error(`no ${type} message in ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onMessage = (message: M): void => {
        if (message.type === type) done(undefined, message);
      };
      const onExit = (code: number | null): void =>
        done(new Error(`bench process exited (${code}) before sending ${type}`));
      const done = (error?: Error, message?: M): void => {
        clearTimeout(timer);
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        if (error) reject(error);
        else resolve(message!);
      };
      this.child.on('message', onMessage);
      this.child.on('exit', onExit);
    });
  }

  /** Asks for a message of `type` and waits for the answer of that type. */
  ask<M extends { type: string }>(type: M['type']): Promise<M> {
    const answer = this.next<M>(type);
    this.child.send({ type });
    return answer;
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.disconnect();
      setTimeout(() => this.child.kill(), 5_000).unref();
    });
  }
}

/** The emulator, started: its URL and its counters. */
export class EmulatorProcess {
  private constructor(
    private readonly process: BenchProcess,
    readonly url: string,
  ) {}

  static async start(): Promise<EmulatorProcess> {
    const process = BenchProcess.start('../app/serve-emulator.js', [], LOAD_CORE);
    const { url } = await process.next<{ type: 'listening'; url: string }>('listening');
    return new EmulatorProcess(process, url);
  }

  /** The requests the emulator received since the last call, all endpoints together. */
  async requestsSinceLast(): Promise<number> {
    const { counts } = await this.process.ask<{ type: 'counts'; counts: Record<string, number> }>(
      'counts',
    );
    return Object.values(counts).reduce((sum, count) => sum + count, 0);
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}

/** One app of the bench, started on its core. */
export class AppProcess {
  private constructor(
    private readonly process: BenchProcess,
    readonly url: string,
  ) {}

  /** @param profileDirectory - where to write a `--cpu-prof` profile of the app, if anywhere */
  static async start(config: BenchAppConfig, profileDirectory?: string): Promise<AppProcess> {
    // `gc` before each RSS reading, so that it tells what is kept, not when V8 last collected.
    const flags = [
      '--expose-gc',
      ...(profileDirectory === undefined
        ? []
        : ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}`]),
    ];
    const process = BenchProcess.start(
      '../app/serve.js',
      [JSON.stringify(config)],
      APP_CORE,
      flags,
    );
    const { port } =
      await process.next<Extract<BenchAppMessage, { type: 'listening' }>>('listening');
    return new AppProcess(process, `http://127.0.0.1:${port}`);
  }

  /** Its process id, which names its `--cpu-prof` profile. */
  get pid(): number | undefined {
    return this.process.pid;
  }

  /** Its resident set size now, in bytes. */
  async rss(): Promise<number> {
    return (await this.memory()).bytes;
  }

  /** Its resident set size and V8 heap in use now, after a `gc()`. */
  memory(): Promise<Extract<BenchAppMessage, { type: 'rss' }>> {
    return this.process.ask<Extract<BenchAppMessage, { type: 'rss' }>>('rss');
  }

  /** The CPU time it used so far, in µs. */
  async cpuMicros(): Promise<number> {
    return (await this.process.ask<Extract<BenchAppMessage, { type: 'cpu' }>>('cpu')).micros;
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}
