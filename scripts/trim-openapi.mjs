// Builds src/api/openapi/*.json, the OpenAPI v3 documents the API serves, from
// the Kubernetes v1.32 ones. Run by hand when the served kinds change:
//
//   node scripts/trim-openapi.mjs <dir with the source documents>
//
// The source directory holds api__v1_openapi.json, apis__apps__v1_openapi.json
// and apis__discovery.k8s.io__v1_openapi.json as k8s.io/client-go v0.32.0 ships
// them (openapi/openapitest/testdata, generated from kubernetes v1.32
// api/openapi-spec/v3). Kubernetes is Apache-2.0; see src/api/openapi/NOTICE.
//
// Each document keeps only the paths the API serves (the group-version root,
// the collections, objects and the status/scale subresources of the kinds in
// src/api/resources.ts) and the component schemas reachable from them, so
// `kubectl explain` and kubectl's field-validation check find exactly our
// kinds. coordination.k8s.io/v1 is not among client-go's test documents: its
// paths are the EndpointSlice ones renamed (both are namespaced kinds with the
// same verbs and no subresources, so the generated paths differ only in
// names), and its Lease schemas are written out below from k8s.io/api v0.32.0
// coordination/v1 (types.go and types_swagger_doc_generated.go).

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [source] = process.argv.slice(2);
if (!source) throw new Error('usage: node scripts/trim-openapi.mjs <source dir>');
const out = new URL('../src/api/openapi/', import.meta.url);

/** group-version path → { plural: subresources } of what we serve (src/api/resources.ts). */
const SERVED = {
  'api/v1': { namespaces: ['status'], pods: ['status'], services: ['status'] },
  'apis/apps/v1': { statefulsets: ['status', 'scale'] },
  'apis/discovery.k8s.io/v1': { endpointslices: [] },
  'apis/coordination.k8s.io/v1': { leases: [] },
};

function served(gv, path) {
  const prefix = `/${gv}/`;
  if (!path.startsWith(prefix)) return false;
  const rest = path.slice(prefix.length);
  if (rest === '') return true;
  const m = /^(?:namespaces\/\{namespace\}\/)?([a-z]+)(?:\/\{name\}(?:\/([a-z]+))?)?$/.exec(rest);
  if (!m) return false;
  const subs = SERVED[gv][m[1]];
  if (!subs) return false;
  // namespaces/{namespace}/<plural> is only for namespaced kinds; "namespaces/{name}/status" is matched as a plural "namespaces".
  if (rest.startsWith('namespaces/{namespace}/') && m[1] === 'namespaces') return false;
  return m[2] === undefined || subs.includes(m[2]);
}

function refsIn(value, found) {
  if (Array.isArray(value)) for (const v of value) refsIn(v, found);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') found.add(v.replace('#/components/schemas/', ''));
      else refsIn(v, found);
    }
  }
  return found;
}

function trim(doc, gv, extraSchemas = {}) {
  const paths = Object.fromEntries(Object.entries(doc.paths).filter(([p]) => served(gv, p)));
  const all = { ...doc.components.schemas, ...extraSchemas };
  const keep = new Set();
  const queue = [...refsIn(paths, new Set())];
  while (queue.length) {
    const name = queue.pop();
    if (keep.has(name)) continue;
    if (!all[name]) throw new Error(`${gv}: no schema ${name}`);
    keep.add(name);
    queue.push(...refsIn(all[name], new Set()));
  }
  const schemas = Object.fromEntries([...keep].sort().map((n) => [n, all[n]]));
  return { openapi: doc.openapi, info: doc.info, paths, components: { schemas } };
}

const read = (name) => JSON.parse(readFileSync(join(source, `${name}_openapi.json`), 'utf8'));
const write = (name, doc) => {
  writeFileSync(new URL(`${name}.json`, out), JSON.stringify(doc));
  console.log(name, Object.keys(doc.paths).length, 'paths', Object.keys(doc.components.schemas).length, 'schemas');
};

write('api__v1', trim(read('api__v1'), 'api/v1'));
write('apis__apps__v1', trim(read('apis__apps__v1'), 'apis/apps/v1'));
const discovery = read('apis__discovery.k8s.io__v1');
write('apis__discovery.k8s.io__v1', trim(discovery, 'apis/discovery.k8s.io/v1'));

