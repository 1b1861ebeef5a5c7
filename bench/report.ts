/** The goals from issue 2, the printed table, and the JSON record of a run. */
import type { LoadResult, LoadSettings } from './load';
import type { MachineFacts } from './machine';
import type { Question, QuestionSpec, Target } from './queries';

export interface Measurement {
  question: Question;
  target: Target;
  /** Records per answer, averaged over the patients, to show both sides returned the same amount. */
  recordsPerAnswer: number;
  result: LoadResult;
}

export interface Goal {
  goal: string;
  measured: string;
  pass: boolean;
}

/** The FHIR REST searches the gateway made for one question, replayed against the peer alone. */
export interface PeerAlone {
  question: Question;
  /** HTTP requests per question (a FHIR batch Bundle of searches is one request). */
  requestsPerQuestion: number;
  /** Searches per question, each entry of a batch Bundle counted. */
  searchesPerQuestion: number;
  /** The same, by resource type. */
  searchesByType: Record<string, number>;
  result: LoadResult;
  /** Peer searches/s ÷ searches per question: questions/s this peer allows any gateway. */
  questionsPerSecondBound: number;
}

export interface RunRecord {
  date: string;
  command: string;
  machine: MachineFacts;
  settings: LoadSettings & { patients: string[] };
  peer: { url: string; origin: string; command?: string };
  gateway: { command?: string; config: string };
  sameData: Record<Question, string>;
  measurements: Measurement[];
  ratios: { question: Question; reqPerSec: number; p50: number; p95: number }[];
  goals: Goal[];
  peerAlone?: PeerAlone;
  runtimeSeconds?: number;
}

const find = (ms: Measurement[], q: Question, t: Target): Measurement | undefined => ms.find((m) => m.question === q && m.target === t);
const clean = (r: LoadResult): boolean => r.errors === 0 && r.non2xx === 0 && r.graphqlErrors === 0;
const ratio = (a: number, b: number): number => Math.round((a / b) * 100) / 100;
const n = (v: number): string => v.toLocaleString('en-US', { maximumFractionDigits: 1 });

export function ratios(ms: Measurement[], questions: readonly QuestionSpec[]): RunRecord['ratios'] {
  return questions.flatMap(({ question }) => {
    const g = find(ms, question, 'gateway')?.result;
    const u = find(ms, question, 'upstream')?.result;
    if (!g || !u) return [];
    return [
      {
        question,
        reqPerSec: ratio(g.reqPerSec, u.reqPerSec),
        p50: ratio(g.latencyMs.p50, u.latencyMs.p50),
        p95: ratio(g.latencyMs.p95, u.latencyMs.p95),
      },
    ];
  });
}

/** Issue 2's goals, judged on the gateway's figures. A run with errors never passes. */
export function judge(ms: Measurement[], questions: readonly QuestionSpec[]): Goal[] {
  const goals: Goal[] = [];
  const a = find(ms, 'patient', 'gateway')?.result;
  const b = find(ms, 'summary', 'gateway')?.result;
  const errorNote = (r: LoadResult): string => (clean(r) ? '' : ` (with ${r.errors + r.non2xx + r.graphqlErrors} errors)`);
  if (a)
    goals.push({
      goal: '(a) single-patient read ≥ 1,500 req/s',
      measured: `${n(a.reqPerSec)} req/s${errorNote(a)}`,
      pass: clean(a) && a.reqPerSec >= 1500,
    });
  if (b) {
    goals.push({
      goal: '(b) patient summary ≥ 300 req/s with p95 ≤ 100 ms',
      measured: `${n(b.reqPerSec)} req/s, p95 ${n(b.latencyMs.p95)} ms${errorNote(b)}`,
      pass: clean(b) && b.reqPerSec >= 300 && b.latencyMs.p95 <= 100,
    });
  }
  for (const spec of questions) {
    const up = find(ms, spec.question, 'gateway')?.result.upstreamRequests;
    if (!up) continue;
    const perLevel = up.mean / spec.levels;
    goals.push({
      goal: `${spec.title.slice(0, 3)} ≤ 1 upstream request per level`,
      measured: `${n(up.mean)} requests / ${spec.levels} level${spec.levels > 1 ? 's' : ''} = ${perLevel.toFixed(2)} per level`,
      pass: perLevel <= 1,
    });
  }
  for (const spec of questions) {
    const g = find(ms, spec.question, 'gateway')?.result;
    const u = find(ms, spec.question, 'upstream')?.result;
    if (!g || !u) continue;
    goals.push({
      goal: `${spec.title.slice(0, 3)} throughput ≥ upstream's own $graphql`,
      measured: `${n(g.reqPerSec)} vs ${n(u.reqPerSec)} req/s (${ratio(g.reqPerSec, u.reqPerSec)}×)`,
      pass: clean(g) && g.reqPerSec >= u.reqPerSec,
    });
  }
  return goals;
}

