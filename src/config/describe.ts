/**
 * The configuration reference, derived from the schema itself so docs cannot drift: every setting
 * with its type, default and description. `healthgraph config docs` prints it as Markdown.
 */
import { z } from 'zod';
import { configSchema } from './schema';

export interface SettingDoc {
  path: string;
  type: string;
  default?: string;
  description?: string;
}

function unwrap(schema: z.ZodTypeAny): { inner: z.ZodTypeAny; defaultValue?: unknown; description?: string } {
  let current = schema;
  let defaultValue: unknown;
  let description = schema.description;
  for (;;) {
    description ??= current.description;
    if (current instanceof z.ZodDefault) {
      defaultValue = current._def.defaultValue();
      current = current._def.innerType;
    } else if (current instanceof z.ZodOptional || current instanceof z.ZodNullable) current = current._def.innerType;
    else if (current instanceof z.ZodEffects) current = current._def.schema;
    else break;
  }
  return { inner: current, defaultValue, description: description ?? current.description };
}

function typeName(schema: z.ZodTypeAny): string {
  if (schema instanceof z.ZodString) return 'string';
  if (schema instanceof z.ZodNumber) return 'number';
  if (schema instanceof z.ZodBoolean) return 'boolean';
  if (schema instanceof z.ZodLiteral) return JSON.stringify(schema._def.value);
  if (schema instanceof z.ZodEnum) return (schema._def.values as string[]).map((v) => JSON.stringify(v)).join(' \\| ');
  if (schema instanceof z.ZodArray) return 'list';
  if (schema instanceof z.ZodDiscriminatedUnion) return 'one of';
  return 'object';
}

function walk(schema: z.ZodTypeAny, path: string, out: SettingDoc[]): void {
  const { inner, defaultValue, description } = unwrap(schema);
  const simpleDefault = defaultValue !== undefined && typeof defaultValue !== 'object';
  if (path) out.push({ path, type: typeName(inner), default: simpleDefault ? JSON.stringify(defaultValue) : undefined, description });
  if (inner instanceof z.ZodObject) {
    for (const [key, child] of Object.entries(inner.shape as Record<string, z.ZodTypeAny>)) walk(child, path ? `${path}.${key}` : key, out);
  } else if (inner instanceof z.ZodArray) {
    walk(inner._def.type, `${path}[]`, out);
  } else if (inner instanceof z.ZodDiscriminatedUnion) {
    for (const option of inner._def.options as z.ZodObject<z.ZodRawShape>[]) {
      const discriminator = inner._def.discriminator as string;
      const literal = (option.shape[discriminator] as z.ZodLiteral<string>)._def.value;
      for (const [key, child] of Object.entries(option.shape as Record<string, z.ZodTypeAny>)) {
        if (key === discriminator) continue;
        walk(child, `${path}(${discriminator}=${literal}).${key}`, out);
      }
    }
  }
}

/** Every setting in the configuration schema, depth first. */
export function describeConfig(): SettingDoc[] {
  const out: SettingDoc[] = [];
  walk(configSchema, '', out);
  return out;
}

export function configReferenceMarkdown(): string {
  const rows = describeConfig().map(
    (s) => `| \`${s.path}\` | ${s.type} | ${s.default !== undefined ? `\`${s.default}\`` : ''} | ${(s.description ?? '').replace(/\|/g, '\\|')} |`,
  );
  return ['| setting | type | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
