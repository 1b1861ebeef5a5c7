/**
 * Jest global setup: the integration tests talk to real services (the FHIR peer and the faulty
 * peer started by `make services`). When they are not answering, stop at once with one line that
 * says what to do, instead of a wall of connection errors.
 */
const TIMEOUT_MS = 3000;

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

export default async function globalSetup(): Promise<void> {
  const fhir = (process.env.HG_TEST_FHIR_URL ?? 'http://127.0.0.1:8081/fhir').replace(/\/+$/, '');
  const faulty = (process.env.HG_TEST_FAULTY_URL ?? 'http://127.0.0.1:8082').replace(/\/+$/, '');
  const [fhirUp, faultyUp] = await Promise.all([answers(`${fhir}/metadata`), answers(`${faulty}/ok/fhir/metadata`)]);
  if (fhirUp && faultyUp) return;
  const down = [fhirUp ? undefined : `FHIR peer ${fhir}`, faultyUp ? undefined : `faulty peer ${faulty}`].filter(Boolean).join(', ');
  const error = new Error(`test services are not running: run \`make services\` (${down} not answering)`);
  error.stack = error.message;
  throw error;
}
