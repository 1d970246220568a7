// The OpenAPI documents kubectl downloads, and what kubectl does with them:
// apply with its default (strict) validation, explain, and kinds we do not
// serve reported as kubectl reports a kind that is not installed.

import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES, groupVersion } from '../../src/api/resources.js';
import { type StartedCluster, startCluster } from '../../src/cluster.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { hasKubectl } from '../support/kubectl.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** kubectl with its own discovery cache; resolves with the exit code instead of throwing. */
function kubectlRunner(url: string): (...args: string[]) => Promise<Run> {
  const cache = mkdtempSync(join(tmpdir(), 'hdns-kubectl-'));
  return (...args) =>
    new Promise((resolve) => {
      execFile('kubectl', ['--server', url, '--cache-dir', cache, ...args], { env: { ...process.env, KUBECONFIG: '/dev/null' } }, (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
}

const STATEFULSET_WITH_UNKNOWN_FIELD = `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: typo
spec:
  foo: 1
  serviceName: typo
  replicas: 1
  selector:
    matchLabels: {app: typo}
  template:
    metadata:
      labels: {app: typo}
    spec:
      containers:
      - name: c
        image: example
`;

/**
 * Every kind the API serves (src/api/resources.ts): what `kubectl explain`
 * names it by and a field it lists, and a manifest with an unknown field that
 * server-side Strict validation refuses, with the path the API server names.
 */
interface ServedKind {
  kind: string;
  group: string;
  explain: string[];
  field: RegExp;
  name: string;
  namespaced: boolean;
  unknown: string;
  manifest: string;
}

const SERVED_KINDS: ServedKind[] = [
  {
    kind: 'Pod', group: '', explain: ['pods'], field: /\n\s+spec\t<PodSpec>/, name: 'typo-pod', namespaced: true, unknown: 'spec.containers[0].foo',
    manifest: 'apiVersion: v1\nkind: Pod\nmetadata: {name: typo-pod}\nspec:\n  containers:\n  - {name: c, image: example, foo: 1}\n',
  },
  {
    kind: 'Service', group: '', explain: ['services'], field: /\n\s+spec\t<ServiceSpec>/, name: 'typo-svc', namespaced: true, unknown: 'spec.foo',
    manifest: 'apiVersion: v1\nkind: Service\nmetadata: {name: typo-svc}\nspec:\n  foo: 1\n  ports: [{port: 80}]\n',
  },
  {
    kind: 'Namespace', group: '', explain: ['namespaces'], field: /\n\s+spec\t<NamespaceSpec>/, name: 'typo-ns', namespaced: false, unknown: 'spec.foo',
    manifest: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: typo-ns}\nspec: {foo: 1}\n',
  },
  {
    kind: 'Node', group: '', explain: ['nodes'], field: /\n\s+spec\t<NodeSpec>/, name: 'typo-node', namespaced: false, unknown: 'spec.foo',
    manifest: 'apiVersion: v1\nkind: Node\nmetadata: {name: typo-node}\nspec: {foo: 1}\n',
  },
  {
    kind: 'PersistentVolumeClaim', group: '', explain: ['persistentvolumeclaims'], field: /\n\s+spec\t<PersistentVolumeClaimSpec>/, name: 'typo-pvc', namespaced: true, unknown: 'spec.foo',
    manifest: 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: typo-pvc}\nspec:\n  foo: 1\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n',
  },
  {
    kind: 'PersistentVolume', group: '', explain: ['persistentvolumes'], field: /\n\s+spec\t<PersistentVolumeSpec>/, name: 'typo-pv', namespaced: false, unknown: 'spec.hostPath.foo',
    manifest: 'apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: typo-pv}\nspec:\n  capacity: {storage: 1Gi}\n  accessModes: [ReadWriteOnce]\n  hostPath: {path: /tmp/typo, foo: 1}\n',
  },
  {
    kind: 'Event', group: '', explain: ['events'], field: /\n\s+involvedObject\t<ObjectReference> -required-/, name: 'typo-event', namespaced: true, unknown: 'foo',
    manifest: 'apiVersion: v1\nkind: Event\nmetadata: {name: typo-event}\nfoo: 1\ninvolvedObject: {kind: Pod, name: p, namespace: default}\nreason: Typo\nmessage: m\n',
  },
  {
    kind: 'StatefulSet', group: 'apps', explain: ['statefulsets'], field: /\n\s+spec\t<StatefulSetSpec>/, name: 'typo', namespaced: true, unknown: 'spec.foo',
    manifest: STATEFULSET_WITH_UNKNOWN_FIELD,
  },
  {
    kind: 'ControllerRevision', group: 'apps', explain: ['controllerrevisions'], field: /\n\s+revision\t<integer> -required-/, name: 'typo-rev', namespaced: true, unknown: 'foo',
    manifest: 'apiVersion: apps/v1\nkind: ControllerRevision\nmetadata: {name: typo-rev}\nrevision: 1\nfoo: 1\n',
  },
  {
    kind: 'EndpointSlice', group: 'discovery.k8s.io', explain: ['endpointslices'], field: /\n\s+addressType\t<string> -required-/, name: 'typo-slice', namespaced: true, unknown: 'endpoints[0].foo',
    manifest: 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: typo-slice}\naddressType: IPv4\nendpoints:\n- {addresses: [10.0.0.1], foo: 1}\n',
  },
  {
    kind: 'Lease', group: 'coordination.k8s.io', explain: ['leases'], field: /\n\s+spec\t<LeaseSpec>/, name: 'typo-lease', namespaced: true, unknown: 'spec.foo',
    manifest: 'apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: typo-lease}\nspec: {holderIdentity: me, foo: 1}\n',
  },
  {
    kind: 'Event', group: 'events.k8s.io', explain: ['events', '--api-version=events.k8s.io/v1'], field: /\n\s+eventTime\t<string> -required-/, name: 'typo-event-v1', namespaced: true, unknown: 'series.foo',
    manifest:
      'apiVersion: events.k8s.io/v1\nkind: Event\nmetadata: {name: typo-event-v1}\neventTime: "2024-01-01T00:00:00.000000Z"\nreportingController: example.com/typo\nreportingInstance: typo\naction: Typo\nreason: Typo\ntype: Normal\nregarding: {kind: Pod, name: p, namespace: default}\nseries: {count: 2, lastObservedTime: "2024-01-01T00:00:01.000000Z", foo: 1}\n',
  },
];

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: c
        image: example
`;

const CONFIGMAP = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data: {a: b}
`;

describe('OpenAPI documents over HTTP', () => {
  let cluster: StartedCluster;
  beforeAll(async () => {
    cluster = await startCluster({});
  });
  afterAll(() => cluster.close());
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${cluster.api.url}${path}`, { headers, redirect: 'manual' });

  it('the index lists each served group-version at its hash; the document has that hash as ETag and is cacheable for good', async () => {
    const index = (await (await get('/openapi/v3')).json()) as { paths: Record<string, { serverRelativeURL: string }> };
    expect(Object.keys(index.paths).sort()).toEqual(['api/v1', 'apis/apps/v1', 'apis/coordination.k8s.io/v1', 'apis/discovery.k8s.io/v1', 'apis/events.k8s.io/v1']);
    const url = index.paths['apis/apps/v1']!.serverRelativeURL;
    const hash = /\?hash=([0-9A-F]{128})$/.exec(url)?.[1];
    expect(hash).toBeDefined();
    const response = await get(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe(`"${hash}"`);
    expect(response.headers.get('cache-control')).toBe('public, immutable');
    const doc = (await response.json()) as { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, { 'x-kubernetes-group-version-kind'?: unknown }> } };
    expect(doc.openapi).toBe('3.0.0');
    // Only what we serve: StatefulSet paths, no Deployment.
    expect(Object.keys(doc.paths)).toContain('/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}/scale');
    expect(Object.keys(doc.paths).filter((p) => p.includes('deployments'))).toEqual([]);
    expect(doc.components.schemas['io.k8s.api.apps.v1.StatefulSet']!['x-kubernetes-group-version-kind']).toEqual([{ group: 'apps', kind: 'StatefulSet', version: 'v1' }]);
    expect(doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']).toBeDefined();
    expect(doc.components.schemas['io.k8s.api.apps.v1.Deployment']).toBeUndefined();

    expect((await get(url, { 'If-None-Match': `"${hash}"` })).status).toBe(304);
    const stale = await get('/openapi/v3/apis/apps/v1?hash=0123');
    expect(stale.status).toBe(301);
    expect(stale.headers.get('location')).toBe(url);
    expect((await get('/openapi/v3/apis/apps/v1')).headers.get('cache-control')).toBeNull();
    expect((await get('/openapi/v3/apis/batch/v1')).status).toBe(404);
    expect((await get('/openapi/v3/api/v1', { Accept: 'application/com.github.proto-openapi.spec.v3@v1.0+protobuf' })).status).toBe(406);
  });

  it('every served kind: its schema with its group-version-kind, and a PATCH taking fieldValidation on its object path; the index hashes are the documents\'', async () => {
    const index = (await (await get('/openapi/v3')).json()) as { paths: Record<string, { serverRelativeURL: string }> };
    type Operation = { parameters?: { name?: string }[]; 'x-kubernetes-group-version-kind'?: unknown };
    type Doc = { paths: Record<string, { parameters?: { name?: string }[]; patch?: Operation }>; components: { schemas: Record<string, { 'x-kubernetes-group-version-kind'?: unknown }> } };
    const docs = new Map<string, Doc>();
    for (const [gv, { serverRelativeURL }] of Object.entries(index.paths)) {
      const response = await get(serverRelativeURL);
      expect(response.status).toBe(200);
      expect(response.headers.get('etag')).toBe(`"${serverRelativeURL.split('?hash=')[1]}"`);
      docs.set(gv, (await response.json()) as Doc);
    }
    const PACKAGE: Record<string, string> = { '': 'core', apps: 'apps', 'discovery.k8s.io': 'discovery', 'coordination.k8s.io': 'coordination', 'events.k8s.io': 'events' };
    for (const def of RESOURCES) {
      const gv = def.group ? `apis/${groupVersion(def)}` : 'api/v1';
      const doc = docs.get(gv);
      expect(doc, gv).toBeDefined();
      const gvk = [{ group: def.group, kind: def.kind, version: def.version }];
      expect(doc!.components.schemas[`io.k8s.api.${PACKAGE[def.group]}.${def.version}.${def.kind}`]?.['x-kubernetes-group-version-kind'], `${gv} ${def.kind}`).toEqual(gvk);
      const object = `/${gv}/${def.namespaced ? 'namespaces/{namespace}/' : ''}${def.plural}/{name}`;
      expect(doc!.paths[object]?.patch?.['x-kubernetes-group-version-kind'], object).toEqual(gvk[0]);
      expect([...(doc!.paths[object]!.parameters ?? []), ...(doc!.paths[object]!.patch!.parameters ?? [])].map((p) => p.name)).toContain('fieldValidation');
      for (const sub of def.subresources) expect(Object.keys(doc!.paths), `${object}/${sub}`).toContain(`${object}/${sub}`);
    }
    const core = docs.get('api/v1')!;
    // pods/log is GET only; pods/eviction a POST of policy/v1 Eviction.
    expect(Object.keys(core.paths['/api/v1/namespaces/{namespace}/pods/{name}/log']!).sort()).toEqual(['get', 'parameters']);
    expect(Object.keys(core.paths['/api/v1/namespaces/{namespace}/pods/{name}/eviction']!).sort()).toEqual(['parameters', 'post']);
    expect(core.components.schemas['io.k8s.api.policy.v1.Eviction']!['x-kubernetes-group-version-kind']).toEqual([{ group: 'policy', kind: 'Eviction', version: 'v1' }]);
    // Still trimmed: nothing of the kinds we do not serve.
    expect(Object.keys(core.paths).filter((p) => /configmaps|secrets|\/exec|\/proxy|\/binding|\/watch\//.test(p))).toEqual([]);
    expect(core.components.schemas['io.k8s.api.core.v1.ConfigMap']).toBeUndefined();
    expect(Object.keys(docs.get('apis/events.k8s.io/v1')!.components.schemas).filter((n) => n.startsWith('io.k8s.api.core.'))).toEqual(['io.k8s.api.core.v1.EventSource', 'io.k8s.api.core.v1.ObjectReference']);
  });

  it('field validation of pods/eviction checks the policy/v1 Eviction body', async () => {
    const post = (query: string) =>
      fetch(`${cluster.api.url}/api/v1/namespaces/default/pods/nopod/eviction${query}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'nopod', namespace: 'default' }, deleteOptions: { gracePeriodSeconds: 0, foo: 1 } }),
      });
    const strict = await post('?fieldValidation=Strict');
    expect(strict.status).toBe(400);
    expect(((await strict.json()) as { message: string }).message).toBe('Eviction in version "v1" cannot be handled as a Eviction: strict decoding error: unknown field "deleteOptions.foo"');
    const warned = await post('');
    expect(warned.headers.get('warning')).toBe('299 - "unknown field \\"deleteOptions.foo\\""');
    expect(warned.status).toBe(404);
  });

  it('/openapi/v2 is an empty document, in the protobuf kubectl asks for', async () => {
    const response = await get('/openapi/v2', { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
    expect(response.status).toBe(200);
    const bytes = Buffer.from(await response.arrayBuffer());
    // Field 1 (swagger) "2.0", then info.
    expect(bytes.subarray(0, 5)).toEqual(Buffer.from([0x0a, 0x03, 0x32, 0x2e, 0x30]));
    expect(bytes.toString('latin1')).toContain('Kubernetes');
    expect(await (await get('/openapi/v2')).json()).toMatchObject({ swagger: '2.0', paths: {} });
  });

  it('field validation: Strict refuses an unknown field, Warn (the default) answers with a Warning', async () => {
    const post = (query: string) =>
      fetch(`${cluster.api.url}/apis/apps/v1/namespaces/default/statefulsets${query}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/yaml' },
        body: STATEFULSET_WITH_UNKNOWN_FIELD.replace('name: typo\n', 'name: typo-http\n'),
      });
    const strict = await post('?fieldValidation=Strict');
    expect(strict.status).toBe(400);
    expect(((await strict.json()) as { message: string }).message).toBe('StatefulSet in version "v1" cannot be handled as a StatefulSet: strict decoding error: unknown field "spec.foo"');
    expect((await post('?fieldValidation=Sometimes')).status).toBe(422);
    const warned = await post('');
    expect(warned.status).toBe(201);
    expect(warned.headers.get('warning')).toBe('299 - "unknown field \\"spec.foo\\""');
  });
});

describe.runIf(hasKubectl)('kubectl against the OpenAPI documents', () => {
  let cluster: StartedCluster;
  let kubectl: (...args: string[]) => Promise<Run>;
  beforeAll(async () => {
    cluster = await startCluster({});
    kubectl = kubectlRunner(cluster.api.url);
  });
  afterAll(() => cluster.close());

  it('apply -f examples/kubia with default validation', async () => {
    const run = await kubectl('apply', '-f', KUBIA_EXAMPLE);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/service\/kubia created\nstatefulset.apps\/kubia created/);
  });

  it('apply of a StatefulSet with an unknown spec field fails with the strict decoding error and creates nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hdns-openapi-'));
    const file = join(dir, 'typo.yaml');
    writeFileSync(file, STATEFULSET_WITH_UNKNOWN_FIELD);
    const run = await kubectl('apply', '-f', file);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Error from server (BadRequest): error when creating "${file}": StatefulSet in version "v1" cannot be handled as a StatefulSet: strict decoding error: unknown field "spec.foo"`);
    expect(cluster.get('StatefulSet', 'typo', 'default')).toBeUndefined();
  });

  it('explain statefulset.spec.replicas prints the field documentation', async () => {
    const run = await kubectl('explain', 'statefulset.spec.replicas');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/GROUP:\s+apps\nKIND:\s+StatefulSet\nVERSION:\s+v1/);
    expect(run.stdout).toContain('FIELD: replicas <integer>');
    expect(run.stdout).toContain('replicas is the desired number of replicas of the given Template.');
  });

  it('explain pods lists the fields of a Pod', async () => {
    const run = await kubectl('explain', 'pods');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/KIND:\s+Pod\nVERSION:\s+v1/);
    expect(run.stdout).toMatch(/FIELDS:\n\s+apiVersion\t<string>/);
    expect(run.stdout).toMatch(/\n\s+spec\t<PodSpec>/);
  });

  it('a directory with kinds we do not serve: the rest applied, each of those reported as kubectl reports a missing kind, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hdns-openapi-'));
    for (const name of readdirSync(KUBIA_EXAMPLE)) copyFileSync(join(KUBIA_EXAMPLE, name), join(dir, name));
    writeFileSync(join(dir, 'deployment.yaml'), DEPLOYMENT);
    writeFileSync(join(dir, 'configmap.yaml'), CONFIGMAP);
    await kubectl('delete', 'statefulset', 'kubia');
    const run = await kubectl('apply', '-f', dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/service\/kubia unchanged\nstatefulset.apps\/kubia created/);
    expect(run.stderr).toContain(`resource mapping not found for name: "web" namespace: "" from "${join(dir, 'deployment.yaml')}": no matches for kind "Deployment" in version "apps/v1"\nensure CRDs are installed first`);
    expect(run.stderr).toContain(`resource mapping not found for name: "settings" namespace: "" from "${join(dir, 'configmap.yaml')}": no matches for kind "ConfigMap" in version "v1"`);
    expect(run.stderr).not.toContain('failed to download openapi');
    expect(cluster.get('StatefulSet', 'kubia', 'default')).toBeDefined();
  });
});

