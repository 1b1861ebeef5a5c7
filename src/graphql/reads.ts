/**
 * What resolvers read of a record: the top-level FHIR elements (none for `id`). The field defaults
 * tag their resolvers; a custom resolver on a resource type tags itself with `reads`. A resolver
 * without a tag may read anything, so a list that selects it is never projected.
 */
const readsTags = new WeakMap<object, readonly string[]>();
/** Resolvers that return their one element unchanged: the query's sub-selection is all that is read of it. */
const asIsTags = new WeakSet<object>();

export function reads<F extends object>(elements: readonly string[], resolve: F): F {
  readsTags.set(resolve, elements);
  return resolve;
}

/** Tags a resolver that returns the element `element` as it is (or as a list): what the query selects under the field is what is read of it. */
export function readsAsIs<F extends object>(element: string, resolve: F): F {
  asIsTags.add(resolve);
  return reads([element], resolve);
}

/** The elements a resolver reads; undefined when it does not say (it may read anything). */
export function readsOf(resolve: unknown): readonly string[] | undefined {
  return typeof resolve === 'function' ? readsTags.get(resolve) : undefined;
}

/** Whether a resolver returns its element as it is (see `readsAsIs`). */
export function readsAsIsOf(resolve: unknown): boolean {
  return typeof resolve === 'function' && asIsTags.has(resolve);
}
