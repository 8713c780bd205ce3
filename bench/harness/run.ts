/**
 * `npm run bench`: the emulator and the bench app on each adapter, measured
 * side by side with autocannon (see the README's "Performance" section).
 * `npm run bench -- --smoke` runs every scenario for a moment, to prove the
 * harness in CI; it measures nothing worth reading. Other flags:
 * `--rounds=N`, `--duration=S`, `--adapters=express,fastify`, `--only=public,new-local`
 * (those scenarios, in their apps), `--no-rss` (no RSS row), and `--profile`: each app runs under
 * `node --cpu-prof`, and the functions that took the most CPU are printed. The two
 * replicas' rows need `redis-server` on the PATH, and are left out without it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchAdapter, BenchMode } from '../app/bench-config.js';
import { runLoad, type LoadRequest, type LoadResult } from './load.js';
import {
  APP_CORE,
  AppProcess,
  CAN_PIN,
  coreTimes,
  EmulatorProcess,
  LOAD_CORE,
  pinSelf,
  type CoreTimes,
} from './processes.js';
import {
  markdown,
  summarize,
  type AdapterReport,
  type BenchReport,
  type RoundResult,
  type RssGrowth,
} from './report.js';
import {
  guarded,
  LOGIN_REQUEST,
  newTokenRequests,
  PUBLIC_REQUEST,
  SCENARIOS,
  type Scenario,
} from './scenarios.js';
import {
  monotonicMicros,
  perRequest,
  topFunctions,
  type ProfileWindow,
} from './profile-summary.js';
import { TokenMint } from './token-mint.js';
import { startRedis, type RunningRedis } from '../../test/fixtures/redis-server.js';

interface Settings {
  smoke: boolean;
  adapters: BenchAdapter[];
  rounds: number;
  durationSeconds: number;
  warmUpSeconds: number;
  connections: number;
  /** Distinct tokens sent through before the cached-token rows: more than the cache holds. */
  fillTokens: number;
  /** How many tokens the other replica validates before a run of `peer-tokens` (the run sends each once). */
  peerTokens: number;
  /** The RSS row: RSS is read after the first count of distinct tokens, then after the last. */
  rssCounts: [number, number];
  rssLimitMb: number;
  scenarios: readonly Scenario[];
  /** Whether to measure the RSS row (not with `--profile` nor `--no-rss`). */
  rss: boolean;
  /** Where the apps' CPU profiles go (`--profile`), if anywhere. */
  profileDirectory?: string;
}

function settingsOf(argv: string[]): Settings {
  const flag = (name: string): string | undefined =>
    argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
  const smoke = argv.includes('--smoke');
  const adapters = (flag('adapters') ?? 'express,fastify').split(',') as BenchAdapter[];
  return {
    smoke,
    adapters,
    rounds: Number(flag('rounds') ?? (smoke ? 1 : 3)),
    durationSeconds: Number(flag('duration') ?? (smoke ? 0.5 : 5)),
    warmUpSeconds: smoke ? 0.3 : 1,
    connections: 50,
    fillTokens: smoke ? 500 : 20_000,
    peerTokens: smoke ? 500 : 10_000,
    rssCounts: smoke ? [500, 1_500] : [50_000, 200_000],
    rssLimitMb: 20,
    scenarios: SCENARIOS.filter(
      (scenario) =>
        flag('only') === undefined ||
        scenario.id === 'public' ||
        flag('only')!.split(',').includes(scenario.id),
    ),
    rss: !argv.includes('--profile') && !argv.includes('--no-rss'),
    ...(argv.includes('--profile')
      ? {
          profileDirectory: fileURLToPath(
            new URL('../../../bench/results/profiles/', import.meta.url),
          ),
        }
      : {}),
  };
}

const SETTLE_MS = 300;