/** % of one core used by other processes above which a run is flagged as disturbed. */
export const OTHER_LOAD_WARNING = 25;

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

/** CPU milliseconds one query costs a process: its CPU share ÷ throughput. */
export function cpuMsPerQuery(r: LoadResult, process: 'gateway' | 'peer' | 'bench'): number | undefined {
  const percent = r.cpu[process];
  if (percent === null || percent === undefined || r.reqPerSec === 0) return undefined;
  return Math.round(((percent * 10) / r.reqPerSec) * 100) / 100;
}

/**
 * The throughput this machine could reach if nothing else ran: each process is single-threaded
 * (at most one core each) and together they have `cores` cores. An estimate from CPU cost, not a
 * measurement; undefined when a process's CPU use is unknown.
 */
export function cpuCeiling(r: LoadResult, cores: number, viaGateway: boolean): number | undefined {
  const gw = viaGateway ? cpuMsPerQuery(r, 'gateway') : 0;
  const peer = cpuMsPerQuery(r, 'peer');
  const ac = cpuMsPerQuery(r, 'bench') ?? 0;
  if (gw === undefined || peer === undefined) return undefined;
  const limits = [(cores * 1000) / (gw + peer + ac), 1000 / peer, ...(viaGateway ? [1000 / gw] : [])].filter(Number.isFinite);
  return Math.round(Math.min(...limits));
}

function costCell(r: LoadResult): string {
  const f = (v: number | undefined): string => (v === undefined ? '–' : v.toFixed(2));
  return `${f(cpuMsPerQuery(r, 'gateway'))}+${f(cpuMsPerQuery(r, 'peer'))}`;
}

function ceilingCell(r: LoadResult, cores: number, viaGateway: boolean): string {
  const c = cpuCeiling(r, cores, viaGateway);
  return c === undefined ? '–' : n(c);
}

function cpuCell(r: LoadResult): string {
  const f = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : String(v));
  return `${f(r.cpu.gateway)}/${f(r.cpu.peer)}/${f(r.cpu.bench)}/${f(r.cpu.other)}`;
}

