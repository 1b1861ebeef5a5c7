/**
 * Where a process spent its CPU: reads a V8 `.cpuprofile` (from `node --cpu-prof`, e.g. written by
 * `BENCH_PROFILE=1 make bench`) and prints self time per package and per function.
 *
 *   node dist/bench/profile-summary.js bench/results/profiles/gateway-….cpuprofile [top=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** node_modules/@scope/pkg or node_modules/pkg, the project folder (src, connectors, …), node internals, or V8. */
export function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native/V8)';
  if (url.startsWith('node:')) return 'node:internal';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const dist = /\/dist\/([^/]+)\//.exec(url);
  if (dist) return `healthgraph ${dist[1]}/`;
  return url.replace(/^file:\/\//, '');
}

/** Self time in ms per node id, from the sample stream (falls back to hit counts). */
function selfTimes(profile: CpuProfile): Map<number, number> {
  const times = new Map<number, number>();
  const { samples, timeDeltas } = profile;
  if (samples && timeDeltas && samples.length === timeDeltas.length) {
    for (let i = 0; i < samples.length; i++) {
      // A sample's duration is the gap to the next sample.
      const ms = (timeDeltas[i + 1] ?? 0) / 1000;
      times.set(samples[i]!, (times.get(samples[i]!) ?? 0) + ms);
    }
    return times;
  }
  const total = (profile.endTime - profile.startTime) / 1000;
  const hits = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0) || 1;
  for (const node of profile.nodes) times.set(node.id, ((node.hitCount ?? 0) / hits) * total);
  return times;
}

function top(map: Map<string, number>, n: number, total: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, ms]) => `${((ms / total) * 100).toFixed(1).padStart(5)}%  ${Math.round(ms).toString().padStart(7)} ms  ${name}`);
}

const label = (node: ProfileNode): string => {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'}  ${url ? `${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}` : ''}`;
};

/** Time spent in a function and everything it called; recursion counted once per stack. */
function inclusiveTimes(profile: CpuProfile, self: Map<number, number>): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const result = new Map<string, number>();
  const root = profile.nodes[0];
  if (!root) return result;
  const walk = (node: ProfileNode, onStack: Set<string>): number => {
    let total = self.get(node.id) ?? 0;
    const name = label(node);
    const outermost = !onStack.has(name);
    if (outermost) onStack.add(name);
    for (const child of node.children ?? []) {
      const next = byId.get(child);
      if (next) total += walk(next, onStack);
    }
    if (outermost) {
      onStack.delete(name);
      result.set(name, (result.get(name) ?? 0) + total);
    }
    return total;
  };
  walk(root, new Set());
  return result;
}

export function summarize(profile: CpuProfile, n: number): string {
  const times = selfTimes(profile);
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const ms = times.get(node.id) ?? 0;
    total += ms;
    const pkg = packageOf(node.callFrame.url, node.callFrame.functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
    const fn = label(node);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  }
  const idle = byPackage.get('(idle)') ?? 0;
  return [
    `profile: ${Math.round((profile.endTime - profile.startTime) / 1000)} ms wall, ${Math.round(total - idle)} ms on CPU, ${Math.round(idle)} ms idle`,
    '',
    'self time by package',
    ...top(byPackage, n, total),
    '',
    'self time by function',
    ...top(byFunction, n, total),
    '',
    'total time by function (self + callees)',
    ...top(inclusiveTimes(profile, times), n * 2, total),
  ].join('\n');
}

if (require.main === module) {
  const [file, count] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node dist/bench/profile-summary.js FILE.cpuprofile [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(count ?? 25))}\n`);
}
