/** Reading the YAML config: `${ENV_VAR}` substitution, validation, messages that name the bad key. */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { ZodIssue } from 'zod';
import { ConfigError } from '../errors';
import { configSchema, type GatewayConfig } from './schema';

const ENV_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces `${NAME}` (or `${NAME:-default}`) in every string value. A missing variable is an error. */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, path: (string | number)[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_RE, (_, name: string, fallback: string | undefined) => {
      const found = env[name] ?? fallback;
      if (found === undefined) throw new ConfigError(`${keyPath(path)}: environment variable ${name} is not set`);
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, [...path, i]));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, [...path, k])]));
  }
  return value;
}

function keyPath(path: readonly (string | number)[]): string {
  return path.length === 0 ? '(top level)' : path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[');
}

function describeIssue(issue: ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `${keyPath(issue.path)}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_union_discriminator') return `${keyPath(issue.path)}: must be one of ${issue.options.map((o) => `"${String(o)}"`).join(', ')}`;
  return `${keyPath(issue.path)}: ${issue.message}`;
}

/** Validates a parsed config object, throwing a ConfigError listing every problem. */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env, origin = 'config'): GatewayConfig {
  const substituted = substituteEnv(raw ?? {}, env);
  const result = configSchema.safeParse(substituted);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  - ${describeIssue(issue)}`);
    throw new ConfigError(`Invalid ${origin}:\n${lines.join('\n')}`);
  }
  return result.data;
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`Cannot read config file ${file}`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new ConfigError(`Invalid YAML in ${file}: ${doc.errors[0]!.message}`);
  return parseConfig(doc.toJS(), env, file);
}
