/**
 * A real misbehaving FHIR server for failure tests: a reverse proxy in front of the FHIR peer whose
 * behaviour is chosen by a path prefix, so parallel tests never interfere.
 *
 *   node dist/test/peers/faulty-server.js --port 8082 --upstream http://127.0.0.1:8081/fhir [--host 127.0.0.1]
 *
 *   /ok/fhir/...                         plain proxy
 *   /count/{key}/fhir/...                plain proxy, counting requests under `key`
 *   /slow/{ms}/fhir/...                  waits `ms` milliseconds, then proxies
 *   /fail/{status}/fhir/...              always answers `status` (400-599) with an OperationOutcome
 *   /flaky/{key}/{n}/fhir/...            the first `n` requests for `key` answer 429 with `Retry-After: 1`, later ones proxy
 *   /flaky/{key}/{n}/{seconds}/fhir/...  the same with `Retry-After: {seconds}`
 *   /reset/fhir/...                      closes the connection without answering
 *   /hang/fhir/...                       never answers (until the client gives up)
 *   /garbage/fhir/...                    200 with a body that is not valid JSON
 *   GET /__stats?key=K                   {"key":"K","requests":n}; without `key`, every key's count
 *
 * Upstream links (Bundle `next`, `fullUrl`) are rewritten to come back through the same prefix.
 */
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultyServerOptions {
  /** Base URL of the real FHIR API, e.g. `http://127.0.0.1:8081/fhir`. */
  upstream: string;
  port?: number;
  host?: string;
}

export interface FaultyServer {
  /** Root URL of the proxy, e.g. `http://127.0.0.1:8082`; append a behaviour prefix and `/fhir`. */
  url: string;
  port: number;
  /** FHIR base URL for a behaviour prefix: `base('slow/200')` → `http://127.0.0.1:8082/slow/200/fhir`. */
  base(prefix: string): string;
  /** Requests seen so far under a `count` or `flaky` key. */
  requests(key: string): number;
  close(): Promise<void>;
}

type Behaviour =
  | { kind: 'ok' }
  | { kind: 'count'; key: string }
  | { kind: 'slow'; ms: number }
  | { kind: 'fail'; status: number }
  | { kind: 'flaky'; key: string; failures: number; retryAfter: number }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'garbage' };

interface Parsed {
  behaviour: Behaviour;
  /** The path segments before `/fhir`, e.g. `slow/200`. */
  prefix: string;
  /** Path and query after `/fhir`, e.g. `/Patient?_count=5`. */
  rest: string;
}

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const MAX_DELAY_MS = 600_000;
const HOP_HEADERS = ['host', 'connection', 'keep-alive', 'accept-encoding', 'content-length', 'transfer-encoding'];

/** Reads a behaviour from the path; undefined when the path is not `/{behaviour…}/fhir…`. */
export function parseBehaviourPath(url: string): Parsed | undefined {
  const queryStart = url.indexOf('?');
  const path = queryStart < 0 ? url : url.slice(0, queryStart);
  const query = queryStart < 0 ? '' : url.slice(queryStart);
  const segments = path.split('/').slice(1);
  const fhirAt = segments.indexOf('fhir');
  if (fhirAt < 1) {
    return undefined;
  }
  const params = segments.slice(0, fhirAt);
  const rest = `/${segments.slice(fhirAt + 1).join('/')}`.replace(/\/$/, '') + query;
  const behaviour = toBehaviour(params);
  return behaviour ? { behaviour, prefix: params.join('/'), rest } : undefined;
}

function toBehaviour(params: string[]): Behaviour | undefined {
  const [kind, a, b, c] = params;
  const int = (value: string | undefined): number | undefined =>
    value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
  switch (kind) {
    case 'ok':
    case 'reset':
    case 'hang':
    case 'garbage':
      return params.length === 1 ? { kind } : undefined;
    case 'count':
      return params.length === 2 && a ? { kind, key: a } : undefined;
    case 'slow': {
      const ms = int(a);
      return params.length === 2 && ms !== undefined && ms <= MAX_DELAY_MS ? { kind, ms } : undefined;
    }
    case 'fail': {
      const status = int(a);
      return params.length === 2 && status !== undefined && status >= 400 && status <= 599 ? { kind, status } : undefined;
    }
    case 'flaky': {
      const failures = int(b);
      const retryAfter = params.length === 4 ? int(c) : 1;
      return a && failures !== undefined && retryAfter !== undefined && params.length <= 4 && params.length >= 3
        ? { kind, key: a, failures, retryAfter }
        : undefined;
    }
    default:
      return undefined;
  }
}

