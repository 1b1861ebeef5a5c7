/** Small measuring helpers shared by the benchmarks that time requests one after another. */

/** The value at percentile `p` (0–100) of ascending `sorted`: the element at ⌊p/100 · n⌋, NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
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

/** POSTs a GraphQL request and reads the whole answer: its text and the gateway's upstream request count. Throws on an HTTP error or GraphQL `errors`. */
export async function askGraphql(url: string, body: string): Promise<{ text: string; upstream: number }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await res.text();
  if (!res.ok || text.includes('"errors"')) throw new Error(`GraphQL request failed (HTTP ${res.status}): ${text.slice(0, 300)}`);
  return { text, upstream: Number(res.headers.get('x-upstream-requests')) };
}
