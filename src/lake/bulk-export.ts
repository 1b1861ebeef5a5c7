/**
 * `lake import --from-fhir URL`: a FHIR Bulk Data export (system level, `GET [base]/$export`):
 * kick-off with `Prefer: respond-async`, poll the `Content-Location` status URL (honouring
 * `Retry-After`) until the manifest arrives, then each output file becomes an import input that
 * is streamed straight from the server.
 */
import type { Input } from './inputs';

export interface BulkExportOptions {
  /** FHIR base URL, e.g. http://127.0.0.1:8090/fhir. */
  base: string;
  /** `_type` filter, e.g. ['Patient', 'Observation']. */
  types?: string[];
  headers?: Record<string, string>;
  /** Longest wait for the export to finish, ms. */
  timeoutMs?: number;
  /** Called while waiting (status text such as X-Progress). */
  onStatus?: (text: string) => void;
}

interface Manifest {
  transactionTime?: string;
  requiresAccessToken?: boolean;
  output?: { type?: string; url?: string; count?: number }[];
  error?: { type?: string; url?: string }[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function retryAfterMs(value: string | null): number {
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, 30_000);
  return 1000;
}

/** Runs the export and returns its output files as inputs (plus the manifest's error files, if any). */
export async function bulkExportInputs(options: BulkExportOptions): Promise<{ inputs: Input[]; errorFiles: string[]; transactionTime?: string }> {
  const base = options.base.replace(/\/+$/, '');
  const query = options.types?.length ? `?_type=${encodeURIComponent(options.types.join(','))}` : '';
  const headers = { accept: 'application/fhir+json', ...options.headers };
  const kickoff = await fetch(`${base}/$export${query}`, { headers: { ...headers, prefer: 'respond-async' } });
  await kickoff.arrayBuffer();
  if (kickoff.status !== 202) throw new Error(`${base}/$export answered ${kickoff.status}, not 202 Accepted: the server may not support Bulk Data export`);
  const statusUrl = kickoff.headers.get('content-location');
  if (!statusUrl) throw new Error(`${base}/$export gave no Content-Location to poll`);
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  for (;;) {
    const res = await fetch(new URL(statusUrl, `${base}/`), { headers });
    if (res.status === 202) {
      await res.arrayBuffer();
      options.onStatus?.(res.headers.get('x-progress') ?? 'in progress');
      if (Date.now() > deadline) throw new Error('the Bulk Data export did not finish in time');
      await sleep(retryAfterMs(res.headers.get('retry-after')));
      continue;
    }
    if (res.status !== 200) throw new Error(`export status ${statusUrl} answered ${res.status}`);
    const manifest = (await res.json()) as Manifest;
    const fileHeaders = manifest.requiresAccessToken ? options.headers : undefined;
    const inputs: Input[] = (manifest.output ?? [])
      .filter((o): o is { type?: string; url: string } => typeof o.url === 'string')
      .map((o) => ({ key: `export\t${o.url}`, path: o.url, kind: 'ndjson-url', size: 0, expectedType: o.type, headers: fileHeaders }));
    return { inputs, errorFiles: (manifest.error ?? []).flatMap((e) => (e.url ? [e.url] : [])), transactionTime: manifest.transactionTime };
  }
}
