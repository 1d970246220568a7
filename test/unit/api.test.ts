// The API through fastify's inject(): shapes, verbs, and bad input that must
// get a Kubernetes Status and leave the store exactly as it was.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiApp } from '../../src/api/app.js';
import type { ObjectStore } from '../../src/store/store.js';
import { type TestApi, kubiaApi } from '../support/api-app.js';

let store: ObjectStore;
let api: ApiApp;
let harness: TestApi;

beforeAll(() => {
  harness = kubiaApi();
  ({ store, api } = harness);
});
afterAll(() => harness.close());

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

async function call(method: Method, url: string, body?: unknown, contentType = 'application/json', accept?: string) {
  const response = await api.app.inject({
    method,
    url,
    ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': contentType, ...(accept ? { accept } : {}) } } : accept ? { headers: { accept } } : {}),
  });
  return { status: response.statusCode, body: response.body ? (JSON.parse(response.body) as Record<string, any>) : undefined };
}

const PODS = '/api/v1/namespaces/default/pods';
const SERVICES = '/api/v1/namespaces/default/services';
const STS = '/apis/apps/v1/namespaces/default/statefulsets';

const service = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { ports: [{ name: 'http', port: 80 }], ...extra },
});

describe('reads', () => {
  it('discovery lists the resources kubectl needs', async () => {
    expect((await call('GET', '/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    expect((await call('GET', '/apis')).body!.groups.map((g: { name: string }) => g.name)).toEqual(['apps', 'coordination.k8s.io', 'discovery.k8s.io', 'events.k8s.io']);
    // Events are served in both groups, as one storage (kubectl get events.events.k8s.io).
    expect((await call('GET', '/apis/events.k8s.io/v1')).body!.resources).toEqual([expect.objectContaining({ name: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'] })]);
    const apps = (await call('GET', '/apis/apps/v1')).body!;
    expect(apps.resources.map((r: { name: string }) => r.name)).toEqual(['statefulsets', 'statefulsets/status', 'statefulsets/scale', 'controllerrevisions']);
    expect(apps.resources[0]).toMatchObject({ kind: 'StatefulSet', namespaced: true, shortNames: ['sts'] });
    expect((await call('GET', '/version')).body).toMatchObject({ major: '1', minor: '32' });
    expect((await api.app.inject({ method: 'GET', url: '/healthz' })).body).toBe('ok');
  });

  it('get and list, with label and field selectors', async () => {
    expect((await call('GET', `${PODS}/kubia-0`)).body).toMatchObject({ kind: 'Pod', metadata: { name: 'kubia-0' }, spec: { hostname: 'kubia-0', subdomain: 'kubia' } });
    const list = (await call('GET', `${PODS}?labelSelector=app%3Dkubia,statefulset.kubernetes.io/pod-name%20in%20(kubia-1)`)).body!;
    expect(list.kind).toBe('PodList');
    expect(list.items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual(['kubia-1']);
    expect((await call('GET', `/api/v1/pods?fieldSelector=metadata.name%3Dkubia-0`)).body!.items).toHaveLength(1);
    expect((await call('GET', `/api/v1/pods?labelSelector=!app`)).body!.items).toHaveLength(0);
  });

  it('answers Tables when kubectl asks for them', async () => {
    const table = (await call('GET', PODS, undefined, undefined, 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json')).body!;
    expect(table.kind).toBe('Table');
    expect(table.columnDefinitions.map((c: { name: string }) => c.name).slice(0, 5)).toEqual(['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    expect(table.rows[0].cells.slice(0, 3)).toEqual(['kubia-0', '1/1', 'Running']);
    expect(table.rows[0].object).toMatchObject({ kind: 'PartialObjectMetadata' });
  });

  it('the scale subresource', async () => {
    expect((await call('GET', `${STS}/kubia/scale`)).body).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 2 }, status: { replicas: 2, selector: 'app=kubia' } });
  });
});

describe('writes', () => {
  it('create, merge patch, strategic merge patch, JSON patch, update and delete a Service', async () => {
    const created = await call('POST', SERVICES, service('web', { selector: { app: 'web' } }));
    expect(created.status).toBe(201);
    expect(created.body!.spec.clusterIP).toMatch(/^10\.96\./);
    const merged = await call('PATCH', `${SERVICES}/web`, { metadata: { labels: { tier: 'front' } } }, 'application/merge-patch+json');
    expect(merged.body!.metadata.labels).toEqual({ tier: 'front' });
    const strategic = await call('PATCH', `${SERVICES}/web`, { spec: { ports: [{ port: 8080, name: 'alt' }] } }, 'application/strategic-merge-patch+json');
    expect(strategic.body!.spec.ports.map((p: { port: number }) => p.port)).toEqual([80, 8080]);
    const json = await call('PATCH', `${SERVICES}/web`, [{ op: 'remove', path: '/spec/ports/1' }], 'application/json-patch+json');
    expect(json.body!.spec.ports).toHaveLength(1);
    const put = await call('PUT', `${SERVICES}/web`, { ...json.body, spec: { ...json.body!.spec, publishNotReadyAddresses: true } });
    expect(put.body!.spec.publishNotReadyAddresses).toBe(true);
    expect(Number(put.body!.metadata.resourceVersion)).toBeGreaterThan(Number(created.body!.metadata.resourceVersion));
    expect((await call('DELETE', `${SERVICES}/web`)).status).toBe(200);
    expect((await call('GET', `${SERVICES}/web`)).status).toBe(404);
  });

  it('scale through /scale, and status through /status only', async () => {
    const scaled = await call('PATCH', `${STS}/kubia/scale`, { spec: { replicas: 3 } }, 'application/merge-patch+json');
    expect(scaled.body).toMatchObject({ kind: 'Scale', spec: { replicas: 3 }, status: { replicas: 3 } });
    expect(store.get('Pod', 'default', 'kubia-2')).toBeDefined();
    const ignored = await call('PATCH', `${PODS}/kubia-2`, { status: { phase: 'Failed' } }, 'application/merge-patch+json');
    expect(ignored.body!.status.phase).toBe('Running');
    const unready = await call('PATCH', `${PODS}/kubia-2/status`, { status: { conditions: [{ type: 'Ready', status: 'False' }] } }, 'application/merge-patch+json');
    expect(unready.body!.status.conditions).toEqual([{ type: 'Ready', status: 'False' }]);
    const slice = store.list('EndpointSlice', 'default')[0]!;
    expect(slice.endpoints.find((e) => e.hostname === 'kubia-2')?.conditions?.ready).toBe(false);
    await call('PATCH', `${STS}/kubia/scale`, { spec: { replicas: 2 } }, 'application/merge-patch+json');
    expect(store.get('Pod', 'default', 'kubia-2')).toBeUndefined();
  });
});

describe('bad requests get a Status and change nothing', () => {
  const rows: [string, Method, string, unknown, string | undefined, number, string, RegExp | undefined][] = [
    ['a wrong type', 'POST', SERVICES, service('typed', { ports: [{ name: 'http', port: 'eighty' }] }), undefined, 422, 'Invalid', /spec\.ports\[0\]\.port/],
    ['a missing name', 'POST', SERVICES, { apiVersion: 'v1', kind: 'Service', metadata: {}, spec: { ports: [{ port: 80 }] } }, undefined, 422, 'Invalid', /metadata\.name: Required value/],
    ['an invalid name', 'POST', SERVICES, service('Bad_Name'), undefined, 422, 'Invalid', /metadata\.name: Invalid value: "Bad_Name"/],
    ['negative replicas', 'PATCH', `${STS}/kubia`, { spec: { replicas: -1 } }, 'application/merge-patch+json', 422, 'Invalid', /spec\.replicas/],
    ['negative replicas through scale', 'PATCH', `${STS}/kubia/scale`, { spec: { replicas: -1 } }, 'application/merge-patch+json', 422, 'Invalid', /spec\.replicas/],
    ['a duplicate create', 'POST', SERVICES, service('kubia'), undefined, 409, 'AlreadyExists', /services "kubia" already exists/],
    ['a stale resourceVersion', 'PATCH', `${SERVICES}/kubia`, { metadata: { resourceVersion: '1' } }, 'application/merge-patch+json', 409, 'Conflict', /the object has been modified/],
    ['an unknown resource', 'POST', '/api/v1/namespaces/default/widgets', { kind: 'Widget' }, undefined, 404, 'NotFound', undefined],
    ['a kind that does not match the URL', 'POST', SERVICES, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } }, undefined, 400, 'BadRequest', /do not match/],
    ['a body that is not JSON', 'POST', SERVICES, '{"kind": "Service",', undefined, 400, 'BadRequest', /not valid JSON/],
    ['a body that is not YAML', 'POST', SERVICES, 'kind: [Service', 'application/yaml', 400, 'BadRequest', /not valid YAML/],
    ['a prototype key', 'POST', SERVICES, '{"apiVersion":"v1","kind":"Service","metadata":{"name":"p","__proto__":{"admin":true}},"spec":{"ports":[{"port":80}]}}', undefined, 400, 'BadRequest', /__proto__/],
    ['a deeply nested body', 'POST', SERVICES, `${'{"a":'.repeat(500)}1${'}'.repeat(500)}`, undefined, 400, 'BadRequest', /nests deeper/],
    ['a namespace that does not match the URL', 'POST', SERVICES, { ...service('x'), metadata: { name: 'x', namespace: 'kube-system' } }, undefined, 400, 'BadRequest', /namespace/],
    ['a namespace that does not exist', 'POST', '/api/v1/namespaces/nowhere/services', service('x'), undefined, 404, 'NotFound', /namespaces "nowhere" not found/],
    ['an unsupported patch type', 'PATCH', `${SERVICES}/kubia`, { spec: {} }, 'text/plain', 415, 'UnsupportedMediaType', undefined],
    ['a bad label selector', 'GET', `${PODS}?labelSelector=a%3D%3D%3Db(`, undefined, undefined, 400, 'BadRequest', /unable to parse/],
    ['POST on a named object', 'POST', `${SERVICES}/kubia`, service('kubia'), undefined, 405, 'MethodNotAllowed', undefined],
    ['a JSON patch that is not a list', 'PATCH', `${SERVICES}/kubia`, { op: 'add' }, 'application/json-patch+json', 400, 'BadRequest', /array/],
    ['deleting the default namespace', 'DELETE', '/api/v1/namespaces/default', undefined, undefined, 422, 'Invalid', /may not be deleted/],
    ['a missing object', 'GET', `${PODS}/nope`, undefined, undefined, 404, 'NotFound', /pods "nope" not found/],
  ];

  it.each(rows)('%s', async (_what, method, url, body, contentType, code, reason, message) => {
    const before = JSON.stringify(store.all());
    const response = await call(method, url, body, contentType);
    expect(response.status).toBe(code);
    expect(response.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason });
    if (message) expect(response.body!.message).toMatch(message);
    expect(JSON.stringify(store.all())).toBe(before);
  });

  it('an invalid object names each bad field in details.causes', async () => {
    const response = await call('POST', SERVICES, service('two', { ports: [{ port: 0 }, { port: 80, protocol: 'XTP' }] }));
    expect(response.body!.details.causes.map((c: { field: string }) => c.field)).toEqual(['spec.ports[0].name', 'spec.ports[0].port', 'spec.ports[1].name', 'spec.ports[1].protocol']);
  });
});
