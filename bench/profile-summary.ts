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

/**
 * Layers of the gateway, in the order a sample is claimed: a sample belongs to the first layer any
 * frame of its stack matches (so the policy's time inside the data layer is the policy's).
 */
const LAYERS: [string, (f: ProfileNode['callFrame']) => boolean][] = [
  ['start-up (module loading, gateway creation)', (f) => /^(Module\._compile|wrapSafe|compileForInternalLoader|createGateway)$/.test(f.functionName)],
  ['audit trail', (f) => /\/src\/audit\/|better-sqlite3/.test(f.url) || f.functionName === 'writeAudit'],
  ['policy (scopes, compartment, consent)', (f) => /\/src\/consent\//.test(f.url)],
  ['pg driver', (f) => /\/node_modules\/pg(-[a-z]+)?\//.test(f.url)],
  ['SQL connector (statements, row builders)', (f) => /\/connectors\/sql\//.test(f.url)],
  ['data layer (batching, pages, connections)', (f) => /\/src\/data\//.test(f.url)],
  ['resolvers and field defaults', (f) => /\/resolvers\/|\/src\/graphql\//.test(f.url)],
  ["Apollo's JSON.stringify of the answer", (f) => f.functionName === 'prettyJSONStringify'],
  ['socket writes', (f) => /^(writev|writeBuffer|writeUtf8String)$/.test(f.functionName) || /_http_outgoing/.test(f.url)],
  ['Apollo (other)', (f) => /\/@apollo\//.test(f.url)],
  ['graphql-jit', (f) => /\/graphql-jit\//.test(f.url) || /Handler|__context/.test(f.functionName)],
];

/** Self time per layer, each sample given to the first layer on its stack; GC and idle apart. */
function layerTimes(profile: CpuProfile, self: Map<number, number>): Map<string, number> {
  const parent = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const out = new Map<string, number>();
  for (const node of profile.nodes) {
    const ms = self.get(node.id) ?? 0;
    if (ms === 0) continue;
    const name = node.callFrame.functionName;
    let layer = name === '(idle)' || name === '(garbage collector)' ? name : undefined;
    for (const [label, matches] of LAYERS) {
      if (layer) break;
      for (let at: ProfileNode | undefined = node; at; at = parent.get(at.id)) {
        if (matches(at.callFrame)) {
          layer = label;
          break;
        }
      }
    }
    out.set(layer ?? 'other (node internals, HTTP parsing, …)', (out.get(layer ?? 'other (node internals, HTTP parsing, …)') ?? 0) + ms);
  }
  return out;
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
    'time by layer (each sample to the first layer on its stack)',
    ...top(layerTimes(profile, times), 20, total),
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
  let profile: CpuProfile;
  try {
    profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  } catch (error) {
    process.stderr.write(`profile-summary: cannot read ${file} as a .cpuprofile (${(error as Error).message.split('\n')[0]})\n`);
    process.exit(2);
  }
  process.stdout.write(`${summarize(profile, Number(count ?? 25))}\n`);
}
