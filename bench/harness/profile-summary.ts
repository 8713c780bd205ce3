/**
 * The functions that took the most CPU in a `--cpu-prof` profile (self time),
 * with the share of samples each: `node profile-summary.js <file.cpuprofile> [count]`.
 * `npm run bench -- --profile` writes one per app into `bench/results/profiles/`,
 * and prints, for each scenario, where its requests' CPU went (µs a request).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  /** µs on the monotonic clock, as `process.hrtime` reads it in every process of the machine. */
  startTime: number;
  timeDeltas: number[];
}

/**
 * A measured run of one scenario in the app process `pid`, from its first
 * connection to its last answer, in µs on the monotonic clock (a profile's own).
 */
export interface ProfileWindow {
  pid: number | undefined;
  label: string;
  fromUs: number;
  toUs: number;
  requests: number;
}

/** The monotonic clock in µs, as profiles time their samples. */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

function readProfile(path: string): { profile: CpuProfile; keyOf: (id: number) => string } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const keyOf = (id: number): string => {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|lib)\//, '$1/');
    return `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
  };
  return { profile, keyOf };
}

/** `count` lines, most first: the figure, then the function and where it is. */
function ranked(weights: Map<string, number>, count: number, figure: (weight: number) => string) {
  return [...weights.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, weight]) => `${figure(weight)}  ${key}`);
}

/** `count` lines: share of samples, function, where it is. */
export function topFunctions(path: string, count = 25): string[] {
  const { profile, keyOf } = readProfile(path);
  const self = new Map<string, number>();
  for (const id of profile.samples) {
    const key = keyOf(id);
    self.set(key, (self.get(key) ?? 0) + 1);
  }
  const total = profile.samples.length;
  return ranked(self, count, (samples) => `${((100 * samples) / total).toFixed(1).padStart(5)} %`);
}

/**
 * For each scenario measured in this profile's process: its CPU per request
 * as sampled, and the `count` functions with the most self time per request
 * within its measured runs (idle time left out). Comparing a scenario with
 * the public route's shows what its requests cost more, and where.
 */
export function perRequest(path: string, windows: ProfileWindow[], count = 15): string[] {
  const { profile, keyOf } = readProfile(path);
  const lines: string[] = [];
  for (const label of new Set(windows.map((window) => window.label))) {
    const runs = windows.filter((window) => window.label === label);
    const requests = runs.reduce((sum, run) => sum + run.requests, 0);
    if (requests === 0) continue;
    const self = new Map<string, number>();
    let busyUs = 0;
    let time = profile.startTime;
    profile.samples.forEach((id, i) => {
      time += profile.timeDeltas[i] ?? 0;
      const delta = profile.timeDeltas[i + 1] ?? 0;
      if (!runs.some((run) => run.fromUs <= time && time < run.toUs)) return;
      const key = keyOf(id);
      if (key.startsWith('(idle)')) return;
      busyUs += delta;
      self.set(key, (self.get(key) ?? 0) + delta);
    });
    const perRequestUs = (us: number): string => `${(us / requests).toFixed(2).padStart(7)} µs`;
    lines.push(`${label}: ${perRequestUs(busyUs).trim()} of CPU a request, sampled`);
    lines.push(...ranked(self, count, perRequestUs));
  }
  return lines;
}

if (process.argv[1]?.endsWith('profile-summary.js')) {
  const [path, count] = process.argv.slice(2);
  console.log(topFunctions(path, Number(count ?? 25)).join('\n'));
}
