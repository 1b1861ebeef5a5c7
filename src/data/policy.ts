/**
 * The single policy enforcement point (style.md §5). Every read in the data-access layer — by id,
 * by reference, list, connection, count — passes through an AccessPolicy before data reaches a
 * resolver. The gateway core ships the permissive policy; scopes and consent plug in here.
 */
import type { Criterion, ResourceType, SourceRecord } from '../../connectors/types';

export interface AccessPolicy {
  /**
   * Criteria to add to every search of this type in this source (pushed down where the source can),
   * or `null` when nothing of that type may be read at all.
   */
  searchConstraints(source: string, type: ResourceType): Criterion[] | null;
  /**
   * Whether `filter` may remove records of this type from this source. When it may, lists are paged
   * in the gateway after filtering, so that pages and totals never count what was removed.
   */
  postFilters(source: string, type: ResourceType): boolean;
  /** Removes records the caller may not see (before paging, so totals never count them). */
  filter(records: SourceRecord[]): Promise<SourceRecord[]>;
  /**
   * For a type `postFilters` says yes to: the top-level elements `filter` and `release` read of its
   * records besides their patient references and `meta` (which the data layer always asks for) and
   * their category (see `readsCategory`), never the texts of codes (`display`, `text`); undefined
   * when they may read anything. A list of such records then asks its source only for these and
   * what the query reads.
   */
  reads?(source: string, type: ResourceType): readonly string[] | undefined;
  /**
   * Whether `filter` reads the category of records of this type (a grant narrowed by category, such
   * as a `?category=` scope, is checked again on each record). A list that asks its source only for
   * some elements asks for the category too only when this says yes; a policy without this method
   * always gets it.
   */
  readsCategory?(source: string, type: ResourceType): boolean;
  /**
   * The record as it may be shown: fields the caller may not see are redacted. Runs on every
   * record handed to a resolver, after paging; also the place where disclosures are recorded.
   */
  release(record: SourceRecord): SourceRecord;
}

export const ALLOW_ALL: AccessPolicy = {
  searchConstraints: () => [],
  postFilters: () => false,
  readsCategory: () => false,
  filter: async (records) => records,
  release: (record) => record,
};
