/**
 * Text primitives for identity matching: folding (case, diacritics, punctuation), NYSIIS phonetic
 * codes, Jaro–Winkler similarity and a bounded edit distance. All written for the hot path: no
 * allocation per call beyond the result (Jaro–Winkler reuses module-level scratch buffers, which is
 * safe because Node runs one call at a time on a thread).
 */

const COMBINING = /[\u0300-\u036f]/g;
const LIGATURES: Record<string, string> = { ß: 'SS', Æ: 'AE', æ: 'AE', Ø: 'O', ø: 'O', Œ: 'OE', œ: 'OE', Ł: 'L', ł: 'L', Đ: 'D', đ: 'D', Þ: 'TH', þ: 'TH' };
const LIGATURE_RE = /[ßÆæØøŒœŁłĐđÞþ]/g;

/** Upper-case, strip diacritics and anything that is not A–Z, 0–9 or a space; collapse spaces. */
const PLAIN = /^[A-Za-z0-9]+(?: [A-Za-z0-9]+)*$/;

export function fold(value: string): string {
  if (PLAIN.test(value)) return value.toUpperCase();
  return value
    .replace(LIGATURE_RE, (c) => LIGATURES[c] ?? c)
    .normalize('NFD')
    .replace(COMBINING, '')
    .toUpperCase()
    .replace(/[^A-Z0-9 ]+/g, ' ')
    .replace(/ +/g, ' ')
    .trim();
}

