/**
 * Gateway ids: opaque, stable, globally unique. Each encodes the source, the resource type and the
 * source's record id, so `node(id)` can route to the right source without a lookup table. A unified
 * patient (one person across sources) has an id of its own kind that encodes its person id.
 */
import { isResourceType, type ResourceType } from '../connectors/types';
import { badInput } from './errors';

const PREFIX = 'hg1';

export interface DecodedId {
  source: string;
  type: ResourceType;
  id: string;
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** base64url of an ASCII string, without padding (what Buffer gives), for the few bytes after a cached head. */
function asciiBase64url(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  for (; i + 2 < n; i += 3) {
    const v = (text.charCodeAt(i) << 16) | (text.charCodeAt(i + 1) << 8) | text.charCodeAt(i + 2);
    out += BASE64URL[v >> 18]! + BASE64URL[(v >> 12) & 63]! + BASE64URL[(v >> 6) & 63]! + BASE64URL[v & 63]!;
  }
  if (n - i === 1) {
    const v = text.charCodeAt(i) << 16;
    out += BASE64URL[v >> 18]! + BASE64URL[(v >> 12) & 63]!;
  } else if (n - i === 2) {
    const v = (text.charCodeAt(i) << 16) | (text.charCodeAt(i + 1) << 8);
    out += BASE64URL[v >> 18]! + BASE64URL[(v >> 12) & 63]! + BASE64URL[(v >> 6) & 63]!;
  }
  return out;
}

const isAscii = (text: string): boolean => /^[\x00-\x7f]*$/.test(text);

/**
 * Per source and type, the encoding of the id prefix's first whole 3-byte groups (base64 encodes
 * each group on its own, so those characters never change) and the bytes left over. Encoding an
 * id then costs only its own few bytes: a wide answer encodes thousands.
 */
const heads = new Map<string, { head: string; tail: string } | null>();
const MAX_HEADS = 1000;

export function encodeId(source: string, type: ResourceType, id: string): string {
  const key = `${source}\u0000${type}`;
  let cached = heads.get(key);
  if (cached === undefined) {
    const prefix = `${PREFIX}:${source}:${type}:`;
    const cut = prefix.length - (prefix.length % 3);
    cached = isAscii(prefix) ? { head: Buffer.from(prefix.slice(0, cut), 'utf8').toString('base64url'), tail: prefix.slice(cut) } : null;
    if (heads.size < MAX_HEADS) heads.set(key, cached);
  }
  if (cached === null || !isAscii(id)) return Buffer.from(`${PREFIX}:${source}:${type}:${id}`, 'utf8').toString('base64url');
  return cached.head + asciiBase64url(cached.tail + id);
}

/** Decodes a gateway id; undefined when it is not one. */
export function tryDecodeId(value: string): DecodedId | undefined {
  if (value.length === 0 || value.length > 512 || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  const text = Buffer.from(value, 'base64url').toString('utf8');
  const parts = text.split(':');
  if (parts.length < 4 || parts[0] !== PREFIX) return undefined;
  const [, source, type, ...rest] = parts;
  const id = rest.join(':');
  if (!source || !type || !isResourceType(type) || id.length === 0) return undefined;
  return { source, type, id };
}

const PERSON_PREFIX = 'hgp1';

/** The gateway id of a unified patient (a person of the identity index, docs/identity.md). */
export function encodePersonId(personId: string): string {
  return Buffer.from(`${PERSON_PREFIX}:${personId}`, 'utf8').toString('base64url');
}

/** The person id inside a unified patient id; undefined when the value is not one. */
export function tryDecodePersonId(value: string): string | undefined {
  if (value.length === 0 || value.length > 512 || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  const text = Buffer.from(value, 'base64url').toString('utf8');
  if (!text.startsWith(`${PERSON_PREFIX}:`)) return undefined;
  const id = text.slice(PERSON_PREFIX.length + 1);
  return /^[A-Za-z0-9_-]{1,128}$/.test(id) ? id : undefined;
}

/** Decodes a gateway id or throws a BAD_USER_INPUT error naming the argument. */
export function decodeId(value: string, argument = 'id'): DecodedId {
  const decoded = tryDecodeId(value);
  if (!decoded) throw badInput(`"${argument}" is not a valid healthgraph id`, { argument });
  return decoded;
}
