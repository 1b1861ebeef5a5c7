/**
 * A streaming reader for tar archives (ustar, pax and GNU long names): yields each regular file's
 * name and content in archive order, holding one member in memory at a time.
 */
import type { Readable } from 'node:stream';

export interface TarMember {
  name: string;
  data: Buffer;
}

const BLOCK = 512;

function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

function octal(header: Buffer, offset: number, length: number): number {
  const text = field(header, offset, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function paxPath(data: Buffer): string | undefined {
  // Records: "<len> key=value\n".
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1) break;
    const len = Number(data.subarray(pos, space).toString('ascii'));
    if (!Number.isInteger(len) || len <= 0) break;
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (record.slice(0, eq) === 'path') return record.slice(eq + 1);
    pos += len;
  }
  return undefined;
}

/** The regular files of a tar stream. Throws when the stream ends inside a member (truncated archive). */
export async function* tarMembers(stream: Readable): AsyncGenerator<TarMember> {
  let buffer: Buffer = Buffer.alloc(0);
  let longName: string | undefined;
  const chunks = stream[Symbol.asyncIterator]();
  let ended = false;

  async function fill(size: number): Promise<boolean> {
    const parts = [buffer];
    let have = buffer.length;
    while (have < size && !ended) {
      const next = await chunks.next();
      if (next.done) {
        ended = true;
        break;
      }
      const chunk = next.value as Buffer;
      parts.push(chunk);
      have += chunk.length;
    }
    if (parts.length > 1) buffer = Buffer.concat(parts);
    return buffer.length >= size;
  }

  for (;;) {
    if (!(await fill(BLOCK))) {
      if (buffer.length === 0) return;
      throw new Error('truncated tar archive (partial header)');
    }
    const header = buffer.subarray(0, BLOCK);
    if (header.every((b) => b === 0)) return;
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] ?? 0x30);
    const prefix = field(header, 345, 155);
    const base = field(header, 0, 100);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (!(await fill(BLOCK + padded))) throw new Error(`truncated tar archive (inside ${longName ?? base})`);
    const data = Buffer.from(buffer.subarray(BLOCK, BLOCK + size));
    buffer = buffer.subarray(BLOCK + padded);
    if (type === 'x') {
      longName = paxPath(data) ?? longName;
      continue;
    }
    if (type === 'L') {
      longName = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    const name = longName ?? (prefix ? `${prefix}/${base}` : base);
    longName = undefined;
    if (type === '0' || type === '\0' || type === '7') yield { name, data };
  }
}
