/**
 * What `lake import` reads: files and folders expanded into inputs, and each input read as a
 * stream of numbered units (an NDJSON line, a JSON file, an archive member). Unit numbers are the
 * same on every run, which is what checkpoints and resuming rely on.
 */
import { spawn } from 'node:child_process';
import { createReadStream, promises as fs } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import { tarMembers } from './tar';
import { typeFromFileName } from './parse';

export type InputKind = 'ndjson' | 'ndjson.gz' | 'json' | 'tar.xz' | 'tar.gz' | 'tar' | 'ndjson-url';

export interface Input {
  /** Stable identity for checkpoints: path, size and modification time. */
  key: string;
  path: string;
  kind: InputKind;
  size: number;
  /** For `ndjson-url` inputs (Bulk Data output files): the type the export manifest gives. */
  expectedType?: string;
  /** Headers for `ndjson-url` inputs. */
  headers?: Record<string, string>;
}

export interface Unit {
  /** 0-based, in reading order. */
  index: number;
  /** File (or `archive!member`) for provenance and error reports. */
  file: string;
  /** 1-based line for NDJSON lines. */
  line?: number;
  text: string;
  /** The resource type the file name promises (Bulk Data `Type.000.ndjson`). */
  expectedType?: string;
}

export function kindOf(path: string): InputKind | undefined {
  if (/\.ndjson$/i.test(path)) return 'ndjson';
  if (/\.ndjson\.gz$/i.test(path)) return 'ndjson.gz';
  if (/\.json$/i.test(path)) return 'json';
  if (/\.tar\.xz$|\.txz$/i.test(path)) return 'tar.xz';
  if (/\.tar\.gz$|\.tgz$/i.test(path)) return 'tar.gz';
  if (/\.tar$/i.test(path)) return 'tar';
  return undefined;
}

async function walk(path: string, out: string[]): Promise<void> {
  const stat = await fs.stat(path);
  if (!stat.isDirectory()) {
    out.push(path);
    return;
  }
  const names = (await fs.readdir(path)).sort();
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const child = join(path, name);
    const childStat = await fs.stat(child);
    if (childStat.isDirectory()) await walk(child, out);
    else if (kindOf(child)) out.push(child);
  }
}

/** Files and folders (recursively, sorted) as inputs; unknown file kinds given by name are an error. */
export async function expandInputs(paths: readonly string[]): Promise<Input[]> {
  const files: string[] = [];
  for (const path of paths) await walk(resolve(path), files);
  const inputs: Input[] = [];
  for (const path of files) {
    const kind = kindOf(path);
    if (!kind) throw new Error(`${path}: not .ndjson, .ndjson.gz, .json, .tar, .tar.gz or .tar.xz`);
    const stat = await fs.stat(path);
    inputs.push({ key: `${path}\t${stat.size}\t${Math.floor(stat.mtimeMs)}`, path, kind, size: stat.size });
  }
  return inputs;
}

/** A file's raw bytes, counting them as they are read (for progress and ETA). */
function rawStream(path: string, onBytes: (n: number) => void): Readable {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  stream.on('data', (chunk) => onBytes(chunk.length));
  return stream;
}

async function* lines(stream: Readable, file: string, expectedType: string | undefined, next: () => number): AsyncGenerator<Unit> {
  const reader = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  for await (const text of reader) {
    line++;
    if (text.trim() === '') continue;
    yield { index: next(), file, line, text, expectedType };
  }
}

/** Decompresses with the system `xz` (a second core for decompression, and no extra npm package). */
function xzStream(path: string, onBytes: (n: number) => void): Readable {
  const child = spawn('xz', ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const input = rawStream(path, onBytes);
  input.pipe(child.stdin);
  child.stdin.on('error', () => undefined);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.on('close', (code) => {
    if (code !== 0) child.stdout.destroy(new Error(`xz: ${stderr.trim() || `exit ${code}`}`));
  });
  child.on('error', (error) => child.stdout.destroy(new Error(`xz is not available: ${error.message}`)));
  return child.stdout;
}

/** Every unit of an input, in order. Stream errors (truncated gzip, corrupt archive) are thrown after the good units. */
export async function* readUnits(input: Input, onBytes: (n: number) => void): AsyncGenerator<Unit> {
  let counter = 0;
  const next = (): number => counter++;
  const name = input.path;
  switch (input.kind) {
    case 'ndjson':
      yield* lines(rawStream(input.path, onBytes), name, typeFromFileName(name), next);
      return;
    case 'ndjson.gz': {
      const gunzip = createGunzip();
      rawStream(input.path, onBytes).pipe(gunzip);
      yield* lines(gunzip, name, typeFromFileName(name), next);
      return;
    }
    case 'ndjson-url': {
      const res = await fetch(input.path, { headers: { accept: 'application/fhir+ndjson', ...input.headers } });
      if (!res.ok || !res.body) throw new Error(`GET ${input.path} answered ${res.status}`);
      const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
      body.on('data', (chunk: Buffer) => onBytes(chunk.length));
      yield* lines(body, name, input.expectedType, next);
      return;
    }
    case 'json': {
      const text = await fs.readFile(input.path, 'utf8');
      onBytes(input.size);
      yield { index: next(), file: name, text };
      return;
    }
    case 'tar':
    case 'tar.gz':
    case 'tar.xz': {
      let stream: Readable;
      if (input.kind === 'tar.xz') stream = xzStream(input.path, onBytes);
      else if (input.kind === 'tar.gz') stream = rawStream(input.path, onBytes).pipe(createGunzip());
      else stream = rawStream(input.path, onBytes);
      for await (const member of tarMembers(stream)) {
        const memberName = `${basename(input.path)}!${member.name}`;
        const kind = kindOf(member.name);
        if (kind === 'json') {
          yield { index: next(), file: memberName, text: member.data.toString('utf8') };
        } else if (kind === 'ndjson') {
          const expectedType = typeFromFileName(member.name);
          let line = 0;
          for (const text of member.data.toString('utf8').split('\n')) {
            line++;
            if (text.trim() !== '') yield { index: next(), file: memberName, line, text, expectedType };
          }
        }
      }
      return;
    }
  }
}
