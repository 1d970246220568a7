// The OpenAPI documents kubectl downloads, and what kubectl does with them:
// apply with its default (strict) validation, explain, and kinds we do not
// serve reported as kubectl reports a kind that is not installed.

import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    expect(Object.keys(index.paths).sort()).toEqual(['api/v1', 'apis/apps/v1', 'apis/coordination.k8s.io/v1', 'apis/discovery.k8s.io/v1']);
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
