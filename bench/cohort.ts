/** The OMOP cohort question of the SQL benchmarks (bench/sql.ts, bench/ab.ts): its GraphQL query, its condition code, its gateway config. */
import type { SqlDriver } from '../connectors/sql/dialects/types';

export function cohortQuery(code: string): string {
  return `{ patients(first: 50) { edges { node { id birthDate
    conditions(first: 50, filter: { code: ["http://snomed.info/sct|${code}"] }) { edges { node { id onsetDateTime code { coding { system code } } } } }
    encounters(first: 50) { edges { node { id period { start end } } } }
    medications(first: 50) { edges { node { ... on MedicationRequest { id authoredOn medicationCodeableConcept { coding { system code } } } } } } } } } }`;
}

/** The SNOMED CT code most condition occurrences carry (the question's filter). */
export async function topConditionCode(driver: SqlDriver, schema: string | undefined): Promise<string> {
  const t = (name: string): string => (schema && driver.dialect.name === 'postgres' ? `"${schema}".${name}` : name);
  const top = await driver.query(
    `SELECT c.concept_code AS code FROM ${t('condition_occurrence')} o JOIN ${t('concept')} c ON c.concept_id = o.condition_concept_id
      WHERE c.vocabulary_id = 'SNOMED' GROUP BY c.concept_code ORDER BY COUNT(*) DESC LIMIT 1`,
    [],
  );
  return String(top[0]?.code);
}

/**
 * The gateway config for an OMOP source (JSON is YAML). `BENCH_SQL_CONSENT=1` turns consent
 * evaluation on (the policy then removes records after the fetch); `BENCH_SQL_MAX_BATCH` sets
 * `limits.maxBatchRecords` (default 5000).
 */
export function cohortConfig(url: string, schema: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const maxBatchRecords = env.BENCH_SQL_MAX_BATCH ? { maxBatchRecords: Number(env.BENCH_SQL_MAX_BATCH) } : {};
  return JSON.stringify({
    sources: [{ id: 'omop', kind: 'sql', url, ...(schema ? { schema } : {}), mapping: 'omop', poolSize: 8 }],
    limits: { maxCost: 10_000_000, ...maxBatchRecords },
    ...(env.BENCH_SQL_CONSENT === '1' ? { consent: { enabled: true } } : {}),
  });
}

/** The `BENCH_SQL_CONSENT` / `BENCH_SQL_MAX_BATCH` settings in force, as a command's prefix (empty when neither is set). */
export function cohortConfigEnv(env: NodeJS.ProcessEnv = process.env): string {
  return `${env.BENCH_SQL_CONSENT === '1' ? 'BENCH_SQL_CONSENT=1 ' : ''}${env.BENCH_SQL_MAX_BATCH ? `BENCH_SQL_MAX_BATCH=${env.BENCH_SQL_MAX_BATCH} ` : ''}`;
}
