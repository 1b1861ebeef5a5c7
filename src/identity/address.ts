/**
 * USPS-style address standardization (Publication 28): upper case, street suffixes and directionals
 * abbreviated (STREET → ST, NORTH → N), secondary unit designators recognized (APT, UNIT, STE, #),
 * state names to their two-letter codes, ZIP to five digits.
 */
import { fold } from './text';

export interface StandardAddress {
  /** House number as written, e.g. `313`, `12B`. */
  houseNumber?: string;
  /** Street name with directionals and suffix standardized, e.g. `N LOCKMAN ROW`. */
  street?: string;
  /** Secondary unit number without its designator (`APT 4` → `4`). */
  unit?: string;
  city?: string;
  state?: string;
  zip5?: string;
}

const SUFFIXES: Record<string, string> = {
  ALLEY: 'ALY', ALLY: 'ALY', ANNEX: 'ANX', ARCADE: 'ARC', AVENUE: 'AVE', AV: 'AVE', AVEN: 'AVE', AVENU: 'AVE', AVN: 'AVE',
  BAYOU: 'BYU', BEACH: 'BCH', BEND: 'BND', BLUFF: 'BLF', BOULEVARD: 'BLVD', BOUL: 'BLVD', BOULV: 'BLVD', BRANCH: 'BR',
  BRIDGE: 'BRG', BRDGE: 'BRG', BROOK: 'BRK', BURG: 'BG', BYPASS: 'BYP', BYPA: 'BYP', BYWAY: 'BYWY', CAMP: 'CP',
  CANYON: 'CYN', CAPE: 'CPE', CAUSEWAY: 'CSWY', CENTER: 'CTR', CENTRE: 'CTR', CIRCLE: 'CIR', CIRC: 'CIR', CLIFF: 'CLF',
  CLUB: 'CLB', COMMON: 'CMN', CORNER: 'COR', CORNERS: 'CORS', COURSE: 'CRSE', COURT: 'CT', COURTS: 'CTS', COVE: 'CV',
  CREEK: 'CRK', CRESCENT: 'CRES', CREST: 'CRST', CROSSING: 'XING', CROSSROAD: 'XRD', CURVE: 'CURV', DALE: 'DL',
  DAM: 'DM', DIVIDE: 'DV', DRIVE: 'DR', DRIV: 'DR', DRV: 'DR', ESTATE: 'EST', ESTATES: 'ESTS', EXPRESSWAY: 'EXPY',
  EXTENSION: 'EXT', FALLS: 'FLS', FERRY: 'FRY', FIELD: 'FLD', FIELDS: 'FLDS', FLAT: 'FLT', FORD: 'FRD', FOREST: 'FRST',
  FORGE: 'FRG', FORK: 'FRK', FORT: 'FT', FREEWAY: 'FWY', GARDEN: 'GDN', GARDENS: 'GDNS', GATEWAY: 'GTWY', GLEN: 'GLN',
  GREEN: 'GRN', GROVE: 'GRV', HARBOR: 'HBR', HAVEN: 'HVN', HEIGHTS: 'HTS', HIGHWAY: 'HWY', HILL: 'HL', HILLS: 'HLS',
  HOLLOW: 'HOLW', INLET: 'INLT', ISLAND: 'IS', JUNCTION: 'JCT', KEY: 'KY', KNOLL: 'KNL', KNOLLS: 'KNLS', LAKE: 'LK',
  LAKES: 'LKS', LANDING: 'LNDG', LANE: 'LN', LIGHT: 'LGT', LOCK: 'LCK', LODGE: 'LDG', LOOP: 'LOOP', MANOR: 'MNR',
  MEADOW: 'MDW', MEADOWS: 'MDWS', MILL: 'ML', MILLS: 'MLS', MISSION: 'MSN', MOTORWAY: 'MTWY', MOUNT: 'MT',
  MOUNTAIN: 'MTN', ORCHARD: 'ORCH', OVERPASS: 'OPAS', PARKWAY: 'PKWY', PARKWY: 'PKWY', PASSAGE: 'PSGE', PINE: 'PNE',
  PINES: 'PNES', PLACE: 'PL', PLAIN: 'PLN', PLAINS: 'PLNS', PLAZA: 'PLZ', POINT: 'PT', POINTS: 'PTS', PORT: 'PRT',
  PRAIRIE: 'PR', RANCH: 'RNCH', RAPIDS: 'RPDS', RIDGE: 'RDG', RIVER: 'RIV', ROAD: 'RD', ROADS: 'RDS', ROUTE: 'RTE',
  SHOAL: 'SHL', SHORE: 'SHR', SHORES: 'SHRS', SKYWAY: 'SKWY', SPRING: 'SPG', SPRINGS: 'SPGS', SQUARE: 'SQ', SQR: 'SQ',
  STATION: 'STA', STATN: 'STA', STRAVENUE: 'STRA', STREAM: 'STRM', STREET: 'ST', STR: 'ST', STRT: 'ST', SUMMIT: 'SMT',
  TERRACE: 'TER', TERR: 'TER', THROUGHWAY: 'TRWY', TRACE: 'TRCE', TRACK: 'TRAK', TRAIL: 'TRL', TRAILS: 'TRL',
  TRAILER: 'TRLR', TUNNEL: 'TUNL', TURNPIKE: 'TPKE', UNDERPASS: 'UPAS', UNION: 'UN', VALLEY: 'VLY', VIADUCT: 'VIA',
  VIEW: 'VW', VILLAGE: 'VLG', VILLE: 'VL', VISTA: 'VIS', WELL: 'WL', WELLS: 'WLS',
};