/** A folded name: like `fold`, but apostrophes vanish (O'Brien → OBRIEN) and digits are dropped (Synthea's Abe604). */
export function foldName(value: string): string {
  if (PLAIN_NAME.test(value)) return value.toUpperCase();
  return fold(value.replace(/['’`´]/g, '').replace(/[0-9]+/g, ''));
}
const PLAIN_NAME = /^[A-Za-z]+(?: [A-Za-z]+)*$/;

/** A 26-bit set of the letters A–Z in an upper-case string (for cheap similarity bounds). */
export function letterMask(value: string): number {
  let mask = 0;
  for (let k = 0; k < value.length; k++) {
    const c = value.charCodeAt(k) - 65;
    if (c >= 0 && c < 26) mask |= 1 << c;
  }
  return mask;
}

export function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/**
 * An upper bound of Jaro–Winkler from lengths and letter sets: letters of one string absent from the
 * other can never match. Lets the matcher skip the full computation for clearly different names.
 */
export function jaroWinklerBound(la: number, lb: number, maskA: number, maskB: number): number {
  const m = Math.min(la - popcount(maskA & ~maskB), lb - popcount(maskB & ~maskA));
  if (m <= 0) return 0;
  const jaro = (m / la + m / lb + 1) / 3;
  return jaro + 0.4 * (1 - jaro);
}

function isVowel(c: string | undefined): boolean {
  return c === 'A' || c === 'E' || c === 'I' || c === 'O' || c === 'U';
}

/**
 * NYSIIS (New York State Identification and Intelligence System) phonetic code of an upper-case
 * A–Z name, untruncated. Empty input gives ''.
 */
export function nysiis(input: string): string {
  let name = input.replace(/[^A-Z]/g, '');
  if (name.length === 0) return '';
  if (name.startsWith('MAC')) name = 'MCC' + name.slice(3);
  else if (name.startsWith('KN')) name = 'NN' + name.slice(2);
  else if (name.startsWith('K')) name = 'C' + name.slice(1);
  else if (name.startsWith('PH') || name.startsWith('PF')) name = 'FF' + name.slice(2);
  else if (name.startsWith('SCH')) name = 'SSS' + name.slice(3);
  if (name.endsWith('EE') || name.endsWith('IE')) name = name.slice(0, -2) + 'Y';
  else if (/(DT|RT|RD|NT|ND)$/.test(name)) name = name.slice(0, -2) + 'D';
  const chars = name.split('');
  let key = chars[0] ?? '';
  for (let i = 1; i < chars.length; i++) {
    const c = chars[i] as string;
    const next = chars[i + 1];
    let out: string = c;
    if (c === 'E' && next === 'V') {
      chars[i + 1] = 'F';
      out = 'A';
    } else if (isVowel(c)) out = 'A';
    else if (c === 'Q') out = 'G';
    else if (c === 'Z') out = 'S';
    else if (c === 'M') out = 'N';
    else if (c === 'K') out = next === 'N' ? 'N' : 'C';
    else if (c === 'S' && next === 'C' && chars[i + 2] === 'H') {
      chars[i + 1] = 'S';
      chars[i + 2] = 'S';
      out = 'S';
    } else if (c === 'P' && next === 'H') {
      chars[i + 1] = 'F';
      out = 'F';
    } else if (c === 'H' && (!isVowel(chars[i - 1]) || !isVowel(next))) out = chars[i - 1] as string;
    else if (c === 'W' && isVowel(chars[i - 1])) out = chars[i - 1] as string;
    chars[i] = out;
    if (out !== key[key.length - 1]) key += out;
  }
  if (key.length > 1 && key.endsWith('S')) key = key.slice(0, -1);
  if (key.endsWith('AY')) key = key.slice(0, -2) + 'Y';
  if (key.length > 1 && key.endsWith('A')) key = key.slice(0, -1);
  return key;
}

let flagsA = new Uint8Array(64);
let flagsB = new Uint8Array(64);

/** Jaro–Winkler similarity in [0, 1] (prefix scale 0.1, prefix up to 4). */
export function jaroWinkler(a: string, b: string): number {
  if (a === b) return a.length === 0 ? 0 : 1;
  const la = a.length;
  const lb = b.length;
  if (la === 0 || lb === 0) return 0;
  if (flagsA.length < la) flagsA = new Uint8Array(la * 2);
  if (flagsB.length < lb) flagsB = new Uint8Array(lb * 2);
  flagsA.fill(0, 0, la);
  flagsB.fill(0, 0, lb);
  const window = Math.max(0, (Math.max(la, lb) >> 1) - 1);
  let matches = 0;
  for (let i = 0; i < la; i++) {
    const lo = Math.max(0, i - window);
    const hi = Math.min(lb - 1, i + window);
    const c = a.charCodeAt(i);
    for (let j = lo; j <= hi; j++) {
      if (flagsB[j] === 0 && b.charCodeAt(j) === c) {
        flagsA[i] = 1;
        flagsB[j] = 1;
        matches++;
        break;
      }
    }
  }
  if (matches === 0) return 0;
  let transpositions = 0;
  let k = 0;
  for (let i = 0; i < la; i++) {
    if (flagsA[i] === 0) continue;
    while (flagsB[k] === 0) k++;
    if (a.charCodeAt(i) !== b.charCodeAt(k)) transpositions++;
    k++;
  }
  const m = matches;
  const jaro = (m / la + m / lb + (m - transpositions / 2) / m) / 3;
  let prefix = 0;
  const maxPrefix = Math.min(4, la, lb);
  while (prefix < maxPrefix && a.charCodeAt(prefix) === b.charCodeAt(prefix)) prefix++;
  return jaro + prefix * 0.1 * (1 - jaro);
}

/**
 * Whether two strings are within one edit (insertion, deletion, substitution or adjacent
 * transposition) of each other. Linear time, no allocation.
 */
export function withinOneEdit(a: string, b: string): boolean {
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > 1) return false;
  let i = 0;
  while (i < la && i < lb && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === la && i === lb) return true;
  let ea = la - 1;
  let eb = lb - 1;
  while (ea >= i && eb >= i && a.charCodeAt(ea) === b.charCodeAt(eb)) {
    ea--;
    eb--;
  }
  // a[i..ea] and b[i..eb] is the differing middle.
  const da = ea - i + 1;
  const db = eb - i + 1;
  if (la === lb) {
    if (da <= 1) return true; // substitution
    return da === 2 && a.charCodeAt(i) === b.charCodeAt(i + 1) && a.charCodeAt(i + 1) === b.charCodeAt(i); // transposition
  }
  return Math.max(da, db) <= 1; // insertion or deletion
}