describe.runIf(hasKubectl)('kubectl explain and strict apply, for every served kind', () => {
  let cluster: StartedCluster;
  let kubectl: (...args: string[]) => Promise<Run>;
  let dir: string;
  beforeAll(async () => {
    cluster = await startCluster({});
    kubectl = kubectlRunner(cluster.api.url);
    dir = mkdtempSync(join(tmpdir(), 'hdns-openapi-kinds-'));
  });
  afterAll(() => cluster.close());

  it('the table covers each resource the API serves', () => {
    expect(SERVED_KINDS.map((k) => `${k.group}/${k.kind}`).sort()).toEqual(RESOURCES.map((r) => `${r.group}/${r.kind}`).sort());
  });

  it.each(SERVED_KINDS.map((k) => [k.group ? `${k.kind}.${k.group}` : k.kind, k] as const))('explain %s', async (_, k) => {
    const run = await kubectl('explain', ...k.explain);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`${k.group ? `GROUP:\\s+${k.group.replaceAll('.', '\\.')}\\n` : ''}KIND:\\s+${k.kind}\\nVERSION:\\s+v1\\n`));
    expect(run.stdout).toMatch(/\nFIELDS:\n(?:[^]*\n)? {2}apiVersion\t<string>\n/);
    expect(run.stdout).toMatch(k.field);
  });

  it.each(SERVED_KINDS.map((k) => [k.group ? `${k.kind}.${k.group}` : k.kind, k] as const))('apply --validate=strict of a %s with an unknown field is refused and creates nothing', async (_, k) => {
    const file = join(dir, `${k.name}.yaml`);
    writeFileSync(file, k.manifest);
    const run = await kubectl('apply', '--validate=strict', '-f', file);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Error from server (BadRequest): error when creating "${file}": ${k.kind} in version "v1" cannot be handled as a ${k.kind}: strict decoding error: unknown field "${k.unknown}"`);
    expect(cluster.get(k.kind as 'Pod', k.name, k.namespaced ? 'default' : undefined)).toBeUndefined();
    // Without the field the same object is taken.
    writeFileSync(file, k.manifest.replace(', foo: 1}', '}').replace(/^ *foo: 1\n/m, '').replace('{foo: 1}', '{}'));
    const fixed = await kubectl('apply', '--validate=strict', '-f', file);
    expect(fixed.stderr).toBe('');
    expect(fixed.code).toBe(0);
    expect(cluster.get(k.kind as 'Pod', k.name, k.namespaced ? 'default' : undefined)).toBeDefined();
  });
});