export async function startFaultyServer(options: FaultyServerOptions): Promise<FaultyServer> {
  const upstream = new URL(options.upstream.replace(/\/+$/, ''));
  const upstreamBase = upstream.toString().replace(/\/+$/, '');
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const counts = new Map<string, number>();
  const count = (key: string): number => {
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    return n;
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    if (url === '/__stats' || url.startsWith('/__stats?')) {
      const key = new URL(url, 'http://x').searchParams.get('key');
      const body = key === null ? Object.fromEntries(counts) : { key, requests: counts.get(key) ?? 0 };
      sendJson(res, 200, body, 'application/json');
      return;
    }
    const parsed = parseBehaviourPath(url);
    if (!parsed) {
      sendJson(res, 404, outcome('not-found', `No behaviour prefix in ${url.split('?')[0] ?? ''}; see faulty-server.ts`));
      return;
    }
    const { behaviour } = parsed;
    const clientBase = `http://${req.headers.host ?? 'localhost'}/${parsed.prefix}/fhir`;
    const proxy = (): void => forward(req, res, { agent, upstream, upstreamBase, clientBase, rest: parsed.rest });
    switch (behaviour.kind) {
      case 'ok':
        proxy();
        return;
      case 'count':
        count(behaviour.key);
        proxy();
        return;
      case 'slow': {
        const timer = setTimeout(proxy, behaviour.ms);
        res.once('close', () => clearTimeout(timer));
        return;
      }
      case 'fail':
        req.resume();
        sendJson(res, behaviour.status, outcome(issueCode(behaviour.status), `Injected failure ${behaviour.status}`));
        return;
      case 'flaky':
        if (count(behaviour.key) <= behaviour.failures) {
          req.resume();
          res.setHeader('retry-after', String(behaviour.retryAfter));
          sendJson(res, 429, outcome('throttled', 'Too many requests (injected)'));
        } else {
          proxy();
        }
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'hang':
        req.resume();
        return;
      case 'garbage':
        req.resume();
        res.writeHead(200, { 'content-type': FHIR_JSON });
        res.end('{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Pat');
        return;
    }
  };

  const server = createServer({ keepAlive: true }, handle);
  server.keepAliveTimeout = 65_000;
  const host = options.host ?? '127.0.0.1';
  await listen(server, options.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;
  const root = `http://${host}:${port}`;
  return {
    url: root,
    port,
    base: (prefix) => `${root}/${prefix.replace(/^\/+|\/+$/g, '')}/fhir`,
    requests: (key) => counts.get(key) ?? 0,
    close: () =>
      new Promise<void>((resolve, reject) => {
        agent.destroy();
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

interface ForwardTarget {
  agent: Agent;
  upstream: URL;
  upstreamBase: string;
  clientBase: string;
  rest: string;
}

function forward(req: IncomingMessage, res: ServerResponse, target: ForwardTarget): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_HEADERS.includes(name)) {
      headers[name] = value;
    }
  }
  const upstreamReq = httpRequest(
    {
      agent: target.agent,
      hostname: target.upstream.hostname,
      port: target.upstream.port,
      method: req.method,
      path: `${target.upstream.pathname.replace(/\/+$/, '')}${target.rest}`,
      headers: { ...headers, host: target.upstream.host },
    },
    (upstreamRes) => {
      const chunks: Buffer[] = [];
      upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
      upstreamRes.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8').split(target.upstreamBase).join(target.clientBase);
        const responseHeaders: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(upstreamRes.headers)) {
          if (value !== undefined && !HOP_HEADERS.includes(name)) {
            responseHeaders[name] = value;
          }
        }
        responseHeaders['content-length'] = String(Buffer.byteLength(body));
        res.writeHead(upstreamRes.statusCode ?? 502, responseHeaders);
        res.end(body);
      });
      upstreamRes.on('error', () => res.destroy());
    },
  );
  upstreamReq.on('error', () => {
    if (!res.headersSent) {
      sendJson(res, 502, outcome('transient', 'Upstream FHIR server unreachable'));
    } else {
      res.destroy();
    }
  });
  req.pipe(upstreamReq);
}

function issueCode(status: number): string {
  const codes: Record<number, string> = { 401: 'login', 403: 'forbidden', 404: 'not-found', 429: 'throttled', 503: 'transient', 504: 'timeout' };
  return codes[status] ?? (status >= 500 ? 'exception' : 'invalid');
}

function outcome(code: string, text: string): object {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, details: { text } }] };
}

function sendJson(res: ServerResponse, status: number, body: object, contentType = FHIR_JSON): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}

function parseArgs(argv: readonly string[]): FaultyServerOptions {
  const options: FaultyServerOptions = { upstream: 'http://127.0.0.1:8081/fhir', port: 8082 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) {
      throw new Error(`${flag ?? ''} needs a value`);
    }
    if (flag === '--port') {
      options.port = Number(value);
    } else if (flag === '--host') {
      options.host = value;
    } else if (flag === '--upstream') {
      options.upstream = value;
    } else {
      throw new Error(`unknown argument ${flag ?? ''}`);
    }
  }
  return options;
}

if (require.main === module) {
  const options = parseArgs(process.argv.slice(2));
  startFaultyServer(options)
    .then((server) => {
      console.log(`ready port=${server.port} upstream=${options.upstream}`);
      const stop = (): void => {
        void server.close().finally(() => process.exit(0));
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    })
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
