/**
 * Nickname canonicalization: `BILL` → `WILLIAM`. The table is data (`data/nicknames.json`, canonical
 * name → short forms); a short form may belong to several canonical names (`AL` → ALBERT, ALFRED,
 * ALAN, …), so a name maps to a *set* of canonical names and two names are nickname-equivalent when
 * those sets meet.
 */
import table from './data/nicknames.json';

const CANONICALS = new Map<string, string[]>();

function add(name: string, canonical: string): void {
  const list = CANONICALS.get(name);
  if (!list) CANONICALS.set(name, [canonical]);
  else if (!list.includes(canonical)) list.push(canonical);
}

for (const [canonical, nicknames] of Object.entries(table.names as Record<string, string[]>)) {
  add(canonical, canonical);
  for (const nickname of nicknames) add(nickname, canonical);
}

/** The canonical names a folded given name stands for; a name outside the table stands for itself. */
export function canonicalNames(name: string): readonly string[] {
  return CANONICALS.get(name) ?? [name];
}

/** Whether two folded given names can be the same name (equal, or one a nickname of the other's canonical form). */
export function nicknameEquivalent(a: string, b: string): boolean {
  if (a === b) return true;
  const ca = canonicalNames(a);
  const cb = canonicalNames(b);
  return ca.some((c) => cb.includes(c));
}

/** Number of (short form, canonical) pairs in the table. */
export function nicknamePairCount(): number {
  let n = 0;
  for (const [name, list] of CANONICALS) n += list.filter((c) => c !== name).length;
  return n;
}
