import type { BenchAdapter } from '../app/bench-config.js';
import { SCENARIOS, TARGETS } from './scenarios.js';

/** One measured run of one scenario. */
export interface RoundResult {
  scenario: string;
  round: number;
  perSecond: number;
  p99Ms: number;
  /** Requests the emulator received per request answered. */
  upstreamPerRequest: number;
  /** The app's CPU time per request answered, µs: what the ratio means when the load generator is the limit. */
  appCpuMicrosPerRequest: number;
  /** The share of the run the app's process was on the CPU (user and system time). */
  appBusy: number;
  /**
   * The share of the run the app's core idled (where it is pinned and /proc/stat tells).
   * Near 0 with `appBusy` under 1: the rest of the core went to the kernel's network work
   * (loopback softirq), and the app's core was the limit.
   */
  appCoreIdle?: number;
  rssBytes: number;
  failures: number;
  /** To the public route measured in the same round. */
  ratio: number;
  /**
   * The public route's app CPU per request over this one's, same round: the
   * ratio the app's own work allows, whatever limited the load generator.
   */
  cpuRatio: number;
}

/** Median and spread (lowest, highest) over the rounds. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface ScenarioSummary {
  id: string;
  label: string;
  perSecond: Spread;
  ratio: Spread;
  cpuRatio: Spread;
  p99Ms: number;
  upstreamPerRequest: number;
  appCpuMicrosPerRequest: number;
  appBusy: number;
  appCoreIdle?: number;
  rssMb: number;
  failures: number;
  /** The target, when it has one: what is compared and whether it was met. */
  target?: { of: 'public' | 'seed'; min: number; value: number; met: boolean };
}

/** RSS of an app while distinct tokens go through it (local mode, known user). */
export interface RssGrowth {
  firstCount: number;
  lastCount: number;
  firstMb: number;
  lastMb: number;
  /** V8's heap in use at the same two points: what the app keeps, without the allocator's slack. */
  firstHeapMb: number;
  lastHeapMb: number;
  growthMb: number;
  limitMb: number;
  met: boolean;
}

export interface AdapterReport {
  scenarios: ScenarioSummary[];
  /** Every measured run, for a second look. */
  rounds: RoundResult[];
  /** Absent in a `--profile` run. */
  rss?: RssGrowth;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  smoke: boolean;
  node: string;
  cpus: number;
  pinned: boolean;
  connections: number;
  rounds: number;
  durationSeconds: number;
  warmUpSeconds: number;
  /** 1-minute load average at the start and the end: other work on the machine shows here. */
  loadAverage: { start: number; end: number };
  adapters: Partial<Record<BenchAdapter, AdapterReport>>;
}

const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

