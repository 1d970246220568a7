import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HeadlessDnsError } from '../../src/errors.js';
import { loadManifests, parseManifestText, validateDocuments } from '../../src/model/manifest.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';

function dir(files: Record<string, string>): string {
  const path = mkdtempSync(join(tmpdir(), 'hdns-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(path, name), text);
  return path;
}

const SERVICE = 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n';

describe('loading manifests', () => {
  it('reads the kubia example directory', () => {
    const { objects, skipped } = loadManifests([KUBIA_EXAMPLE]);
    expect(objects.map((o) => o.object.kind).sort()).toEqual(['Service', 'StatefulSet']);
    expect(skipped).toEqual([]);
  });

  it('reads multi-document YAML, JSON, and kind: List, and fills in defaults', () => {
    const path = dir({
      'a.yaml': `${SERVICE}---\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: other}}\n`,
      'b.json': JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'other' }, spec: { clusterIP: 'None' } }),
      'notes.txt': 'ignored',
    });
    const { objects } = loadManifests([path]);
    expect(objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`)).toEqual(['Service/web', 'Namespace/other', 'Service/api']);
    const web = objects[0]!.object;
    expect(web.kind === 'Service' && web.spec).toMatchObject({ type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] });
    expect(web.metadata.namespace).toBe('default');
    expect(objects[1]!.source).toMatch(/a\.yaml: document 3, item 1$/);
  });

  it('names the file, the document and every bad field', () => {
    const path = dir({ 'bad.yaml': `${SERVICE}---\napiVersion: v1\nkind: Service\nmetadata: {name: Bad_Name}\nspec: {ports: [{port: 70000, protocol: TCPX}]}\n` });
    let error: unknown;
    try {
      loadManifests([path]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HeadlessDnsError);
    const e = error as HeadlessDnsError;
    expect(e.code).toBe('INVALID_OBJECT');
    expect(e.message).toContain('bad.yaml: document 2 (Service "Bad_Name")');
    expect(e.message).toContain('metadata.name: Invalid value');
    expect(e.message).toContain('spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive');
    expect(e.message).toContain('spec.ports[0].protocol: Unsupported value: "TCPX"');
    expect(e.causes.map((c) => c.field)).toEqual(['metadata.name', 'spec.ports[0].port', 'spec.ports[0].protocol']);
  });

  it('reports unknown kinds and skips them', () => {
    const { objects, skipped } = validateDocuments(parseManifestText('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n---\n' + SERVICE, 'x.yaml'));
    expect(objects).toHaveLength(1);
    expect(skipped).toEqual([{ source: 'x.yaml: document 1', kind: 'Deployment', name: 'web' }]);
  });

  it.each([
    ['a YAML syntax error', 'kind: [unclosed', 'MANIFEST_UNREADABLE'],
    ['a missing kind', 'metadata: {name: x}', 'INVALID_OBJECT'],
    ['a wrong apiVersion', 'apiVersion: v2\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: 1}]}', 'INVALID_OBJECT'],
    ['a scalar document', '42', 'INVALID_OBJECT'],
    ['an endpoint address of the wrong family', 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\naddressType: IPv6\nendpoints: [{addresses: [10.0.0.1]}]', 'INVALID_OBJECT'],
    ['negative replicas', 'apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec: {replicas: -1, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}}', 'INVALID_OBJECT'],
    ['a selector that does not match the template', 'apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: c}}, spec: {containers: [{name: c, image: i}]}}}', 'INVALID_OBJECT'],
    ['two unnamed ports', 'apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: 1}, {port: 2}]}', 'INVALID_OBJECT'],
    ['an ExternalName without a name', 'apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {type: ExternalName}', 'INVALID_OBJECT'],
    ['duplicate keys', 'kind: Service\nkind: Pod\n', 'MANIFEST_UNREADABLE'],
    [
      'an alias bomb',
      'a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n',
      'MANIFEST_UNREADABLE',
    ],
  ])('rejects %s', (_what, text, code) => {
    expect(() => validateDocuments(parseManifestText(text, 'x.yaml'))).toThrow(expect.objectContaining({ code }));
  });

  it('says where a syntax error is', () => {
    expect(() => parseManifestText('apiVersion: v1\nkind: [unclosed\n', 'k8s/x.yaml')).toThrow(/^k8s\/x\.yaml: line \d+, column \d+: /);
  });

  it('reads JSON and YAML alike, numbering documents from 1', () => {
    const docs = parseManifestText('{"kind": "List", "items": [{"kind": "A"}, {"kind": "B"}]}', 'x.json');
    expect(docs.map((d) => d.source)).toEqual(['x.json: document 1, item 1', 'x.json: document 1, item 2']);
    expect(parseManifestText('---\nkind: A\n---\n---\nkind: B\n', 'x.yaml').map((d) => d.source)).toEqual(['x.yaml: document 1', 'x.yaml: document 3']);
  });

  it('a missing path is MANIFEST_NOT_FOUND', () => {
    expect(() => loadManifests(['/nonexistent/manifests'])).toThrow(expect.objectContaining({ code: 'MANIFEST_NOT_FOUND' }));
  });
});
