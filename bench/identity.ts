/**
 * Identity linkage throughput: ≥ 1,000,000 synthetic patient records (people drawn from name, date
 * and address pools; 1–3 records each, perturbed like registration data; twins and namesakes among
 * them) standardized from FHIR Patient JSON, blocked, scored and clustered in one process.
 *
 *   node dist/bench/identity.js            # BENCH_IDENTITY_RECORDS=1000000 by default
 *
 * Records are generated one at a time and only their columnar, interned form is kept (the table),
 * so memory is bounded by the table (~100 bytes a record) plus the blocking keys. Prints records/s
 * per phase and overall, pairs compared vs n², peak RSS, and pairwise precision/recall against the
 * generator's truth. Goal (issue 5): ≥ 20,000 records/s on 2 cores.
 */
import { cpus } from 'node:os';
import { cluster, linkAll } from '../src/identity/links';
import { Comparator } from '../src/identity/match';
import { standardizePatient } from '../src/identity/standardize';
import { Prng } from '../src/demo/prng';
import { RecordTable } from '../src/identity/table';

const TOTAL = Number(process.env.BENCH_IDENTITY_RECORDS ?? 1_000_000);

/** The demo generator's seeded mulberry32, as a plain function. */
function rng(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.next();
}
const random = rng(7);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
/** Zipf-like: small indexes far more often (common surnames). */
const zipf = <T>(list: readonly T[]): T => list[Math.floor(list.length * random() ** 2.2)] as T;

const SYLLABLES = ['an', 'ber', 'cor', 'dal', 'el', 'fen', 'gar', 'hol', 'is', 'jor', 'kel', 'lan', 'mor', 'nor', 'os', 'per', 'quin', 'ros', 'sal', 'tor', 'ul', 'van', 'wes', 'yor', 'zan', 'ley', 'son', 'ton', 'man', 'ing'];
function word(parts: number): string {
  let w = '';
  for (let k = 0; k < parts; k++) w += pick(SYLLABLES);
  return w.charAt(0).toUpperCase() + w.slice(1);
}
const FAMILIES = Array.from(new Set(Array.from({ length: 30_000 }, () => word(2 + Math.floor(random() * 2)))));
const MALE = Array.from(new Set([...['James', 'John', 'Robert', 'Michael', 'William', 'David', 'Richard', 'Joseph', 'Thomas', 'Charles', 'Daniel', 'Matthew', 'Anthony', 'Steven', 'Andrew'], ...Array.from({ length: 1500 }, () => word(2))]));
const FEMALE = Array.from(new Set([...['Mary', 'Patricia', 'Jennifer', 'Linda', 'Elizabeth', 'Barbara', 'Susan', 'Jessica', 'Sarah', 'Karen', 'Margaret', 'Katherine', 'Rebecca'], ...Array.from({ length: 1500 }, () => word(2) + 'a')]));
const NICK: Record<string, string> = { William: 'Bill', Robert: 'Bob', Elizabeth: 'Liz', Margaret: 'Peggy', Richard: 'Dick', Katherine: 'Kate', Michael: 'Mike', James: 'Jim', Joseph: 'Joe', Thomas: 'Tom', Rebecca: 'Becky', Susan: 'Sue' };
const STREETS = Array.from({ length: 20_000 }, () => `${word(2)} ${pick(['Street', 'Avenue', 'Road', 'Lane', 'Drive', 'Court', 'Way', 'Place'])}`);
const ZIPS = Array.from({ length: 5_000 }, () => String(1000 + Math.floor(random() * 98_000)).padStart(5, '0'));

interface Person {
  given: string;
  family: string;
  sex: 'male' | 'female';
  birth: string;
  street: string;
  zip: string;
  phone: string;
  ssn: string;
}

function person(): Person {
  const sex = random() < 0.5 ? 'male' : 'female';
  const y = 1930 + Math.floor(random() * 90);
  const m = 1 + Math.floor(random() * 12);
  const d = 1 + Math.floor(random() * 28);
  return {
    given: zipf(sex === 'male' ? MALE : FEMALE),
    family: zipf(FAMILIES),
    sex,
    birth: `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`,
    street: `${1 + Math.floor(random() * 9999)} ${pick(STREETS)}`,
    zip: pick(ZIPS),
    phone: String(2_000_000_000 + Math.floor(random() * 7_000_000_000)),
    ssn: String(100_000_000 + Math.floor(random() * 665_000_000)),
  };
}

function typo(w: string): string {
  const at = 1 + Math.floor(random() * (w.length - 1));
  return w.slice(0, at) + pick(['a', 'e', 'i', 'o', 'n', 'r']) + w.slice(at + 1);
}

/** One FHIR Patient for a person, with registration-style perturbations. */
function patient(p: Person, k: number): Record<string, unknown> {
  let given = p.given;
  let family = p.family;
  let birth = p.birth;
  if (random() < 0.05) given = NICK[given] ?? typo(given);
  if (random() < 0.04) family = typo(family);
  if (random() < 0.02 && Number(birth.slice(8)) <= 12) birth = `${birth.slice(0, 4)}-${birth.slice(8)}-${birth.slice(5, 7)}`;
  const moved = random() < 0.15;
  const identifier = [{ system: `urn:bench:source${k % 3}`, value: `R${Math.floor(random() * 1e12)}` }];
  if (random() < 0.7) identifier.push({ system: 'http://hl7.org/fhir/sid/us-ssn', value: p.ssn });
  return {
    resourceType: 'Patient',
    name: [{ family: random() < 0.3 ? family.toUpperCase() : family, given: [given] }],
    gender: p.sex,
    birthDate: birth,
    address: [moved ? { line: [`${1 + Math.floor(random() * 9999)} ${pick(STREETS)}`], postalCode: pick(ZIPS) } : { line: [p.street], postalCode: p.zip }],
    ...(random() < 0.8 ? { telecom: [{ system: 'phone', value: p.phone }] } : {}),
    identifier,
  };
}

