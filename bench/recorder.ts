/**
 * A recording reverse proxy for the FHIR peer: learns exactly which REST requests the gateway makes
 * for a question, so the benchmark can replay them against the peer alone (is the peer the limit?).
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorder {
  /** FHIR base URL to give the gateway: same path as the peer's, this proxy's port. */
  url: string;
  /** Paths (with query) of the requests seen since the last `take()`. */
  take(): string[];
  close(): Promise<void>;
}

export async function startRecorder(fhirUrl: string): Promise<Recorder> {
  const target = new URL(fhirUrl);
  let seen: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.url ?? '/');
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
