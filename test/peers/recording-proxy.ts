/**
 * A real HTTP reverse proxy in front of a FHIR server that records every request it forwards: tests
 * assert on the exact upstream requests the gateway makes (search parameters pushed down, how many
 * requests a query costs), and the benchmark replays them against the server alone (bench/peer-alone.ts).
 * Bundle links come back through the proxy.
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedUpstream {
  method: string;
  /** Path after the FHIR base, with its query, decoded: `Observation?patient=1&code=http://loinc.org|8302-2`. */
  path: string;
  /** The resource type or first path segment (`Observation`, `metadata`). */
  type: string;
  /** Query parameters as sent (decoded); repeated names keep every value. */
  params: [string, string][];
  /** The path and query exactly as received (with the FHIR base's path), for replaying. */
  raw?: string;
  /** A POST's body, e.g. a FHIR `batch` Bundle. */
  body?: string;
}

export interface RecordingProxy {
  /** The FHIR base URL to configure a source with, e.g. `http://127.0.0.1:40123/fhir`. */
  url: string;
  /**
   * Every request the gateway made, oldest first; the entries of a FHIR `batch` Bundle count one
   * each, as the searches they are.
   */
  requests: RecordedUpstream[];
  /** Every HTTP request forwarded (a batch Bundle is one). */
  http: RecordedUpstream[];
  /** Requests other than `metadata` (CapabilityStatement reads and health probes). */
  searches(): RecordedUpstream[];
  /** Forgets what was recorded so far. */
  clear(): void;
  close(): Promise<void>;
}

function record(method: string, rest: string): RecordedUpstream {
  const q = rest.indexOf('?');
  const pathname = q < 0 ? rest : rest.slice(0, q);
  const params = q < 0 ? [] : [...new URLSearchParams(rest.slice(q + 1))];
  const query = params.map(([k, v]) => `${k}=${v}`).join('&');
  const path = query ? `${pathname}?${query}` : pathname;
  return { method, path, type: pathname.split('/')[0] ?? '', params };
}

export async function startRecordingProxy(upstream: string): Promise<RecordingProxy> {
  const target = new URL(upstream.replace(/\/+$/, ''));
  const upstreamBase = target.toString().replace(/\/+$/, '');
  const basePath = target.pathname.replace(/\/+$/, '');
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const requests: RecordedUpstream[] = [];
  const http: RecordedUpstream[] = [];
  let clientBase = '';

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const after = url.startsWith(basePath) ? url.slice(basePath.length) : undefined;
    if (after === undefined || !(after === '' || after.startsWith('/') || after.startsWith('?'))) {
      res.writeHead(404).end();
      return;
    }
    const rest = after.startsWith('/') ? after.slice(1) : after;
    const forwarded: RecordedUpstream = { ...record(req.method ?? 'GET', rest), raw: url };
    http.push(forwarded);
    const isBatch = req.method === 'POST' && (rest === '' || rest.startsWith('?'));
    if (!isBatch) requests.push(forwarded);
    const headers = { ...req.headers, host: target.host };
    delete headers['accept-encoding'];
    const forward = httpRequest({ agent, hostname: target.hostname, port: target.port, method: req.method, path: url, headers }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8').split(upstreamBase).join(clientBase);
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(up.headers))
          if (v !== undefined && k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') out[k] = v;
        out['content-length'] = String(Buffer.byteLength(body));
        res.writeHead(up.statusCode ?? 502, out);
        res.end(body);
      });
    });
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    if (req.method !== 'POST') {
      req.pipe(forward);
      return;
    }
    // A POST's body is kept (for replaying); a FHIR batch's entries are recorded as the requests they stand for. Then forwarded as is.
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => {
      const text = Buffer.concat(body).toString('utf8');
      forwarded.body = text;
      if (!isBatch) {
        forward.end(text);
        return;
      }
      try {
        const bundle = JSON.parse(text) as { entry?: { request?: { method?: string; url?: string } }[] };
        for (const entry of bundle.entry ?? []) requests.push(record(entry.request?.method ?? 'GET', entry.request?.url ?? ''));
      } catch {
        requests.push(record('POST', rest));
      }
      forward.end(text);
    });
  };

  const server = createServer({ keepAlive: true }, handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  clientBase = `http://127.0.0.1:${port}${basePath}`;
  return {
    url: clientBase,
    requests,
    http,
    searches: () => requests.filter((r) => r.type !== 'metadata'),
    clear: () => {
      requests.splice(0, requests.length);
      http.splice(0, http.length);
    },
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

