/** Reading a mapping: a built-in preset by name, or a YAML file; validated, with messages naming the bad key. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { ZodIssue } from 'zod';
import { ConfigError } from '../../../src/errors';
import { projectRoot } from '../../../src/paths';
import { mappingSchema, type MappingSpec } from './schema';

export const PRESETS = ['omop', 'claims'] as const;

export function presetPath(name: string): string {
  return join(projectRoot(), 'connectors', 'sql', 'presets', `${name}.yaml`);
}

function keyPath(path: readonly (string | number)[]): string {
  return path.length === 0 ? '(top level)' : path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[');
}

/** The deepest, most specific message for an issue (unions report their members' issues). */
function describe(issue: ZodIssue): string[] {
  if (issue.code === 'invalid_union') {
    const nested = issue.unionErrors.map((e) => e.issues);
    // Prefer the member that got furthest (the longest path) — usually the one the author meant.
    const best = nested.flat().sort((a, b) => b.path.length - a.path.length)[0];
    if (best && best.path.length > issue.path.length) return describe(best);
    return [`${keyPath(issue.path)}: not a valid element spec (a column name, or an object with one of column, const, reference, concept, coding, quantity, object, list, rows)`];
  }
  if (issue.code === 'unrecognized_keys') return [`${keyPath(issue.path)}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`];
  return [`${keyPath(issue.path)}: ${issue.message}`];
}

export function parseMapping(raw: unknown, origin: string): MappingSpec {
  const result = mappingSchema.safeParse(raw ?? {});
  if (!result.success) {
    const lines = [...new Set(result.error.issues.flatMap(describe))].map((l) => `  - ${l}`);
    throw new ConfigError(`Invalid SQL mapping ${origin}:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** A preset name (`omop`, `claims`) or a path to a YAML mapping file. */
export function loadMapping(nameOrPath: string): MappingSpec {
  const file = (PRESETS as readonly string[]).includes(nameOrPath) ? presetPath(nameOrPath) : resolve(nameOrPath);
  if (!existsSync(file)) throw new ConfigError(`SQL mapping "${nameOrPath}" is neither a preset (${PRESETS.join(', ')}) nor a readable file`);
  const doc = parseDocument(readFileSync(file, 'utf8'));
  if (doc.errors.length > 0) throw new ConfigError(`Invalid YAML in ${file}: ${doc.errors[0]!.message}`);
  return parseMapping(doc.toJS(), file);
}