// coordination.k8s.io/v1, from the EndpointSlice paths and k8s.io/api v0.32.0's Lease.
const ref = (name) => ({ $ref: `#/components/schemas/${name}` });
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const TYPE_META = discovery.components.schemas['io.k8s.api.discovery.v1.EndpointSlice'].properties;
const LEASE_SCHEMAS = {
  'io.k8s.api.coordination.v1.Lease': {
    description: 'Lease defines a lease concept.',
    properties: {
      apiVersion: TYPE_META.apiVersion,
      kind: TYPE_META.kind,
      metadata: { allOf: [ref(`${META}.ObjectMeta`)], default: {}, description: 'More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata' },
      spec: { allOf: [ref('io.k8s.api.coordination.v1.LeaseSpec')], default: {}, description: 'spec contains the specification of the Lease. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status' },
    },
    type: 'object',
    'x-kubernetes-group-version-kind': [{ group: 'coordination.k8s.io', kind: 'Lease', version: 'v1' }],
  },
  'io.k8s.api.coordination.v1.LeaseList': {
    description: 'LeaseList is a list of Lease objects.',
    properties: {
      apiVersion: TYPE_META.apiVersion,
      items: { description: 'items is a list of schema objects.', items: { allOf: [ref('io.k8s.api.coordination.v1.Lease')], default: {} }, type: 'array' },
      kind: TYPE_META.kind,
      metadata: { allOf: [ref(`${META}.ListMeta`)], default: {}, description: 'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata' },
    },
    required: ['items'],
    type: 'object',
    'x-kubernetes-group-version-kind': [{ group: 'coordination.k8s.io', kind: 'LeaseList', version: 'v1' }],
  },
  'io.k8s.api.coordination.v1.LeaseSpec': {
    description: 'LeaseSpec is a specification of a Lease.',
    properties: {
      acquireTime: { allOf: [ref(`${META}.MicroTime`)], description: 'acquireTime is a time when the current lease was acquired.' },
      holderIdentity: { description: 'holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.', type: 'string' },
      leaseDurationSeconds: { description: 'leaseDurationSeconds is a duration that candidates for a lease need to wait to force acquire it. This is measured against the time of last observed renewTime.', format: 'int32', type: 'integer' },
      leaseTransitions: { description: 'leaseTransitions is the number of transitions of a lease between holders.', format: 'int32', type: 'integer' },
      preferredHolder: { description: 'PreferredHolder signals to a lease holder that the lease has a more optimal holder and should be given up. This field can only be set if Strategy is also set.', type: 'string' },
      renewTime: { allOf: [ref(`${META}.MicroTime`)], description: 'renewTime is a time when the current holder of a lease has last updated the lease.' },
      strategy: { description: 'Strategy indicates the strategy for picking the leader for coordinated leader election. If the field is not specified, there is no active coordination for this lease. (Alpha) Using this field requires the CoordinatedLeaderElection feature gate to be enabled.', type: 'string' },
    },
    type: 'object',
  },
};
// MicroTime is not among the discovery document's schemas; it is meta/v1's, as Kubernetes generates it.
const MICRO_TIME = { [`${META}.MicroTime`]: { description: 'MicroTime is version of Time with microsecond level precision.', format: 'date-time', type: 'string' } };
const renamed = JSON.parse(
  JSON.stringify(Object.fromEntries(Object.entries(discovery.paths).filter(([p]) => served('apis/discovery.k8s.io/v1', p))))
    .replaceAll('io.k8s.api.discovery.v1.EndpointSlice', 'io.k8s.api.coordination.v1.Lease')
    .replaceAll('DiscoveryV1', 'CoordinationV1')
    .replaceAll('discovery_v1', 'coordination_v1')
    .replaceAll('an EndpointSlice', 'a Lease')
    .replaceAll('EndpointSlice', 'Lease')
    .replaceAll('endpointslices', 'leases')
    .replaceAll('discovery.k8s.io', 'coordination.k8s.io'),
);
write('apis__coordination.k8s.io__v1', trim({ ...discovery, paths: renamed }, 'apis/coordination.k8s.io/v1', { ...LEASE_SCHEMAS, ...MICRO_TIME }));
