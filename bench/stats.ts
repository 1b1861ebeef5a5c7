/** Small measuring helpers shared by the benchmarks that time requests one after another. */

/** The value at percentile `p` (0–100) of ascending `sorted`: the element at ⌊p/100 · n⌋, NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Latency figures of a series, in ms to two decimals. */
export interface Timing {
  p50: number;
  p95: number;
  mean: number;
}

const twoDecimals = (n: number): number => Math.round(n * 100) / 100;

/** p50, p95 and mean of wall times (any order). */
export function latencySummary(times: readonly number[]): Timing {
  const sorted = [...times].sort((a, b) => a - b);
  return { p50: twoDecimals(percentile(sorted, 50)), p95: twoDecimals(percentile(sorted, 95)), mean: twoDecimals(sorted.reduce((s, t) => s + t, 0) / sorted.length) };
}

/** Runs `fn` `warmup` times unmeasured, then `runs` times; the wall times in ms, ascending. */
export async function timeRuns(runs: number, warmup: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

export interface AlternatingOptions<K extends string> {
  rounds: number;
  /** Runs of each series per round. */
  perRound: number;
  /** Unmeasured runs of each series first. */
  warmup: number;
  /** Wraps each series' runs of a round, e.g. to read its process's CPU time around them. */
  around?: (name: K, runs: () => Promise<void>) => Promise<void>;
}

/**
 * Times several series in alternating rounds: after `warmup` unmeasured runs of each, every round
 * runs each series `perRound` times, in reverse order every other round, so that the machine
 * speeding up or slowing down during the run (it does here, within minutes) weighs on every series
 * alike and cannot tilt their comparison. The wall times in ms per series, ascending.
 */
export async function alternatingRuns<K extends string>(series: Record<K, () => Promise<unknown>>, options: AlternatingOptions<K>): Promise<Record<K, number[]>> {
  const names = Object.keys(series) as K[];
  for (const name of names) await timeRuns(0, options.warmup, series[name]);
  const times = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<K, number[]>;
  const around = options.around ?? ((_: K, runs: () => Promise<void>) => runs());
  for (let round = 0; round < options.rounds; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      await around(name, async () => void times[name].push(...(await timeRuns(options.perRound, 0, series[name]))));
    }
  }
  for (const name of names) times[name].sort((a, b) => a - b);
  return times;
}

/** POSTs a GraphQL request and reads the whole answer: its text and the gateway's upstream request count. Throws on an HTTP error or GraphQL `errors`. */
export async function askGraphql(url: string, body: string): Promise<{ text: string; upstream: number }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await res.text();
  if (!res.ok || text.includes('"errors"')) throw new Error(`GraphQL request failed (HTTP ${res.status}): ${text.slice(0, 300)}`);
  return { text, upstream: Number(res.headers.get('x-upstream-requests')) };
}
