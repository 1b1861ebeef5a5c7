/** The executable schema: SDL from schema/, resolvers from resolvers/, FHIR defaults for the rest. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, type GraphQLSchema } from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { FHIR_ENUMS, resolvers } from '../../resolvers';
import { projectRoot } from '../paths';
import { applyFieldDefaults, fhirEnumValues } from './field-defaults';

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
  const schema = makeExecutableSchema({ typeDefs, resolvers: [...resolvers, enumValues, sourceState] as never });
  return applyFieldDefaults(schema);
}
