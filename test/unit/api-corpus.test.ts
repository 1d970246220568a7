// The API under bad input: malformed and hostile bodies, each answered with a
// Kubernetes Status error, and the store exactly as it was.

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

const svc = (spec: unknown, metadata: unknown = { name: 'x' }) => JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata, spec });
const sts = (spec: unknown) => JSON.stringify({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'y' }, spec });
const pod = (body: unknown) => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, ...(body as object) });
const nest = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

const SVC = '/api/v1/namespaces/default/services';
const PODS = '/api/v1/namespaces/default/pods';
const STS = '/apis/apps/v1/namespaces/default/statefulsets';
const SLICES = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices';

type Case = [string, 'POST' | 'PUT' | 'PATCH', string, string | Buffer, string?];

const CORPUS: Case[] = [
  ['empty body', 'POST', SVC, ''],
  ['whitespace', 'POST', SVC, '   \n '],
  ['JSON null', 'POST', SVC, 'null'],
  ['JSON number', 'POST', SVC, '42'],
  ['JSON string', 'POST', SVC, '"Service"'],
  ['JSON array', 'POST', SVC, '[]'],
  ['truncated JSON', 'POST', SVC, '{"apiVersion":"v1","kind":"Service"'],
  ['trailing garbage', 'POST', SVC, '{"kind":"Service"} xyz'],
  ['binary garbage', 'POST', SVC, Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80])],
  ['invalid UTF-8 inside a string', 'POST', SVC, Buffer.concat([Buffer.from('{"kind":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])],
  ['__proto__ at the top', 'POST', SVC, '{"__proto__":{"polluted":true},"apiVersion":"v1","kind":"Service","metadata":{"name":"a"},"spec":{"ports":[{"port":80}]}}'],
  ['__proto__ in metadata', 'POST', SVC, svc({ ports: [{ port: 80 }] }, { name: 'a', __proto__x: 1 }).replace('__proto__x', '__proto__')],
  ['constructor.prototype', 'POST', SVC, '{"apiVersion":"v1","kind":"Service","metadata":{"name":"a","labels":{"constructor":{"prototype":{"x":1}}}},"spec":{"ports":[{"port":80}]}}'],
  ['__proto__ in YAML', 'POST', SVC, 'apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  __proto__: {x: 1}\nspec: {ports: [{port: 80}]}\n', 'application/yaml'],
  ['deeply nested arrays', 'POST', SVC, nest(5000)],
  ['deeply nested objects', 'POST', SVC, `${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`],
  ['huge body (4 MiB)', 'POST', SVC, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"a","annotations":{"x":"${'a'.repeat(4 * 1024 * 1024)}"}}}`],
  ['YAML alias bomb', 'POST', SVC, `a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`, 'application/yaml'],
  ['YAML duplicate keys', 'POST', SVC, 'kind: Service\nkind: Pod\n', 'application/yaml'],
  ['unknown content type', 'POST', SVC, svc({ ports: [{ port: 80 }] }), 'application/x-evil'],
  ['protobuf garbage', 'POST', SVC, Buffer.from('k8s\0garbage'), 'application/vnd.kubernetes.protobuf'],
  ['kind missing', 'POST', SVC, '{"apiVersion":"v1","metadata":{"name":"a"}}'],
  ['kind of another resource', 'POST', SVC, '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}'],
  ['unknown kind', 'POST', SVC, '{"apiVersion":"v1","kind":"Widget","metadata":{"name":"a"}}'],
  ['wrong apiVersion', 'POST', SVC, '{"apiVersion":"v2","kind":"Service","metadata":{"name":"a"}}'],
  ['metadata is a string', 'POST', SVC, svc({ ports: [{ port: 80 }] }, 'x')],
  ['name is a number', 'POST', SVC, svc({ ports: [{ port: 80 }] }, { name: 42 })],
  ['name with upper case', 'POST', SVC, svc({ ports: [{ port: 80 }] }, { name: 'Web' })],
  ['name too long', 'POST', SVC, svc({ ports: [{ port: 80 }] }, { name: 'a'.repeat(64) })],
  ['name with a path', 'POST', SVC, svc({ ports: [{ port: 80 }] }, { name: '../etc' })],
  ['labels not strings', 'POST', SVC, svc({ ports: [{ port: 80 }] }, { name: 'a', labels: { a: 1 } })],
  ['spec is an array', 'POST', SVC, svc([])],
  ['port is a string', 'POST', SVC, svc({ ports: [{ port: '80' }] })],
  ['port out of range', 'POST', SVC, svc({ ports: [{ port: 65536 }] })],
  ['port negative', 'POST', SVC, svc({ ports: [{ port: -1 }] })],
  ['port fractional', 'POST', SVC, svc({ ports: [{ port: 80.5 }] })],
  ['protocol unknown', 'POST', SVC, svc({ ports: [{ port: 80, protocol: 'QUIC' }] })],
  ['duplicate port names', 'POST', SVC, svc({ ports: [{ name: 'a', port: 80 }, { name: 'a', port: 81 }] })],
  ['clusterIP not an IP', 'POST', SVC, svc({ clusterIP: '10.0.0.300', ports: [{ port: 80 }] })],
  ['clusterIP already taken', 'POST', SVC, svc({ clusterIP: 'None', clusterIPs: ['None', '10.0.0.1'], ports: [{ port: 80 }] })],
  ['type unknown', 'POST', SVC, svc({ type: 'Magic', ports: [{ port: 80 }] })],
  ['ExternalName that is not a name', 'POST', SVC, svc({ type: 'ExternalName', externalName: 'not a host!' })],
  ['targetPort name invalid', 'POST', SVC, svc({ ports: [{ port: 80, targetPort: 'Not_Valid' }] })],
  ['replicas negative', 'POST', STS, sts({ replicas: -1, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } })],
  ['replicas a string', 'POST', STS, sts({ replicas: 'three', selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } })],
  ['selector missing', 'POST', STS, sts({ template: { spec: { containers: [{ name: 'c', image: 'i' }] } } })],
  ['containers empty', 'POST', STS, sts({ selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [] } } })],
  ['podManagementPolicy unknown', 'POST', STS, sts({ podManagementPolicy: 'Chaos', selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } })],
  ['pod without containers', 'POST', PODS, pod({ spec: {} })],
  ['pod hostname invalid', 'POST', PODS, pod({ spec: { hostname: 'Bad Host', containers: [{ name: 'c', image: 'i' }] } })],
  ['slice address of the wrong family', 'POST', SLICES, '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"s"},"addressType":"IPv4","endpoints":[{"addresses":["::1"]}]}'],
  ['slice with 101 addresses', 'POST', SLICES, JSON.stringify({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 's' }, addressType: 'IPv4', endpoints: [{ addresses: Array.from({ length: 101 }, (_, i) => `10.0.0.${i}`) }] })],
  ['slice ready not a boolean', 'POST', SLICES, '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"s"},"addressType":"IPv4","endpoints":[{"addresses":["10.0.0.1"],"conditions":{"ready":"yes"}}]}'],
  ['PUT that renames', 'PUT', `${SVC}/kubia`, svc({ clusterIP: 'None', ports: [{ port: 80 }] }, { name: 'other' })],
  ['PUT with a stale resourceVersion', 'PUT', `${SVC}/kubia`, svc({ clusterIP: 'None', ports: [{ port: 80 }] }, { name: 'kubia', resourceVersion: '1' })],
  ['PUT that changes clusterIP', 'PUT', `${SVC}/kubia`, svc({ clusterIP: '10.96.5.5', ports: [{ port: 80 }] }, { name: 'kubia' })],
  ['merge patch that is an array', 'PATCH', `${SVC}/kubia`, '[]', 'application/merge-patch+json'],
  ['merge patch making the service invalid', 'PATCH', `${SVC}/kubia`, '{"spec":{"ports":[{"port":0}]}}', 'application/merge-patch+json'],
  ['JSON patch removing a missing path', 'PATCH', `${SVC}/kubia`, '[{"op":"remove","path":"/spec/nope"}]', 'application/json-patch+json'],
  ['JSON patch with an unknown op', 'PATCH', `${SVC}/kubia`, '[{"op":"explode","path":"/spec"}]', 'application/json-patch+json'],
  ['JSON patch test failing', 'PATCH', `${SVC}/kubia`, '[{"op":"test","path":"/spec/clusterIP","value":"1.2.3.4"}]', 'application/json-patch+json'],
  ['JSON patch writing __proto__', 'PATCH', `${SVC}/kubia`, '[{"op":"add","path":"/__proto__","value":{"x":1}}]', 'application/json-patch+json'],
  ['strategic patch that is a number', 'PATCH', `${SVC}/kubia`, '7', 'application/strategic-merge-patch+json'],
  ['scale to a string', 'PATCH', `${STS}/kubia/scale`, '{"spec":{"replicas":"many"}}', 'application/merge-patch+json'],
  ['scale to -5', 'PATCH', `${STS}/kubia/scale`, '{"spec":{"replicas":-5}}', 'application/merge-patch+json'],
  ['status patch making a pod IP invalid', 'PATCH', `${PODS}/kubia-0/status`, '{"status":{"podIP":"999.1.1.1"}}', 'application/merge-patch+json'],
];

describe('hostile bodies', () => {
  it('the corpus has at least 50 bodies', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(50);
  });

  it.each(CORPUS)('%s', async (_name, method, url, payload, contentType = 'application/json') => {
    const before = JSON.stringify(store.all());
    const response = await api.app.inject({ method, url, payload, headers: { 'content-type': contentType } });
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
    const body = JSON.parse(response.body) as Record<string, unknown>;
    expect(body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: response.statusCode });
    expect(typeof body.reason).toBe('string');
    expect(JSON.stringify(store.all())).toBe(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
