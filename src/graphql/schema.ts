/** The executable schema: SDL from schema/, resolvers from resolvers/, FHIR defaults for the rest. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, isObjectType, type GraphQLSchema } from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { FHIR_ENUMS, resolvers } from '../../resolvers';
import { projectRoot } from '../paths';
import { applyFieldDefaults, fhirEnumValues } from './field-defaults';
import { reads, readsOf } from './reads';

export function loadTypeDefs(dir = join(projectRoot(), 'schema')): string {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
}

export function buildGatewaySchema(): GraphQLSchema {
  const typeDefs = loadTypeDefs();
  const enumValues = fhirEnumValues(buildSchema(typeDefs), FHIR_ENUMS);
  const sourceState = { SourceState: { UP: 'UP', DOWN: 'DOWN', DEGRADED: 'DEGRADED' } };
  const schema = applyFieldDefaults(makeExecutableSchema({ typeDefs, resolvers: [...resolvers, enumValues, sourceState] as never }));
  carryReads(schema, resolvers);
  return schema;
}

/**
 * makeExecutableSchema binds each resolver to its map (a new function), so what a resolver says it
 * reads (`reads`) is carried over to the function the schema holds.
 */
function carryReads(schema: GraphQLSchema, maps: readonly object[]): void {
  for (const map of maps) {
    for (const [typeName, fields] of Object.entries(map)) {
      const type = schema.getType(typeName);
      if (!isObjectType(type) || typeof fields !== 'object' || fields === null) continue;
      for (const [fieldName, resolve] of Object.entries(fields as Record<string, unknown>)) {
        const read = readsOf(resolve);
        const field = type.getFields()[fieldName];
        if (read && field?.resolve) reads(read, field.resolve);
      }
    }
  }
}
