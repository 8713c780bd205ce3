/**
 * The functions that took the most CPU in a `--cpu-prof` profile (self time),
 * with the share of samples each: `node profile-summary.js <file.cpuprofile> [count]`.
 * `npm run bench -- --profile` writes one per app into `bench/results/profiles/`.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

/** `count` lines: share of samples, function, where it is. */
export function topFunctions(path: string, count = 25): string[] {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  for (const id of profile.samples) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|lib)\//, '$1/');
    const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + 1);
  }
  const total = profile.samples.length;
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, samples]) => `${((100 * samples) / total).toFixed(1).padStart(5)} %  ${key}`);
}

if (process.argv[1]?.endsWith('profile-summary.js')) {
  const [path, count] = process.argv.slice(2);
  console.log(topFunctions(path, Number(count ?? 25)).join('\n'));
}
