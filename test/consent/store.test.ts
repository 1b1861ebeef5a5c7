/** The consent store: Consents read once from a file, a Bundle or a folder, found by the patient they are about. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FhirResource } from '../../connectors/types';
import { ConsentStore } from '../../src/consent/store';
import { encodeId } from '../../src/ids';

const consent = (id: string, patient: string): FhirResource => ({ resourceType: 'Consent', id, status: 'active', patient: { reference: `Patient/${patient}` } });
const ids = (list: FhirResource[]) => list.map((c) => c.id).sort();

describe('the consent store', () => {
  it('a Consent naming a plain record id applies to that id in every source; one naming a gateway id only to that source', () => {
    const store = new ConsentStore([consent('plain', 'p1'), consent('gateway', encodeId('ehr', 'Patient', 'p1')), consent('other', 'p2')]);
    expect(ids(store.about('ehr', 'p1'))).toEqual(['gateway', 'plain']);
    expect(ids(store.about('claims', 'p1'))).toEqual(['plain']);
    expect(ids(store.about('ehr', 'p2'))).toEqual(['other']);
    expect(store.about('ehr', 'p3')).toEqual([]);
  });

  it('loads a folder of Consents and Bundles of them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hg-consents-'));
    writeFileSync(join(dir, 'a.json'), JSON.stringify(consent('a', 'p1')));
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: consent('b', encodeId('ehr', 'Patient', 'p1')) }, { resource: { resourceType: 'Patient', id: 'p1' } }] }));
    writeFileSync(join(dir, 'notes.txt'), 'not a consent');
    const store = ConsentStore.load(dir);
    expect(ids(store.about('ehr', 'p1'))).toEqual(['a', 'b']);
    expect(ids(store.about('lake', 'p1'))).toEqual(['a']);
  });
});
