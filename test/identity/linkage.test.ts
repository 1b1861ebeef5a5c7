/**
 * The linkage goal: on the Synthea linkage set (three sources, perturbed, look-alikes, duplicates),
 * automatic (`certain`) links reach precision ≥ 0.995 and recall ≥ 0.97 pairwise.
 */
import { MemoryLinkStore, PatientIndex } from '../../src/identity';
import { mergeLabels, pairwise } from './evaluate';
import { buildLinkageSet, repoRoot, syntheaPatients } from './linkage-set';

const patients = syntheaPatients(repoRoot());
const maybe = patients ? describe : describe.skip;

maybe('the Synthea linkage set', () => {
  jest.setTimeout(120_000);

  it.each(['configured', 'estimated'] as const)('links records across sources with precision ≥ 0.995 and recall ≥ 0.97 (%s weights)', async (weights) => {
    const set = buildLinkageSet(patients ?? []);
    const index = await PatientIndex.open(new MemoryLinkStore(), { weights });
    index.addRecords(set.records);
    const report = await index.build();
    const truth = set.records.map((r) => r.person);
    const certain = set.records.map((r) => index.personOf(r.source, r.id) ?? '');
    const position = new Map(set.records.map((r, k) => [`${r.source}/${r.id}`, k]));
    const probable = index.reviewQueue().map((q) => [position.get(`${q.a.source}/${q.a.recordId}`) ?? 0, position.get(`${q.b.source}/${q.b.recordId}`) ?? 0] as [number, number]);
    const auto = pairwise(truth, certain);
    const withReview = pairwise(truth, mergeLabels(certain, probable));
    const fmt = (s: typeof auto): string => `precision ${s.precision.toFixed(4)} recall ${s.recall.toFixed(4)} F1 ${s.f1.toFixed(4)} (${s.correctPairs}/${s.predictedPairs} predicted, ${s.truePairs} true)`;
    console.log(
      [
        `linkage set: ${set.records.length} records, ${set.persons} persons (twins ${set.lookAlikes.twins}, same name+year ${set.lookAlikes.sameNameYear}, Jr/Sr ${set.lookAlikes.juniorSenior}), ${set.duplicates} within-source duplicates; weights ${weights}`,
        `  certain:            ${fmt(auto)}`,
        `  certain + probable: ${fmt(withReview)}`,
        `  pairs compared ${report.blocking.pairsCompared} of ${report.blocking.allPairs} (reduction ${(report.blocking.reductionRatio * 100).toFixed(2)}%), guard rejections ${report.clustering.guardRejections}, ${report.seconds.toFixed(2)} s`,
      ].join('\n'),
    );
    expect(auto.precision).toBeGreaterThanOrEqual(0.995);
    expect(auto.recall).toBeGreaterThanOrEqual(0.97);
  });
});
