/**
 * What resolvers read of a record: the top-level FHIR elements (none for `id`). The field defaults
 * tag their resolvers; a custom resolver on a resource type tags itself with `reads`. A resolver
 * without a tag may read anything, so a list that selects it is never projected.
 */
const readsTags = new WeakMap<object, readonly string[]>();

export function reads<F extends object>(elements: readonly string[], resolve: F): F {
  readsTags.set(resolve, elements);
  return resolve;
}

/** The elements a resolver reads; undefined when it does not say (it may read anything). */
export function readsOf(resolve: unknown): readonly string[] | undefined {
  return typeof resolve === 'function' ? readsTags.get(resolve) : undefined;
}
