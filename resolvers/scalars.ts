import { GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { badInput } from '../src/errors';
import { isFhirDate } from '../src/model/dates';

function literalToJson(ast: ValueNode): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literalToJson(f.value)]));
    case Kind.LIST:
      return ast.values.map(literalToJson);
    default:
      return null;
  }
}

export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: literalToJson,
});

/** A FHIR date string passed through at its original precision. Invalid input values are rejected. */
function fhirDateScalar(name: string, dateOnly: boolean): GraphQLScalarType {
  const check = (value: unknown): string => {
    if (typeof value !== 'string' || !isFhirDate(value) || (dateOnly && value.length > 10)) {
      throw badInput(`${name} must be an ISO 8601 ${dateOnly ? 'date (YYYY, YYYY-MM or YYYY-MM-DD)' : 'date or date-time'}`);
    }
    return value;
  };
  return new GraphQLScalarType({
    name,
    serialize: (value) => (typeof value === 'string' ? value : String(value)),
    parseValue: check,
    parseLiteral: (ast) => check(ast.kind === Kind.STRING ? ast.value : undefined),
  });
}

export const DateScalar = fhirDateScalar('Date', true);
export const DateTimeScalar = fhirDateScalar('DateTime', false);
