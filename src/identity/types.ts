/** Shared types of the identity engine (see `index.ts` for the module overview). */

/** A birth date with the precision it was recorded with. */
export interface BirthDate {
  year: number;
  month?: number;
  day?: number;
}

/** An identifier other than the SSN: `system` as in FHIR, `value` folded (upper case, no spaces or dashes). */
export interface MatchIdentifier {
  system: string;
  value: string;
}

/**
 * A patient record standardized for matching: every field folded and normalized (see
 * `standardize.ts`); absent fields are `undefined` and compare as "missing" (weight 0).
 */
export interface MatchRecord {
  source: string;
  recordId: string;
  /** First given name, folded (`WILLIAM`). */
  given?: string;
  /** Further given names, folded, space separated (`ROBERT JAMES`). */
  middle?: string;
  /** Family name, folded, spaces removed (`DE LA CRUZ` → `DELACRUZ`). */
  family?: string;
  /** Other family names the person is known by: maiden/old names, parts of a compound name. */
  altFamilies: string[];
  /** Generational suffix: `JR`, `SR`, `II`, `III`, `IV`. */
  suffix?: string;
  birthDate?: BirthDate;
  sex?: 'M' | 'F' | 'O';
  houseNumber?: string;
  street?: string;
  unit?: string;
  city?: string;
  state?: string;
  zip5?: string;
  /** Phones as their last ten digits, primary first. */
  phones: string[];
  email?: string;
  /** SSN as nine digits. */
  ssn?: string;
  /** Why the SSN is suspect (`area-000`, `area-666`, `area-9xx`, `group-00`, `serial-0000`), when it is. */
  ssnFlag?: string;
  identifiers: MatchIdentifier[];
}

/** FHIR `$match` grades (the `match-grade` extension), from strongest to weakest. */
export type Grade = 'certain' | 'probable' | 'possible' | 'certainly-not';

export const GRADES: readonly Grade[] = ['certain', 'probable', 'possible', 'certainly-not'];

/** Where a source record is: the source id of the gateway config and the source's own record id. */
export interface RecordKey {
  source: string;
  recordId: string;
}