/** The share of a core's time it spent idle between two readings, if both could be made. */
function idleShare(
  before: CoreTimes | undefined,
  after: CoreTimes | undefined,
): number | undefined {
  if (before === undefined || after === undefined || after.total <= before.total) return undefined;
  return (after.idle - before.idle) / (after.total - before.total);
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The first guess of a new-token scenario's rate, to size the warm-up's tokens. */
const GUESSED_RATE = 30_000;

class AdapterBench {
  private readonly apps = new Map<BenchMode, AppProcess>();
  /** The other replica of `remote-redis`, which validates the tokens of `peer-tokens`. */
  private peer?: AppProcess;
  private readonly mint: TokenMint;
  /** The cached tokens: one per connection, validated in each warm-up. */
  private readonly cached: LoadRequest[][];
  readonly results: RoundResult[] = [];
  /** The app core's times when the measured run began. */
  private coreBefore?: CoreTimes;
  /** When the measured run began, on the monotonic clock (µs). */
  private runStartedUs = 0;
  /** The measured runs, by app process: where `--profile` finds each scenario's samples. */
  readonly windows: ProfileWindow[] = [];

  constructor(
    private readonly adapter: BenchAdapter,
    private readonly emulator: EmulatorProcess,
    private readonly settings: Settings,
    private readonly redis: RunningRedis | undefined,
  ) {
    this.mint = new TokenMint(`${adapter}-${Date.now()}`);
    this.cached = this.mint.many(settings.connections).map((token) => [guarded(token)]);
  }

  async run(): Promise<AdapterReport> {
    // One at a time: starting apps compete for the app's core.
    const scenarios = this.settings.scenarios;
    for (const mode of new Set([
      'local' as const,
      'remote' as const,
      ...scenarios.map((s) => s.mode),
    ])) {
      this.apps.set(mode, await this.start(mode));
    }
    if (this.apps.has('remote-redis')) this.peer = await this.start('remote-redis');
    // The first requests of a process run cold (the JIT has not compiled its hot paths yet).
    for (const app of this.apps.values()) await this.warmUp(app);
    try {
      const beforeFill = scenarios.filter((s) => s.beforeFill);
      if (beforeFill.length > 0) {
        await this.rounds([scenarios[0], ...beforeFill], 'public-before-fill');
      }
      for (const mode of ['local', 'remote'] as const)
        await this.pushNewTokens(this.app(mode), this.settings.fillTokens);
      await this.rounds(scenarios.filter((s) => !s.beforeFill));
    } finally {
      const apps = [...this.apps.values(), ...(this.peer === undefined ? [] : [this.peer])];
      await Promise.all(apps.map((app) => app.stop()));
    }
    const rss = this.settings.rss ? await this.rssGrowth() : undefined;
    return { scenarios: summarize(this.adapter, this.results), rounds: this.results, rss };
  }

  private start(mode: BenchMode): Promise<AppProcess> {
    return AppProcess.start(
      { adapter: this.adapter, mode, authServiceUrl: this.emulator.url, redisUrl: this.redis?.url },
      this.settings.profileDirectory,
    );
  }

  private app(mode: BenchMode): AppProcess {
    return this.apps.get(mode)!;
  }

  /** Every scenario once per round, in order, each round with a public run of its own. */
  private async rounds(scenarios: Scenario[], publicId = 'public'): Promise<void> {
    for (let round = 1; round <= this.settings.rounds; round++) {
      let baseline = { perSecond: Number.NaN, appCpuMicrosPerRequest: Number.NaN };
      for (const scenario of scenarios) {
        const measured = await this.measure(scenario);
        if (scenario.id === 'public') baseline = measured;
        this.results.push({
          ...measured,
          scenario: scenario.id === 'public' ? publicId : scenario.id,
          round,
          ratio: measured.perSecond / baseline.perSecond,
          cpuRatio: baseline.appCpuMicrosPerRequest / measured.appCpuMicrosPerRequest,
        });
        const { perSecond, failures } = measured;
        console.log(
          `${this.adapter} round ${round} ${scenario.id}: ${Math.round(perSecond)} req/s` +
            (failures > 0 ? `, ${failures} failed` : ''),
        );
      }
    }
  }

  private async measure(
    scenario: Scenario,
  ): Promise<Omit<RoundResult, 'scenario' | 'round' | 'ratio' | 'cpuRatio'>> {
    const app = this.app(scenario.mode);
    const { connections, warmUpSeconds, durationSeconds } = this.settings;
    const load = (requests: LoadRequest[] | LoadRequest[][], seconds: number, measured = false) =>
      runLoad({
        url: app.url,
        connections,
        requests,
        durationSeconds: seconds,
        ...(measured ? { onStart: () => this.markCoreStart() } : {}),
      });
    let result: LoadResult;
    let cpuBefore: number;
    if (scenario.traffic === 'peer-tokens') {
      // A fixed amount: the other replica validates each token first, at its own (slower) pace.
      await this.viaPeer(this.newTokens(this.settings.peerTokens / 5), warmUpSeconds);
      const requests = this.newTokens(this.settings.peerTokens);
      await this.pushThrough(this.peer!, requests);
      ({ result, cpuBefore } = await this.sendOnce(app, requests));
    } else if (scenario.traffic === 'new-tokens') {
      const warmUp = await runLoad({
        url: app.url,
        connections,
        requests: this.newTokens(GUESSED_RATE * warmUpSeconds),
        durationSeconds: warmUpSeconds,
      });
      // Exactly as many tokens as the measured run sends: none is ever sent twice.
      const amount = Math.max(connections, Math.ceil(warmUp.perSecond * durationSeconds));
      ({ result, cpuBefore } = await this.sendOnce(app, this.newTokens(amount)));
    } else {
      const requests =
        scenario.traffic === 'public'
          ? [PUBLIC_REQUEST]
          : scenario.traffic === 'login'
            ? [LOGIN_REQUEST]
            : this.cached;
      await load(requests, warmUpSeconds);
      await this.settle();
      cpuBefore = await app.cpuMicros();
      result = await load(requests, durationSeconds, true);
    }
    this.windows.push({
      pid: app.pid,
      label: `${this.adapter} ${scenario.id}`,
      fromUs: this.runStartedUs,
      toUs: monotonicMicros(),
      requests: result.requests,
    });
    const cpu = (await app.cpuMicros()) - cpuBefore;
    const coreAfter = CAN_PIN ? coreTimes(APP_CORE) : undefined;
    await sleep(SETTLE_MS);
    const upstream = await this.emulator.requestsSinceLast();
    return {
      perSecond: result.perSecond,
      p99Ms: result.p99Ms,
      upstreamPerRequest: result.requests > 0 ? upstream / result.requests : 0,
      appCpuMicrosPerRequest: result.requests > 0 ? cpu / result.requests : 0,
      appBusy: result.seconds > 0 ? cpu / (result.seconds * 1e6) : 0,
      appCoreIdle: idleShare(this.coreBefore, coreAfter),
      rssBytes: await app.rss(),
      failures: result.failures,
    };
  }

  /** Notes the app core's times as a measured run's connections start (its requests are built by then). */
  private markCoreStart(): void {
    this.coreBefore = CAN_PIN ? coreTimes(APP_CORE) : undefined;
    this.runStartedUs = monotonicMicros();
  }

  /** Settles, then sends every request of the lists once: the measured run, and the app's CPU before it. */
  private async sendOnce(
    app: AppProcess,
    requests: LoadRequest[][],
  ): Promise<{ result: LoadResult; cpuBefore: number }> {
    await this.settle();
    const cpuBefore = await app.cpuMicros();
    return { result: await this.sendAll(app, requests, () => this.markCoreStart()), cpuBefore };
  }

  /** A few seconds of the public route and of cached tokens, unmeasured. */
  private async warmUp(app: AppProcess): Promise<void> {
    const seconds = this.settings.smoke ? 0.3 : 4;
    const { connections } = this.settings;
    await runLoad({
      url: app.url,
      connections,
      requests: [PUBLIC_REQUEST],
      durationSeconds: seconds,
    });
    await runLoad({ url: app.url, connections, requests: this.cached, durationSeconds: seconds });
  }

  /**
   * Lets the app finish what the load generator left in flight (it stops
   * without waiting for answers), then starts the emulator's counts afresh.
   */
  private async settle(): Promise<void> {
    await sleep(SETTLE_MS);
    await this.emulator.requestsSinceLast();
  }

  /** At least `count` new tokens, in one list per connection. */
  private newTokens(count: number): LoadRequest[][] {
    const { connections } = this.settings;
    return newTokenRequests(this.mint, connections, Math.ceil(count / connections));
  }

  /** Sends `count` distinct new tokens through an app, in chunks (the requests are built up front). */
  private async pushNewTokens(app: AppProcess, count: number): Promise<void> {
    const chunk = 25_000;
    for (let sent = 0; sent < count; sent += chunk) {
      await this.pushThrough(app, this.newTokens(Math.min(chunk, count - sent)));
    }
  }

  /** Sends every request of the lists through an app once. */
  private async pushThrough(app: AppProcess, requests: LoadRequest[][]): Promise<void> {
    const result = await this.sendAll(app, requests);
    if (result.failures > 0)
      console.warn(`${this.adapter}: ${result.failures} of the distinct tokens failed`);
  }

  private sendAll(
    app: AppProcess,
    requests: LoadRequest[][],
    onStart?: () => void,
  ): Promise<LoadResult> {
    return runLoad({
      url: app.url,
      connections: this.settings.connections,
      requests,
      amount: requests.length * requests[0].length,
      ...(onStart === undefined ? {} : { onStart }),
    });
  }

  /** The warm-up of `peer-tokens`: tokens validated on the other replica, then used here, unmeasured. */
  private async viaPeer(requests: LoadRequest[][], seconds: number): Promise<void> {
    await this.pushThrough(this.peer!, requests);
    await runLoad({
      url: this.app('remote-redis').url,
      connections: this.settings.connections,
      requests,
      durationSeconds: seconds,
    });
  }

  /** RSS of a fresh local-mode app after the first count of distinct tokens, and after the last. */
  private async rssGrowth(): Promise<RssGrowth> {
    const [firstCount, lastCount] = this.settings.rssCounts;
    const app = await this.start('local');
    try {
      await this.pushNewTokens(app, firstCount);
      const first = await app.memory();
      await this.pushNewTokens(app, lastCount - firstCount);
      const last = await app.memory();
      const mb = (bytes: number): number => Number((bytes / 2 ** 20).toFixed(1));
      const growthMb = mb(last.bytes - first.bytes);
      console.log(`${this.adapter} RSS: ${mb(first.bytes)} MB → ${mb(last.bytes)} MB`);
      return {
        firstCount,
        lastCount,
        firstMb: mb(first.bytes),
        lastMb: mb(last.bytes),
        firstHeapMb: mb(first.heapUsedBytes),
        lastHeapMb: mb(last.heapUsedBytes),
        growthMb,
        limitMb: this.settings.rssLimitMb,
        met: growthMb < this.settings.rssLimitMb,
      };
    } finally {
      await app.stop();
    }
  }
}

const chosen = settingsOf(process.argv.slice(2));
pinSelf(LOAD_CORE);
const wantsRedis = chosen.scenarios.some((scenario) => scenario.mode === 'remote-redis');
const hasRedis = spawnSync('redis-server', ['--version']).error === undefined;
if (wantsRedis && !hasRedis) {
  console.warn(
    'redis-server is not on the PATH (apt-get install -y redis-server): no replicas rows',
  );
}
const settings: Settings = hasRedis
  ? chosen
  : { ...chosen, scenarios: chosen.scenarios.filter((s) => s.mode !== 'remote-redis') };
// A child of this process: on the load generator's core (pinned above), with the emulator.
const redis = wantsRedis && hasRedis ? await startRedis() : undefined;
if (settings.profileDirectory !== undefined) {
  rmSync(settings.profileDirectory, { recursive: true, force: true });
}
const startedAt = new Date().toISOString();
const loadStart = loadavg()[0];
const emulator = await EmulatorProcess.start();
const adapters: BenchReport['adapters'] = {};
const windows: ProfileWindow[] = [];
try {
  for (const adapter of settings.adapters) {
    const bench = new AdapterBench(adapter, emulator, settings, redis);
    adapters[adapter] = await bench.run();
    windows.push(...bench.windows);
  }
} finally {
  await emulator.stop();
  await redis?.stop();
}
const report: BenchReport = {
  startedAt,
  finishedAt: new Date().toISOString(),
  smoke: settings.smoke,
  node: process.versions.node,
  cpus: cpus().length,
  pinned: CAN_PIN,
  connections: settings.connections,
  rounds: settings.rounds,
  durationSeconds: settings.durationSeconds,
  warmUpSeconds: settings.warmUpSeconds,
  loadAverage: { start: loadStart, end: loadavg()[0] },
  adapters,
};
if (settings.profileDirectory !== undefined) {
  for (const file of readdirSync(settings.profileDirectory)) {
    const path = join(settings.profileDirectory, file);
    // `CPU.<date>.<time>.<pid>.<thread>.<sequence>.cpuprofile`
    const pid = Number(file.split('.')[3]);
    const measured = windows.filter((window) => window.pid === pid);
    console.log(`\n${file}\n${topFunctions(path).join('\n')}`);
    if (measured.length > 0) console.log(`\n${perRequest(path, measured).join('\n')}`);
  }
}
const directory = new URL('../../../bench/results/', import.meta.url);
mkdirSync(directory, { recursive: true });
const name = settings.smoke ? 'smoke' : 'latest';
writeFileSync(new URL(`${name}.json`, directory), `${JSON.stringify(report, null, 2)}\n`);
const table = markdown(report);
writeFileSync(new URL(`${name}.md`, directory), table);
console.log(`\n${table}`);
const failed = Object.values(adapters).some((adapter) =>
  adapter.scenarios.some((scenario) => scenario.failures > 0),
);
// Timings are never judged here; requests that failed mean the harness or the app is broken.
if (failed) {
  console.error('some requests failed: see the table');
  process.exitCode = 1;
}
