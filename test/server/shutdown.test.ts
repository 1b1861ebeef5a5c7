/**
 * Graceful shutdown: closing the gateway waits for the requests it is still answering before it
 * closes the sources and the audit trail; a request that arrives meanwhile on a connection kept
 * alive is refused with 503 SHUTTING_DOWN and `connection: close` (and audited), so a busy client
 * can neither keep shutdown waiting nor reach sources that are closing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditStore } from '../../src/audit/store';
import { encodeId } from '../../src/ids';
import { faultyUrl, fhirSource, startGateway } from '../support/services';

const request = (id: string, source: string): string => {
  const body = JSON.stringify({ query: `{ patient(id: "${encodeId(source, 'Patient', 'nobody')}") { id } }` });
  return `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nx-request-id: ${id}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
};

/** A raw keep-alive connection: what it received, and when the gateway closed it. */
function client(port: number): { socket: Socket; received: () => string[]; closed: Promise<unknown> } {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (chunk) => (text += chunk.toString('utf8')));
  socket.on('error', () => undefined);
  return { socket, received: () => text.split(/(?=HTTP\/1\.1 )/).filter(Boolean), closed: new Promise((resolve) => socket.on('close', resolve)) };
}

test('closing answers the requests in progress and audits them; one sent meanwhile on a kept-alive connection gets 503 SHUTTING_DOWN', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'hg-shutdown-')), 'audit.sqlite');
  const retry = { timeoutMs: 5000, retry: { maxAttempts: 1 } };
  // Reads from `slower` take 1.2 s, from `slow` 0.3 s.
  const gateway = await startGateway({ sources: [fhirSource('slower', faultyUrl('slow/1200'), retry), fhirSource('slow', faultyUrl('slow/300'), retry)], audit: { file } });
  const port = Number(new URL(gateway.url).port);
  const long = client(port);
  const short = client(port);
  long.socket.write(request('long', 'slower'));
  short.socket.write(request('short', 'slow'));
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = performance.now();
  const closing = gateway.close();
  // While shutdown waits, a second request on `short` (pipelined behind its first, still running).
  await new Promise((resolve) => setTimeout(resolve, 50));
  short.socket.write(request('too-late', 'slow'));
  await closing;
  const waited = performance.now() - started;
  await Promise.all([long.closed, short.closed]);
  // close() waited for `long` (the rest of its 1.2 s), not for the 10 s grace.
  expect(waited).toBeGreaterThan(800);
  expect(waited).toBeLessThan(5000);
  expect(long.received()).toHaveLength(1);
  expect(long.received()[0]).toMatch(/^HTTP\/1\.1 200/);
  const [first, second] = short.received();
  expect(first).toMatch(/^HTTP\/1\.1 200[\s\S]*x-request-id: short/);
  expect(second).toMatch(/^HTTP\/1\.1 503/);
  expect(second).toContain('SHUTTING_DOWN');
  expect(second!.toLowerCase()).toContain('connection: close');
  const store = new AuditStore(file);
  try {
    const events = store.query({ limit: 10 });
    const outcome = (id: string): unknown => events.find((e) => e.event.requestId === id)?.event;
    expect(outcome('long')).toMatchObject({ outcome: 'ok', status: 200 });
    expect(outcome('short')).toMatchObject({ outcome: 'ok', status: 200 });
    expect(outcome('too-late')).toMatchObject({ outcome: 'denied', status: 503 });
    expect(store.verify().ok).toBe(true);
  } finally {
    store.close();
    rmSync(join(file, '..'), { recursive: true, force: true });
  }
});
