/**
 * The recording proxy of test/peers/recording-proxy.ts in front of the test FHIR peer, and a
 * gateway behind it for the tests of one file.
 */
import { startRecordingProxy as startProxy, type RecordingProxy } from '../peers/recording-proxy';
import { fhirSource, fhirUrl, startGateway, type TestGateway } from './services';

export type { RecordedUpstream, RecordingProxy } from '../peers/recording-proxy';

/** A recording proxy in front of `upstream` (the test FHIR peer unless given). */
export function startRecordingProxy(upstream: string = fhirUrl()): Promise<RecordingProxy> {
  return startProxy(upstream);
}

/**
 * For the tests of one file or `describe` block: a gateway with one FHIR source `ehr` behind a
 * recording proxy in front of the peer, started before the tests, closed after them, the record
 * cleared before each test. `ready` receives both once they run.
 */
export function useRecordedGateway(ready: (proxy: RecordingProxy, gateway: TestGateway) => void): void {
  let proxy: RecordingProxy | undefined;
  let gateway: TestGateway | undefined;
  beforeAll(async () => {
    proxy = await startRecordingProxy();
    gateway = await startGateway([fhirSource('ehr', proxy.url)]);
    ready(proxy, gateway);
  });
  afterAll(async () => {
    await gateway?.close();
    await proxy?.close();
  });
  beforeEach(() => proxy?.clear());
}