function pairs(sizes: Map<number, number>): number {
  let n = 0;
  for (const s of sizes.values()) n += (s * (s - 1)) / 2;
  return n;
}

function main(): void {
  const started = performance.now();
  let peakRss = 0;
  const sample = (): void => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  };
  const timer = setInterval(sample, 200);
  const table = new RecordTable(TOTAL + 16);
  const truth = new Int32Array(TOTAL + 16);
  let persons = 0;
  let lookAlikes = 0;
  while (table.length < TOTAL) {
    let p = person();
    const id = persons++;
    const copies = 1 + Math.floor(random() * 3);
    for (let c = 0; c < copies && table.length < TOTAL; c++) {
      const row = table.add(standardizePatient(`source${c}`, `${id}-${c}`, patient(p, c)));
      truth[row] = id;
    }
    if (random() < 0.01 && table.length < TOTAL) {
      // A twin: same family, birth date, address and phone; own given name and SSN.
      p = { ...p, given: pick(p.sex === 'male' ? MALE : FEMALE), ssn: String(100_000_000 + Math.floor(random() * 665_000_000)) };
      const twin = persons++;
      truth[table.add(standardizePatient('source0', `${twin}-0`, patient(p, 0)))] = twin;
      lookAlikes++;
    }
  }
  sample();
  const generated = performance.now();
  const comparator = new Comparator(table);
  const rows = new Int32Array(table.length);
  for (let r = 0; r < rows.length; r++) rows[r] = r;
  const { edges, blocking, grades } = linkAll(comparator, rows);
  sample();
  const compared = performance.now();
  const { root, stats } = cluster(comparator, edges, undefined);
  sample();
  const clustered = performance.now();
  clearInterval(timer);

  const n = table.length;
  const truthSizes = new Map<number, number>();
  const predictedSizes = new Map<number, number>();
  const jointSizes = new Map<number, number>();
  for (let r = 0; r < n; r++) {
    const t = truth[r] as number;
    const c = root[r] as number;
    truthSizes.set(t, (truthSizes.get(t) ?? 0) + 1);
    predictedSizes.set(c, (predictedSizes.get(c) ?? 0) + 1);
    const j = t * 4_194_304 + c;
    jointSizes.set(j, (jointSizes.get(j) ?? 0) + 1);
  }
  const truePairs = pairs(truthSizes);
  const predictedPairs = pairs(predictedSizes);
  const correct = pairs(jointSizes);
  const precision = correct / Math.max(predictedPairs, 1);
  const recall = correct / Math.max(truePairs, 1);
  const s = (ms: number): string => (ms / 1000).toFixed(1);
  const linkSeconds = (clustered - generated) / 1000;
  const totalSeconds = (clustered - started) / 1000;
  const lines = [
    `identity linkage bench: ${n.toLocaleString('en-US')} records of ${persons.toLocaleString('en-US')} persons (${lookAlikes} twins), ${cpus().length} CPUs, Node ${process.version}`,
    `  generate + standardize FHIR Patients: ${s(generated - started)} s (${Math.round(n / ((generated - started) / 1000)).toLocaleString('en-US')} records/s)`,
    `  block + compare:                      ${s(compared - generated)} s; pairs compared ${blocking.pairsCompared.toLocaleString('en-US')} of ${blocking.allPairs.toExponential(2)} (n²/2; reduction ${(blocking.reductionRatio * 100).toFixed(4)}%), oversized blocks ${blocking.oversizedBlocks}, largest block ${blocking.largestBlock}`,
    `  graded pairs: certain ${grades.certain.toLocaleString('en-US')}, probable ${grades.probable.toLocaleString('en-US')}, possible ${grades.possible.toLocaleString('en-US')}`,
    `  cluster:                              ${s(clustered - compared)} s; merges ${stats.merges.toLocaleString('en-US')}, guard rejections ${stats.guardRejections}`,
    `  linking throughput (block+compare+cluster): ${Math.round(n / linkSeconds).toLocaleString('en-US')} records/s; end to end incl. standardization: ${Math.round(n / totalSeconds).toLocaleString('en-US')} records/s (goal ≥ 20,000)`,
    `  peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`,
    `  pairwise vs truth (certain links): precision ${precision.toFixed(4)} recall ${recall.toFixed(4)} (${correct.toLocaleString('en-US')} correct of ${predictedPairs.toLocaleString('en-US')} predicted, ${truePairs.toLocaleString('en-US')} true)`,
  ];
  console.log(lines.join('\n'));
  for (const rule of blocking.perRule) console.log(`    rule ${rule.rule.padEnd(12)} blocks ${String(rule.blocks).padStart(8)} pairs ${String(rule.pairs).padStart(10)} oversized ${rule.oversized}`);
}

main();
