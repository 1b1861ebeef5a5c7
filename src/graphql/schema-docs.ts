/** The schema reference (docs/schema.md), generated from the SDL so it always matches the contract. */
import {
  GraphQLEnumType,
  GraphQLInputObjectType,
  GraphQLInterfaceType,
  GraphQLObjectType,
  GraphQLScalarType,
  buildSchema,
  type GraphQLNamedType,
} from 'graphql';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../paths';

function oneLine(text: string | null | undefined): string {
  return (text ?? '').replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();
}

function typeSection(type: GraphQLNamedType): string[] {
  const lines = [`### ${type.name}`, ''];
  if (type.description) lines.push(oneLine(type.description), '');
  if (type instanceof GraphQLObjectType || type instanceof GraphQLInterfaceType) {
    const interfaces = type.getInterfaces().map((i) => i.name);
    if (interfaces.length > 0) lines.push(`Implements: ${interfaces.join(', ')}`, '');
    lines.push('| field | type | description |', '|---|---|---|');
    for (const field of Object.values(type.getFields())) {
      const args = field.args.length > 0 ? `(${field.args.map((a) => `${a.name}: ${a.type.toString()}`).join(', ')})` : '';
      lines.push(`| \`${field.name}${args}\` | \`${field.type.toString()}\` | ${oneLine(field.description)} |`);
    }
  } else if (type instanceof GraphQLInputObjectType) {
    lines.push('| field | type | description |', '|---|---|---|');
    for (const field of Object.values(type.getFields())) {
      lines.push(`| \`${field.name}\` | \`${field.type.toString()}\` | ${oneLine(field.description)} |`);
    }
  } else if (type instanceof GraphQLEnumType) {
    lines.push(`Values: ${type.getValues().map((v) => `\`${v.name}\``).join(', ')}`);
  } else if (type instanceof GraphQLScalarType) {
    lines.push('Scalar.');
  }
  lines.push('');
  return lines;
}

/** Markdown reference: one section per schema file (domain), types in the order they are written. */
export function schemaReferenceMarkdown(dir = join(projectRoot(), 'schema')): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.graphql')).sort();
  const all = files.map((f) => readFileSync(join(dir, f), 'utf8'));
  const schema = buildSchema(all.join('\n'));
  const out = [
    '# Schema reference',
    '',
    'Generated from `schema/*.graphql` by `make docs`; do not edit by hand. Field names follow FHIR R4 element names.',
    '',
  ];
  files.forEach((file, i) => {
    out.push(`## ${file.replace(/\.graphql$/, '')}`, '');
    const names = [...all[i]!.matchAll(/^(?:type|interface|input|enum|scalar)\s+(\w+)/gm)].map((m) => m[1]!);
    for (const name of names) {
      const type = schema.getType(name);
      if (type) out.push(...typeSection(type));
    }
  });
  return out.join('\n');
}
