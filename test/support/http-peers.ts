/**
 * Small real HTTP servers for transport tests: a generic scriptable peer, a SMART token endpoint
 * that verifies private_key_jwt assertions with jose, a bearer-checking FHIR server and one that
 * verifies AWS SigV4 signatures by recomputing them. Failure injection is a handler that
 * misbehaves (slow, 429, 503, reset, garbage), never a mocked client.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { jwtVerify } from 'jose';

export interface RecordedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** Client port of the connection: equal ports mean a reused keep-alive connection. */
  remotePort: number | undefined;
}

export type PeerHandler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface HttpPeer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  requests: RecordedRequest[];
  /** Replaces the handler for the following requests. */
  handle(handler: PeerHandler): void;
  close(): Promise<void>;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/fhir+json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Answers one scripted handler per request, in order; the last one repeats. */
export function sequence(...handlers: PeerHandler[]): PeerHandler {
  let next = 0;
  return (req, res) => {
    const handler = handlers[Math.min(next++, handlers.length - 1)];
    if (!handler) throw new Error('sequence() needs at least one handler');
    return handler(req, res);
  };
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function startPeer(handler: PeerHandler = (_req, res) => sendJson(res, 200, {})): Promise<HttpPeer> {
  let current = handler;
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    readBody(req)
      .then(async (body) => {
        const recorded: RecordedRequest = {
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          headers: req.headers,
          body,
          remotePort: req.socket.remotePort,
        };
        requests.push(recorded);
        await current(recorded, res);
      })
      .catch(() => {
        if (!res.headersSent) sendText(res, 500, 'peer handler failed');
      });
  });
  const origin = await listen(server);
  return {
    origin,
    requests,
    handle: (next) => {
      current = next;
    },
    close: () => closeServer(server),
  };
}

/** A URL on which nothing listens: connecting to it is refused. */
export async function refusedOrigin(): Promise<string> {
  const server = createServer();
  const origin = await listen(server);
  await closeServer(server);
  return origin;
}

export interface TokenServerOptions {
  clientId: string;
  /** Public key that must verify the client assertion. */
  publicKey: KeyObject;
  alg: 'RS384' | 'ES384';
  expiresIn?: number;
  /** Delay before answering, to let concurrent callers pile up. */
  delayMs?: number;
}

export interface TokenServer extends HttpPeer {
  tokenUrl: string;
  /** Tokens issued and not revoked. */
  validTokens: Set<string>;
  /** Verified assertion headers and claims, one per successful token request. */
  assertions: Array<{ header: Record<string, unknown>; claims: Record<string, unknown>; scope: string | undefined }>;
}

/** A SMART Backend Services token endpoint at `/token`. */
export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServer> {
  const validTokens = new Set<string>();
  const assertions: TokenServer['assertions'] = [];
  const seenJti = new Set<string>();
  let issued = 0;
  const peer = await startPeer();
  const tokenUrl = `${peer.origin}/token`;
  peer.handle(async (req, res) => {
    if (opts.delayMs) await delay(opts.delayMs);
    const form = new URLSearchParams(req.body);
    const rejected = (error: string): void => sendJson(res, error === 'invalid_client' ? 401 : 400, { error });
    if (req.method !== 'POST' || req.url !== '/token') return sendJson(res, 404, {});
    if (form.get('grant_type') !== 'client_credentials') return rejected('unsupported_grant_type');
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      return rejected('invalid_request');
    }
    try {
      const { payload, protectedHeader } = await jwtVerify(form.get('client_assertion') ?? '', opts.publicKey, {
        issuer: opts.clientId,
        subject: opts.clientId,
        audience: tokenUrl,
        algorithms: [opts.alg],
        requiredClaims: ['exp', 'jti'],
      });
      const nowS = Math.floor(Date.now() / 1000);
      if ((payload.exp ?? 0) - nowS > 300 || typeof payload.jti !== 'string' || seenJti.has(payload.jti)) {
        return rejected('invalid_client');
      }
      seenJti.add(payload.jti);
      assertions.push({
        header: { ...protectedHeader },
        claims: { ...payload },
        scope: form.get('scope') ?? undefined,
      });
    } catch {
      return rejected('invalid_client');
    }
    const token = `token-${++issued}`;
    validTokens.add(token);
    sendJson(res, 200, {
      access_token: token,
      token_type: 'bearer',
      expires_in: opts.expiresIn ?? 300,
      scope: form.get('scope'),
    });
  });
  return { ...peer, tokenUrl, validTokens, assertions };
}

/** A FHIR server answering any path with a Patient, but only for `Authorization: Bearer <valid token>`. */
export async function startBearerFhirServer(validTokens: () => ReadonlySet<string>): Promise<HttpPeer> {
  return startPeer((req, res) => {
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!match?.[1] || !validTokens().has(match[1])) return sendJson(res, 401, { resourceType: 'OperationOutcome' });
    sendJson(res, 200, { resourceType: 'Patient', id: 'p1' });
  });
}

export interface SigV4Expectation {
  region: string;
  service: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * A FHIR server that recomputes each request's SigV4 signature with the expected credentials and
 * answers 403 (with the reason in the body) when it does not match.
 */
export async function startSigV4FhirServer(expected: SigV4Expectation): Promise<HttpPeer> {
  const signer = new SignatureV4({
    service: expected.service,
    region: expected.region,
    credentials: expected,
    sha256: Sha256,
  });
  return startPeer(async (req, res) => {
    const problem = await sigV4Problem(signer, expected, req);
    if (problem) return sendJson(res, 403, { resourceType: 'OperationOutcome', problem });
    sendJson(res, 200, { resourceType: 'Bundle', type: 'searchset', entry: [] });
  });
}

async function sigV4Problem(
  signer: SignatureV4,
  expected: SigV4Expectation,
  req: RecordedRequest,
): Promise<string | undefined> {
  const auth = /^AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
    req.headers.authorization ?? '',
  );
  if (!auth) return 'malformed authorization header';
  const [, credential = '', signedHeaders = '', signature] = auth;
  const [keyId, day, region, service, terminator] = credential.split('/');
  if (keyId !== expected.accessKeyId || region !== expected.region || service !== expected.service) {
    return 'wrong credential scope';
  }
  const amzDate = header(req, 'x-amz-date');
  if (terminator !== 'aws4_request' || !amzDate?.startsWith(day ?? '-')) return 'bad credential date';
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate || Math.abs(Date.now() - signingDate.getTime()) > 5 * 60_000) return 'stale x-amz-date';
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) return 'host and x-amz-date must be signed';
  if (expected.sessionToken && header(req, 'x-amz-security-token') !== expected.sessionToken)
    return 'bad session token';
  const bodyHash = header(req, 'x-amz-content-sha256');
  if (bodyHash !== undefined && bodyHash !== createHash('sha256').update(req.body).digest('hex'))
    return 'body hash mismatch';

  const url = new URL(req.url, 'http://placeholder');
  const query: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) (query[name] ??= []).push(value);
  const headers: Record<string, string> = {};
  for (const name of names) headers[name] = header(req, name) ?? '';
  const resigned = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: url.hostname,
      path: url.pathname,
      query,
      headers,
      body: req.body,
    },
    { signingDate },
  );
  return resigned.headers.authorization?.endsWith(`Signature=${signature}`) ? undefined : 'signature mismatch';
}

function header(req: RecordedRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