const DIRECTIONALS: Record<string, string> = {
  NORTH: 'N', SOUTH: 'S', EAST: 'E', WEST: 'W', NORTHEAST: 'NE', NORTHWEST: 'NW', SOUTHEAST: 'SE', SOUTHWEST: 'SW',
};

const UNIT_DESIGNATORS = new Set([
  'APT', 'APARTMENT', 'UNIT', 'STE', 'SUITE', 'BLDG', 'BUILDING', 'FL', 'FLOOR', 'RM', 'ROOM', 'LOT', 'SPC', 'SPACE',
  'TRLR', 'DEPT', 'NO', 'NUMBER', 'PH', 'PENTHOUSE',
]);

const STATES: Record<string, string> = {
  ALABAMA: 'AL', ALASKA: 'AK', ARIZONA: 'AZ', ARKANSAS: 'AR', CALIFORNIA: 'CA', COLORADO: 'CO', CONNECTICUT: 'CT',
  DELAWARE: 'DE', 'DISTRICT OF COLUMBIA': 'DC', FLORIDA: 'FL', GEORGIA: 'GA', HAWAII: 'HI', IDAHO: 'ID', ILLINOIS: 'IL',
  INDIANA: 'IN', IOWA: 'IA', KANSAS: 'KS', KENTUCKY: 'KY', LOUISIANA: 'LA', MAINE: 'ME', MARYLAND: 'MD',
  MASSACHUSETTS: 'MA', MICHIGAN: 'MI', MINNESOTA: 'MN', MISSISSIPPI: 'MS', MISSOURI: 'MO', MONTANA: 'MT', NEBRASKA: 'NE',
  NEVADA: 'NV', 'NEW HAMPSHIRE': 'NH', 'NEW JERSEY': 'NJ', 'NEW MEXICO': 'NM', 'NEW YORK': 'NY', 'NORTH CAROLINA': 'NC',
  'NORTH DAKOTA': 'ND', OHIO: 'OH', OKLAHOMA: 'OK', OREGON: 'OR', PENNSYLVANIA: 'PA', 'RHODE ISLAND': 'RI',
  'SOUTH CAROLINA': 'SC', 'SOUTH DAKOTA': 'SD', TENNESSEE: 'TN', TEXAS: 'TX', UTAH: 'UT', VERMONT: 'VT', VIRGINIA: 'VA',
  WASHINGTON: 'WA', 'WEST VIRGINIA': 'WV', WISCONSIN: 'WI', WYOMING: 'WY', 'PUERTO RICO': 'PR', GUAM: 'GU',
};

/** The USPS abbreviation of a street suffix word, or the word itself. */
export function streetSuffix(word: string): string {
  return SUFFIXES[word] ?? word;
}

/** Two-letter state code from a name or code (`Massachusetts`, `ma` → `MA`). */
export function stateCode(value: string): string | undefined {
  const folded = fold(value);
  if (folded.length === 0) return undefined;
  if (folded.length === 2) return folded;
  return STATES[folded] ?? folded;
}

/** Five-digit ZIP from `01940`, `01940-1234`, `019401234`; undefined when not a US ZIP. */
export function zip5(value: string): string | undefined {
  const digits = value.replace(/[^0-9]/g, '');
  return digits.length === 5 || digits.length === 9 ? digits.slice(0, 5) : undefined;
}

/** Standardizes address lines (street line first, unit possibly on its own line) plus city, state, postal code. */
export function standardizeAddress(lines: readonly string[], city?: string, state?: string, postalCode?: string): StandardAddress {
  const out: StandardAddress = {};
  const tokens = fold(lines.join(' ').replace(/#/g, ' UNIT ')).split(' ').filter((t) => t.length > 0);
  const streetTokens: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (i === 0 && /^[0-9]+[A-Z]?$/.test(token)) {
      out.houseNumber = token;
      continue;
    }
    if (UNIT_DESIGNATORS.has(token) && i > 0) {
      const next = tokens[i + 1];
      if (next !== undefined) out.unit = next.replace(/^0+(?=.)/, '');
      i = tokens.length;
      continue;
    }
    streetTokens.push(token);
  }
  const n = streetTokens.length;
  const street = streetTokens.map((token, i) => {
    if (DIRECTIONALS[token] && (i === 0 || i === n - 1) && n > 1) return DIRECTIONALS[token];
    if (i === n - 1 || (i === n - 2 && DIRECTIONALS[streetTokens[n - 1] as string])) return streetSuffix(token);
    return token;
  });
  if (street.length > 0) out.street = street.join(' ');
  const c = city ? fold(city) : '';
  if (c) out.city = c;
  const s = state ? stateCode(state) : undefined;
  if (s) out.state = s;
  const z = postalCode ? zip5(postalCode) : undefined;
  if (z) out.zip5 = z;
  return out;
}
