/**
 * A small, real FHIR Bulk Data server (system-level `$export`, the async request pattern) over a
 * folder of `Type.NNN.ndjson` files, for testing `healthgraph lake import --from-fhir`:
 *
 *   GET  {base}/$export[?_type=A,B]  (Prefer: respond-async)  → 202, Content-Location: {base}/$export-status/{job}
 *   GET  {base}/$export-status/{job}  → 202 with X-Progress and Retry-After for the first `pendingPolls`
 *                                       polls, then 200 with the manifest (transactionTime, request,
 *                                       requiresAccessToken: false, output [{ type, url, count }], error [])
 *   GET  {origin}/files/{job}/{file}  → the NDJSON file, streamed in small chunks (application/fhir+ndjson)
 *
 * Anything else is 404; a kick-off without `Prefer: respond-async` is 400 (as the specification says).
 * Every request is recorded so tests can assert on the exchange.
 */
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface BulkServerOptions {
  /** Folder of `Type.NNN.ndjson` files (other files are not exported). */
  dir: string;
  /** Status polls answered 202 before the manifest (default 2). */
  pendingPolls?: number;
  /** Retry-After seconds on a 202 status (default 0, so tests run fast). */
  retryAfterSeconds?: number;
}

export interface BulkServer {
  /** FHIR base URL, e.g. http://127.0.0.1:PORT/fhir. */
  base: string;
  /** Every request: method, URL path + query, and the Prefer header. */
  requests: { method: string; url: string; prefer?: string }[];
  close(): Promise<void>;
}

interface Job {
  files: { type: string; name: string; count: number }[];
  polls: number;
  request: string;
}

/** Starts the server on a free loopback port. */
export async function startBulkServer(options: BulkServerOptions): Promise<BulkServer> {
  const pendingPolls = options.pendingPolls ?? 2;
  const files = readdirSync(options.dir)
    .filter((f) => /^[A-Z][A-Za-z]+\.\d+\.ndjson$/.test(f))
    .sort()
    .map((name) => ({
      type: name.split('.')[0]!,
      name,
      count: readFileSync(join(options.dir, name), 'utf8').split('\n').filter((l) => l.trim() !== '').length,
    }));
  const jobs = new Map<string, Job>();
  const requests: BulkServer['requests'] = [];
  let nextJob = 1;
  let origin = '';

  const json = (status: number, body: unknown, headers: Record<string, string> = {}): [number, Record<string, string>, string] => [
    status,
    { 'content-type': 'application/json', ...headers },
    JSON.stringify(body),
  ];
  const outcome = (status: number, text: string): [number, Record<string, string>, string] =>
    json(status, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'processing', diagnostics: text }] });

  const handle = (req: IncomingMessage): [number, Record<string, string>, string] | { file: string } => {
    const url = new URL(req.url ?? '/', origin);
    if (req.method !== 'GET') return outcome(405, 'only GET');
    if (url.pathname === '/fhir/$export') {
      if (req.headers.prefer !== 'respond-async') return outcome(400, 'Prefer: respond-async is required');
      const types = url.searchParams.get('_type')?.split(',').filter(Boolean);
      const id = String(nextJob++);
      jobs.set(id, { files: types ? files.filter((f) => types.includes(f.type)) : files, polls: 0, request: url.href });
      return [202, { 'content-location': `${origin}/fhir/$export-status/${id}` }, ''];
    }
    const status = /^\/fhir\/\$export-status\/(\d+)$/.exec(url.pathname);
    if (status) {
      const job = jobs.get(status[1]!);
      if (!job) return outcome(404, 'no such export');
      job.polls++;
      if (job.polls <= pendingPolls) {
        return [202, { 'x-progress': `in progress (poll ${job.polls})`, 'retry-after': String(options.retryAfterSeconds ?? 0) }, ''];
      }
      return json(200, {
        transactionTime: '2024-01-01T00:00:00Z',
        request: job.request,
        requiresAccessToken: false,
        output: job.files.map((f) => ({ type: f.type, url: `${origin}/files/${status[1]}/${f.name}`, count: f.count })),
        error: [],
      });
    }
    const download = /^\/files\/(\d+)\/([A-Za-z]+\.\d+\.ndjson)$/.exec(url.pathname);
    if (download && jobs.get(download[1]!)?.files.some((f) => f.name === download[2])) return { file: join(options.dir, download[2]!) };
    return outcome(404, 'not found');
  };

  const server: Server = createServer((req, res) => {
    const prefer = req.headers.prefer;
    requests.push({ method: req.method ?? '', url: req.url ?? '', prefer: Array.isArray(prefer) ? prefer.join(', ') : prefer });
    const answer = handle(req);
    if ('file' in answer) {
      res.writeHead(200, { 'content-type': 'application/fhir+ndjson' });
      // Small chunks: lines arrive split across reads, as from a real server.
      createReadStream(answer.file, { highWaterMark: 4096 }).pipe(res);
      return;
    }
    const [code, headers, body] = answer;
    res.writeHead(code, headers);
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base: `${origin}/fhir`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
