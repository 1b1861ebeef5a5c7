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

export function encodeId(source: string, type: ResourceType, id: string): string {
  return Buffer.from(`${PREFIX}:${source}:${type}:${id}`, 'utf8').toString('base64url');
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
