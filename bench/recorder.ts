/**
 * A recording reverse proxy for the FHIR peer: learns exactly which REST requests the gateway makes
 * for a question, so the benchmark can replay them against the peer alone (is the peer the limit?).
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the gateway sent: a search (GET) or a FHIR `batch` Bundle of searches (POST). */
export interface Recorded {
  method: 'GET' | 'POST';
  /** Path and query. */
  path: string;
  /** The POST's body (a batch Bundle). */
  body?: string;
}

export interface Recorder {
  /** FHIR base URL to give the gateway: same path as the peer's, this proxy's port. */
  url: string;
  /** The requests seen since the last `take()`. */
  take(): Recorded[];
  close(): Promise<void>;
}

export async function startRecorder(fhirUrl: string): Promise<Recorder> {
  const target = new URL(fhirUrl);
  let seen: Recorded[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const entry: Recorded = { method: req.method === 'POST' ? 'POST' : 'GET', path: req.url ?? '/' };
    seen.push(entry);
    if (entry.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        entry.body = Buffer.concat(chunks).toString('utf8');
      });
    }
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname.replace(/\/+$/, '')}`,
    take() {
      const out = seen;
      seen = [];
      return out;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