export function spreadOf(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

const median = (values: number[]): number => spreadOf(values).median;

/** Medians and spreads per scenario, and the targets checked. */
export function summarize(adapter: BenchAdapter, results: RoundResult[]): ScenarioSummary[] {
  const summaries = SCENARIOS.flatMap((scenario): ScenarioSummary[] => {
    const rounds = results.filter((result) => result.scenario === scenario.id);
    if (rounds.length === 0) return [];
    return [
      {
        id: scenario.id,
        label: scenario.label,
        perSecond: spreadOf(rounds.map((r) => r.perSecond)),
        ratio: spreadOf(rounds.map((r) => r.ratio)),
        cpuRatio: spreadOf(rounds.map((r) => r.cpuRatio)),
        p99Ms: median(rounds.map((r) => r.p99Ms)),
        upstreamPerRequest: round(median(rounds.map((r) => r.upstreamPerRequest)), 3),
        appCpuMicrosPerRequest: round(median(rounds.map((r) => r.appCpuMicrosPerRequest)), 1),
        appBusy: round(median(rounds.map((r) => r.appBusy))),
        ...idleOf(rounds),
        rssMb: round(median(rounds.map((r) => r.rssBytes)) / 2 ** 20, 1),
        failures: rounds.reduce((sum, r) => sum + r.failures, 0),
      },
    ];
  });
  const seed = summaries.find((summary) => summary.id === 'seed');
  for (const summary of summaries) {
    const target = TARGETS[summary.id];
    if (target === undefined) continue;
    const value =
      target.of === 'public'
        ? summary.ratio.median
        : seed === undefined
          ? Number.NaN
          : summary.perSecond.median / seed.perSecond.median;
    const min = target.min[adapter];
    summary.target = { of: target.of, min, value: round(value, 3), met: value >= min };
  }
  return summaries;
}

/** The median idle share of the app's core, when every round could read it. */
function idleOf(rounds: RoundResult[]): { appCoreIdle?: number } {
  const shares = rounds.map((r) => r.appCoreIdle);
  if (shares.some((share) => share === undefined)) return {};
  return { appCoreIdle: round(median(shares as number[])) };
}

const thousands = (value: number): string => Math.round(value).toLocaleString('en-US');
const fixed = (value: number): string => value.toFixed(2);

function targetCell(summary: ScenarioSummary | undefined): string {
  const target = summary?.target;
  if (target === undefined) return '';
  const compared = target.of === 'public' ? '' : '× seed';
  const value = `${target.value}${target.of === 'public' ? '' : '×'}`;
  return target.met
    ? `met (${value} ≥ ${target.min}${compared})`
    : `**not met** (${value} < ${target.min}${compared})`;
}

/** The report as the README's table and the notes under it. */
export function markdown(report: BenchReport): string {
  const adapters = Object.keys(report.adapters) as BenchAdapter[];
  const lines: string[] = [];
  lines.push(
    `Node ${report.node}, ${report.cpus} cores${report.pinned ? ', the app pinned to one core (taskset)' : ', not pinned (no taskset)'}, ` +
      `autocannon with ${report.connections} connections on loopback, ${report.rounds} round(s) of ${report.durationSeconds} s ` +
      `after ${report.warmUpSeconds} s of warm-up; medians, the spread (lowest–highest round) in brackets; ` +
      `req/s: answers per second between the run's 10th and 90th percentile answer (no ramp-up, no tail); ` +
      `ratio: req/s to the public route's of the same round and adapter (what the targets judge); ` +
      `CPU ratio: the public route's app CPU per request over the row's, what the app's own work allows; ` +
      `app busy: the app's own CPU time over the run's; app core idle: what its core left unused. ` +
      `App busy under 100 % with its core near 0 % idle: the rest went to the kernel's network work on that core ` +
      `(loopback), and the app's core was the limit; with its core idle, the load generator or the auth-service ` +
      `on the other core was. Load average ${report.loadAverage.start.toFixed(1)} at the start, ` +
      `${report.loadAverage.end.toFixed(1)} at the end${report.smoke ? '. **Smoke run: proves the harness, measures nothing.**' : '.'}`,
    '',
  );
  for (const adapter of adapters) {
    const summaries = report.adapters[adapter]?.scenarios ?? [];
    lines.push(
      `**${adapter}**`,
      '',
      '| scenario | req/s | ratio | CPU ratio | p99 ms | upstream calls/req | app CPU µs/req | app busy | app core idle | RSS MB | target (ratio) |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    );
    for (const summary of summaries) {
      const { perSecond, ratio } = summary;
      const cells = [
        summary.label,
        `${thousands(perSecond.median)} (${thousands(perSecond.min)}–${thousands(perSecond.max)})`,
        `${fixed(ratio.median)} (${fixed(ratio.min)}–${fixed(ratio.max)})`,
        `${fixed(summary.cpuRatio.median)} (${fixed(summary.cpuRatio.min)}–${fixed(summary.cpuRatio.max)})`,
        String(summary.p99Ms),
        String(summary.upstreamPerRequest),
        String(summary.appCpuMicrosPerRequest),
        `${Math.round(summary.appBusy * 100)} %`,
        summary.appCoreIdle === undefined ? 'n/a' : `${Math.round(summary.appCoreIdle * 100)} %`,
        String(summary.rssMb),
        targetCell(summary) + (summary.failures > 0 ? ` ${summary.failures} failed` : ''),
      ];
      lines.push(`| ${cells.join(' | ')} |`);
    }
    lines.push('');
  }
  for (const adapter of adapters) {
    const rss = report.adapters[adapter]?.rss;
    if (rss === undefined) continue;
    lines.push(
      `- ${adapter}, RSS while distinct tokens go through (local mode): ${rss.firstMb} MB at the ` +
        `${thousands(rss.firstCount)}th token, ${rss.lastMb} MB at the ${thousands(rss.lastCount)}th: ` +
        `${rss.growthMb >= 0 ? '+' : ''}${rss.growthMb} MB (target < ${rss.limitMb} MB: ${rss.met ? 'met' : '**not met**'}); ` +
        `V8 heap in use ${rss.firstHeapMb} MB → ${rss.lastHeapMb} MB`,
    );
  }
  return `${lines.join('\n')}\n`;
}