export function renderTable(record: RunRecord, questions: readonly QuestionSpec[]): string {
  const widths = [24, 17, 8, 7, 7, 7, 6, 15, 9, 17, 12, 8];
  const lines: string[] = [];
  const m = record.machine;
  const s = record.settings;
  lines.push(`healthgraph benchmark — ${record.date}`);
  lines.push(`command:  ${record.command}`);
  lines.push(
    `machine:  ${m.nproc} cores (nproc), ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}, node ${m.node}, load average at start ${m.loadAverageAtStart.join(' ')}`,
  );
  lines.push(
    `load:     ${s.connections} connections, ${s.durationSeconds} s measured after ${s.warmupSeconds} s warm-up, ${s.patients.length} patients rotated`,
  );
  lines.push(`peer:     ${record.peer.url} (${record.peer.origin})${record.peer.command ? ` — ${record.peer.command}` : ''}`);
  lines.push(`gateway:  ${record.gateway.command ?? ''}`);
  for (const q of questions) lines.push(`same data: ${q.title}: ${record.sameData[q.question]}`);
  lines.push('');
  lines.push(
    pad(
      [
        'question',
        'target',
        'req/s',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'errors',
        'upstream/query',
        'per level',
        'CPU% gw/peer/ac/oth',
        'CPU ms/q',
        'ceiling',
      ],
      widths,
    ),
  );
  for (const q of questions) {
    for (const target of ['gateway', 'upstream'] as const) {
      const meas = find(record.measurements, q.question, target);
      if (!meas) continue;
      const r = meas.result;
      const up = r.upstreamRequests;
      const upCell = target === 'upstream' ? '1 (in-process)' : up ? `${up.mean.toFixed(2)} [${up.min}–${up.max}]` : '–';
      const perLevel = target === 'upstream' ? '–' : up ? (up.mean / q.levels).toFixed(2) : '–';
      lines.push(
        pad(
          [
            target === 'gateway' ? q.title : '',
            target === 'gateway' ? 'healthgraph' : 'upstream $graphql',
            n(r.reqPerSec),
            n(r.latencyMs.p50),
            n(r.latencyMs.p95),
            n(r.latencyMs.p99),
            String(r.errors + r.non2xx + r.graphqlErrors),
            upCell,
            perLevel,
            cpuCell(r),
            costCell(r),
            ceilingCell(r, m.nproc, target === 'gateway'),
          ],
          widths,
        ),
      );
    }
    const rt = record.ratios.find((x) => x.question === q.question);
    if (rt) lines.push(pad(['', 'ratio gw/upstream', `${rt.reqPerSec}×`, `${rt.p50}×`, `${rt.p95}×`, '', '', '', '', '', '', ''], widths));
  }
  const alone = record.peerAlone;
  if (alone) {
    const r = alone.result;
    const title = questions.find((q) => q.question === alone.question)?.title ?? alone.question;
    lines.push(
      pad(
        [
          `${title.slice(0, 3)} peer alone`,
          'FHIR REST requests',
          n(r.reqPerSec),
          n(r.latencyMs.p50),
          n(r.latencyMs.p95),
          n(r.latencyMs.p99),
          String(r.errors + r.non2xx),
          '',
          '',
          cpuCell(r),
          costCell(r),
          ceilingCell(r, m.nproc, false),
        ],
        widths,
      ),
    );
    const types = Object.entries(alone.searchesByType).map(([t, k]) => (k === 1 ? t : `${t}×${n(k)}`));
    const shape = alone.requestsPerQuestion === alone.searchesPerQuestion ? `${n(alone.searchesPerQuestion)} searches` : `${n(alone.searchesPerQuestion)} searches in ${n(alone.requestsPerQuestion ?? alone.searchesPerQuestion)} requests`;
    lines.push(`  → the gateway's ${shape} per question, replayed straight at the peer: this peer serves`);
    lines.push(`    at most ${n(alone.questionsPerSecondBound)} of these questions/s to any gateway (${types.join(', ')})`);
  }
  lines.push('');
  lines.push(`levels: (a) 1 = the patient; (b) 3 = patient → encounters + claims → conditions + observations + medications.`);
  lines.push(`CPU%: average use of one core during the measured window (200% = the whole machine): gateway / FHIR peer / this`);
  lines.push(`      process (autocannon) / everything else on the machine. Upstream rows have no gateway in the path.`);
  lines.push(`CPU ms/q: CPU time one query costs the gateway + the peer (CPU% × 10 ÷ req/s); less sensitive to other load than req/s.`);
  lines.push(
    `ceiling: req/s the CPU costs allow on ${m.nproc} idle cores with each process on at most one core — an estimate, not a measurement.`,
  );
  const busiest = Math.max(
    0,
    ...[...record.measurements.map((x) => x.result), ...(alone ? [alone.result] : [])].map((r) => r.cpu.other ?? 0),
  );
  if (busiest > OTHER_LOAD_WARNING) {
    lines.push('');
    lines.push(`WARNING: other processes used up to ${busiest}% of a core during a measurement: the figures understate this`);
    lines.push(`         machine; rerun when it is idle (load average at start: ${m.loadAverageAtStart.join(' ')}).`);
  }
  lines.push('');
  lines.push('goals (issue 2)');
  for (const g of record.goals) lines.push(`  ${g.pass ? 'PASS' : 'MISS'}  ${g.goal.padEnd(52)} ${g.measured}`);
  return lines.join('\n');
}
