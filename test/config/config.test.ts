import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig, substituteEnv } from '../../src/config/load';
import { ConfigError } from '../../src/errors';

const source = { id: 'ehr', kind: 'fhir', url: 'http://127.0.0.1:8081/fhir' };

/** The ConfigError message parseConfig gives, or a failure when it accepts the config. */
function problem(raw: unknown, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig(raw, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toMatch(/\n\s+at /); // no stack trace in the message
    return (error as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('a valid config', () => {
  it('fills in defaults for everything left out', () => {
    const config = parseConfig({ sources: [source] }, {});
    expect(config.sources[0]).toMatchObject({ id: 'ehr', kind: 'fhir', auth: { type: 'none' }, timeoutMs: 5000, paging: 'offset' });
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 4000, persistedQueries: true, csrfPrevention: true });
    expect(config.limits).toMatchObject({ maxDepth: 12, maxAliases: 30, maxBatchOperations: 10 });
  });

  it('reads a YAML file like the one in the README', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hg-config-'));
    const file = join(dir, 'healthgraph.yaml');
    writeFileSync(
      file,
      [
        'sources:',
        '  - id: ehr',
        '    kind: fhir',
        '    url: http://127.0.0.1:8081/fhir',
        '    auth: { type: none }',
        '    timeoutMs: 5000',
        '',
      ].join('\n'),
    );
    expect(loadConfig(file, {}).sources[0]).toMatchObject({ id: 'ehr', timeoutMs: 5000 });
  });
});

describe('config problems name the key at fault', () => {
  it('an unknown key at the top level', () => {
    expect(problem({ sources: [source], limts: {} })).toMatch(/\(top level\): unknown key "limts"/);
  });

  it('an unknown key inside a source', () => {
    expect(problem({ sources: [{ ...source, timeout: 5 }] })).toMatch(/sources\[0\]: unknown key "timeout"/);
  });

  it('an unknown key inside limits', () => {
    expect(problem({ sources: [source], limits: { maxDeep: 3 } })).toMatch(/limits: unknown key "maxDeep"/);
  });

  it('an unknown source kind lists the kinds there are', () => {
    expect(problem({ sources: [{ ...source, kind: 'oracle' }] })).toMatch(/sources\[0\]\.kind: must be one of "fhir"/);
  });

  it('a value of the wrong type', () => {
    expect(problem({ sources: [{ ...source, timeoutMs: 'soon' }] })).toMatch(/sources\[0\]\.timeoutMs: Expected number, received string/);
    expect(problem({ sources: [source], server: { port: 70000 } })).toMatch(/server\.port/);
    expect(problem({ sources: [source], limits: { maxDepth: 0 } })).toMatch(/limits\.maxDepth/);
  });

  it('a duplicate source id names the second one', () => {
    expect(problem({ sources: [source, { ...source, url: 'http://127.0.0.1:9/fhir' }] })).toMatch(
      /sources\[1\]\.id: duplicate source id "ehr"/,
    );
  });

  it('a bad URL', () => {
    expect(problem({ sources: [{ ...source, url: 'not a url' }] })).toMatch(/sources\[0\]\.url: Invalid url/);
  });

  it('a source id that cannot be used in ids', () => {
    expect(problem({ sources: [{ ...source, id: 'EHR One' }] })).toMatch(/sources\[0\]\.id: use 1–32 lower-case letters/);
  });

  it('no sources at all', () => {
    expect(problem({ sources: [] })).toMatch(/sources: configure at least one source/);
    expect(problem({})).toMatch(/sources: Required/);
  });

  it('a bad auth block names the auth key', () => {
    expect(problem({ sources: [{ ...source, auth: { type: 'kerberos' } }] })).toMatch(/sources\[0\]\.auth/);
  });

  it('lists every problem, one per line', () => {
    const message = problem({ sources: [{ ...source, timeoutMs: 'x', url: 'nope' }], extra: 1 });
    expect(message.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(3);
  });

  it('a file that cannot be read or parsed', () => {
    expect(() => loadConfig('/nonexistent/healthgraph.yaml', {})).toThrow(ConfigError);
    expect(() => loadConfig('/nonexistent/healthgraph.yaml', {})).toThrow(/Cannot read config file \/nonexistent\/healthgraph.yaml/);
    const dir = mkdtempSync(join(tmpdir(), 'hg-config-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'sources:\n  - id: ehr\n   kind: fhir\n');
    expect(() => loadConfig(file, {})).toThrow(/Invalid YAML in .*bad\.yaml/);
  });
});

describe('environment variables in the config', () => {
  it('${VAR} is replaced in any string value', () => {
    const config = parseConfig(
      { sources: [{ ...source, url: '${FHIR_URL}', auth: { type: 'bearer', token: '${FHIR_TOKEN}' } }] },
      { FHIR_URL: 'http://fhir.example/r4', FHIR_TOKEN: 's3cret' },
    );
    expect(config.sources[0]!.url).toBe('http://fhir.example/r4');
    const first = config.sources[0]!;
    expect(first.kind === 'fhir' && first.auth).toMatchObject({ type: 'bearer', token: 's3cret' });
  });

  it('${VAR:-default} uses the default only when the variable is unset', () => {
    const raw = { sources: [{ ...source, url: 'http://${FHIR_HOST:-127.0.0.1}:8081/fhir' }] };
    expect(parseConfig(raw, {}).sources[0]!.url).toBe('http://127.0.0.1:8081/fhir');
    expect(parseConfig(raw, { FHIR_HOST: 'fhir.internal' }).sources[0]!.url).toBe('http://fhir.internal:8081/fhir');
  });

  it('several variables in one value, and values that are not strings are left alone', () => {
    expect(substituteEnv({ a: '${X}-${Y:-y}', n: 5, list: ['${X}'] }, { X: 'x' })).toEqual({ a: 'x-y', n: 5, list: ['x'] });
  });

  it('a missing variable names the key and the variable, without leaking other values', () => {
    expect(problem({ sources: [{ ...source, auth: { type: 'bearer', token: '${FHIR_TOKEN}' } }] })).toBe(
      'sources[0].auth.token: environment variable FHIR_TOKEN is not set',
    );
  });

  it('substituted values are validated like written ones', () => {
    expect(problem({ sources: [{ ...source, url: '${FHIR_URL}' }] }, { FHIR_URL: 'not a url' })).toMatch(/sources\[0\]\.url: Invalid url/);
  });
});
