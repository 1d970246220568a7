// Issue 11 item 7: manifests read as kubectl reads them — stdin, -R, unknown
// kinds with a "did you mean", custom resources skipped, empty inputs refused,
// JSON parsed as JSON. (URLs need a socket: test/integration/manifest-input.test.ts.)

import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HeadlessDnsError } from '../../src/errors.js';
import { loadManifestSources, loadManifests, parseManifestText, suggestKind, validateDocuments } from '../../src/model/manifest.js';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'hdns-input-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    if (name.endsWith('/')) continue;
    writeFileSync(join(root, name), text);
  }
  return root;
}

function caught(fn: () => unknown): HeadlessDnsError {
  try {
    fn();
  } catch (error) {
    if (error instanceof HeadlessDnsError) return error;
    throw error;
  }
  throw new Error('expected a HeadlessDnsError');
}

async function rejected(promise: Promise<unknown>): Promise<HeadlessDnsError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HeadlessDnsError) return error;
    throw error;
  }
  throw new Error('expected a HeadlessDnsError');
}

const ns = (name: string): string => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}}\n`;
const load = (text: string, origin = 'x.yaml') => validateDocuments(parseManifestText(text, origin));

describe('stdin (-f -)', () => {
  it('reads the documents piped in, named <stdin> in messages', async () => {
    const loaded = await loadManifestSources(['-'], { readStdin: async () => `${ns('a')}---\n${ns('b')}` });
    expect(loaded.objects.map((o) => [o.source, o.object.metadata.name])).toEqual([
      ['<stdin>: document 1', 'a'],
      ['<stdin>: document 2', 'b'],
    ]);
    const bad = await rejected(loadManifestSources(['-'], { readStdin: async () => `${ns('a')}---\n${ns('Bad_Name')}` }));
    expect(bad.code).toBe('INVALID_OBJECT');
    expect(bad.message).toMatch(/^<stdin>: document 2 \(Namespace "Bad_Name"\): metadata\.name: Invalid value/);
  });

  it('reads JSON from stdin by its content, and mixes with paths', async () => {
    const dir = tree({ 'ns.yaml': ns('from-file') });
    const loaded = await loadManifestSources([dir, '-'], { readStdin: async () => '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"piped"}}' });
    expect(loaded.objects.map((o) => o.object.metadata.name)).toEqual(['from-file', 'piped']);
  });

  it('an empty pipe is MANIFEST_EMPTY, and - may be given once', async () => {
    const empty = await rejected(loadManifestSources(['-'], { readStdin: async () => '\n# nothing\n---\n' }));
    expect([empty.code, empty.message]).toEqual(['MANIFEST_EMPTY', '<stdin>: no objects']);
    const twice = await rejected(loadManifestSources(['-', '-'], { readStdin: async () => ns('a') }));
    expect(twice.code).toBe('INVALID_OPTION');
  });

  it('the synchronous loadManifests says plainly that it reads paths only', () => {
    for (const spec of ['-', 'https://example.invalid/k8s.yaml']) {
      const error = caught(() => loadManifests([spec]));
      expect(error.code).toBe('INVALID_OPTION');
      expect(error.message).toContain('loadManifestSources');
    }
  });
});

describe('directories and -R', () => {
  const nested = (): string =>
    tree({
      'a.yaml': ns('top'),
      'sub/b.yaml': ns('sub'),
      'sub/deeper/c.json': JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'deeper' } }),
      'sub/notes.txt': 'not a manifest',
      'z.yml': ns('last'),
    });

  it('without -R, subdirectories are left out (as kubectl)', () => {
    expect(loadManifests([nested()]).objects.map((o) => o.object.metadata.name)).toEqual(['top', 'last']);
  });

  it('with -R, every level is read in name order, as filepath.Walk', async () => {
    const root = nested();
    const expected = ['top', 'sub', 'deeper', 'last'];
    expect(loadManifests([root], { recursive: true }).objects.map((o) => o.object.metadata.name)).toEqual(expected);
    expect((await loadManifestSources([root], { recursive: true })).objects.map((o) => o.object.metadata.name)).toEqual(expected);
    expect(loadManifests([root], { recursive: true }).objects[2]!.source).toBe(`${join(root, 'sub', 'deeper', 'c.json')}: document 1`);
  });

  it('does not follow a symlinked directory, so a link cannot loop', () => {
    const root = tree({ 'a/ns.yaml': ns('once') });
    symlinkSync(root, join(root, 'a', 'loop'));
    expect(loadManifests([root], { recursive: true }).objects.map((o) => o.object.metadata.name)).toEqual(['once']);
  });

  it('a directory without manifests is MANIFEST_EMPTY naming it, with a hint when only subdirectories have them', () => {
    const empty = tree({ 'notes.txt': 'x' });
    const error = caught(() => loadManifests([empty]));
    expect(error.code).toBe('MANIFEST_EMPTY');
    expect(error.message).toBe(`${empty}: no manifests in the directory: recognized file extensions are .json, .yaml, .yml`);
    const onlyNested = tree({ 'sub/ns.yaml': ns('a') });
    expect(caught(() => loadManifests([onlyNested])).message).toContain('-R (--recursive)');
    expect(caught(() => loadManifests([tree({ 'sub/': '' })], { recursive: true })).code).toBe('MANIFEST_EMPTY');
  });

  it('an empty file named with -f is MANIFEST_EMPTY; inside a directory with objects it is fine', () => {
    const root = tree({ 'empty.yaml': '', 'comments.yaml': '---\n# all commented out\n---\n', 'ns.yaml': ns('a') });
    for (const file of ['empty.yaml', 'comments.yaml']) {
      const error = caught(() => loadManifests([join(root, file)]));
      expect([error.code, error.message]).toEqual(['MANIFEST_EMPTY', `${join(root, file)}: no objects in the file`]);
    }
    expect(loadManifests([root]).objects).toHaveLength(1);
    const allEmpty = tree({ 'a.yaml': '', 'b.json': '  \n' });
    expect(caught(() => loadManifests([allEmpty])).message).toBe(`${allEmpty}: no objects in its 2 manifest files`);
  });

  it('an empty List holds no objects either', () => {
    const root = tree({ 'list.yaml': 'apiVersion: v1\nkind: List\nitems: []\n' });
    expect(caught(() => loadManifests([join(root, 'list.yaml')])).code).toBe('MANIFEST_EMPTY');
  });
});

describe('kinds', () => {
  it('an unknown kind in a built-in group names the file, the document and the kind, with a did-you-mean', () => {
    const error = caught(() => load(`${ns('a')}---\napiVersion: v1\nkind: Servce\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n`, 'k8s/web.yaml'));
    expect(error.code).toBe('INVALID_OBJECT');
    expect(error.message).toBe('k8s/web.yaml: document 2 (Servce "web"): kind: no matches for kind "Servce" in version "v1"; did you mean "Service"?');
    expect(error.causes).toEqual([{ reason: 'FieldValueNotSupported', field: 'kind', message: expect.stringContaining('did you mean "Service"?') }]);
  });

  it('reports every unknown kind, and a kind with no near miss without a guess', () => {
    const error = caught(() => load('apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Gadget\nmetadata: {name: b}\n'));
    expect(error.message.split('\n')).toEqual([
      'x.yaml: document 1 (Deploymnet "a"): kind: no matches for kind "Deploymnet" in version "apps/v1"; did you mean "Deployment"?',
      'x.yaml: document 2 (Gadget "b"): kind: no matches for kind "Gadget" in version "v1"',
    ]);
    expect(caught(() => load('kind: Srevice\nmetadata: {name: c}\n')).message).toBe(
      'x.yaml: document 1 (Srevice "c"): kind: no matches for kind "Srevice" (no apiVersion); did you mean "Service"?',
    );
  });

  it.each([
    ['Servce', 'Service'],
    ['service', 'Service'],
    ['Sevrice', 'Service'],
    ['StatefullSet', 'StatefulSet'],
    ['EndpointSlices', 'EndpointSlice'],
    ['Pods', 'Pod'],
    ['Namespce', 'Namespace'],
    ['Configmap', 'ConfigMap'],
    ['Jobs', 'Job'],
    ['Pd', 'Pod'],
    ['Foo', undefined],
    ['Gadget', undefined],
    ['Widget', undefined],
  ])('suggests for %s: %s', (kind, suggestion) => {
    expect(suggestKind(kind)).toBe(suggestion);
  });

  it('known kinds that are not modelled, and custom resources, are skipped with a notice', () => {
    const { objects, skipped } = load(
      [
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n',
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n',
        'apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata: {name: prom}\n',
        'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: route}\n',
        // A CRD may name its kind as a built-in one: Knative's Service is not a Service.
        'apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: knative}\n',
        'apiVersion: example.com/v1\nkind: Servce\nmetadata: {name: typo-in-a-crd-group}\n',
        ns('kept'),
      ].join('---\n'),
    );
    expect(objects.map((o) => o.object.metadata.name)).toEqual(['kept']);
    expect(skipped.map((s) => `${s.source} ${s.kind}/${s.name}`)).toEqual([
      'x.yaml: document 1 Deployment/web',
      'x.yaml: document 2 ConfigMap/cfg',
      'x.yaml: document 3 Prometheus/prom',
      'x.yaml: document 4 HTTPRoute/route',
      'x.yaml: document 5 Service/knative',
      'x.yaml: document 6 Servce/typo-in-a-crd-group',
    ]);
  });

  it('a modelled kind under a wrong built-in version is still an error', () => {
    expect(caught(() => load('apiVersion: apps/v1\nkind: Service\nmetadata: {name: a}\n')).message).toContain('apiVersion: Unsupported value: "apps/v1"');
  });
});

describe('JSON', () => {
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } };

  it('a trailing comma is an error with its line and column, as in kubectl', () => {
    const object = caught(() => parseManifestText('{\n  "apiVersion": "v1",\n  "kind": "Namespace",\n  "metadata": {"name": "a",}\n}\n', 'k8s/ns.json'));
    expect(object.code).toBe('MANIFEST_UNREADABLE');
    expect(object.message).toBe('k8s/ns.json: line 4, column 28: invalid JSON: a comma before "}" (JSON allows no trailing comma)');
    const array = caught(() => parseManifestText('{"kind": "List", "items": [{"kind": "Namespace"},\n]}', 'list.json'));
    expect(array.message).toBe('list.json: line 2, column 1: invalid JSON: a comma before "]" (JSON allows no trailing comma)');
  });

  it('other JSON errors carry their position too; YAML-only syntax is refused', () => {
    expect(caught(() => parseManifestText('{"kind": "Namespace" "metadata": {}}', 'a.json')).message).toMatch(/^a\.json: line 1, column 22: invalid JSON: Expected ',' or '}'/);
    expect(caught(() => parseManifestText("{'kind': 'Namespace'}", 'a.json')).message).toMatch(/^a\.json: line 1, column 2: invalid JSON/);
    expect(caught(() => parseManifestText('{"kind": "Namespace"', 'a.json')).message).toMatch(/^a\.json: .*invalid JSON/);
  });

  it('a duplicate key is an error, as it is in YAML', () => {
    expect(caught(() => parseManifestText('{"kind": "Namespace", "metadata": {"name": "a", "name": "b"}}', 'a.json')).message).toBe(
      'a.json: line 1, column 49: duplicated mapping key "name"',
    );
    // The same key in sibling objects, or an escaped key that differs, is fine.
    expect(parseManifestText('{"items": [{"name": "a"}, {"name": "b"}], "n\\u0061me": 1, "nam": 2}', 'a.json')).toHaveLength(1);
  });

  it('reads a stream of JSON objects, one document each, as kubectl does', () => {
    const docs = parseManifestText(`${JSON.stringify(svc)}\n${JSON.stringify({ ...svc, metadata: { name: 'api' } })}{"kind":"List","items":[]}`, 's.json');
    expect(docs.map((d) => d.source)).toEqual(['s.json: document 1', 's.json: document 2']);
    expect(load(`${JSON.stringify(svc)}\n${JSON.stringify({ ...svc, metadata: { name: 'api' } })}`).objects.map((o) => o.object.metadata.name)).toEqual(['web', 'api']);
    expect(caught(() => parseManifestText(`${JSON.stringify(svc)}\n---\n`, 's.json')).message).toMatch(/^s\.json: line 2, column 1: invalid JSON: "-" where document 2 should start/);
  });

  it('chooses JSON by content, as kubectl: YAML in a .json file is YAML, a byte-order mark is ignored', () => {
    expect(load(ns('yaml-in-json'), 'x.json').objects[0]!.object.metadata.name).toBe('yaml-in-json');
    expect(load(`\ufeff${JSON.stringify(svc)}`, 'x.json').objects[0]!.object.metadata.name).toBe('web');
    expect(load(`\ufeff${ns('bom')}`, 'x.yaml').objects[0]!.object.metadata.name).toBe('bom');
  });
});
