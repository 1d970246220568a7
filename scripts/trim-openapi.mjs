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
// the collections, objects and the subresources of the kinds in
// src/api/resources.ts: status, scale, pods/eviction, pods/log) and the
// component schemas reachable from them, so `kubectl explain` and kubectl's
// field-validation check find exactly our kinds. policy/v1 Eviction is in
// api/v1's document, as the body of pods/{name}/eviction.
//
// coordination.k8s.io/v1 and events.k8s.io/v1 are not among client-go's test
// documents: their paths are the EndpointSlice ones renamed (all three are
// namespaced kinds with the same verbs and no subresources, so the generated
// paths differ only in names), and their Lease and Event schemas are written
// out below from k8s.io/api v0.32.0 coordination/v1 and events/v1 (types.go
// and types_swagger_doc_generated.go); events/v1 refers to core/v1's
// ObjectReference and EventSource, taken from api/v1's document.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [source] = process.argv.slice(2);
if (!source) throw new Error('usage: node scripts/trim-openapi.mjs <source dir>');
const out = new URL('../src/api/openapi/', import.meta.url);

/** group-version path → { plural: subresources } of what we serve (src/api/resources.ts). */
const SERVED = {
  'api/v1': {
    events: [],
    namespaces: ['status'],
    nodes: ['status'],
    persistentvolumeclaims: ['status'],
    persistentvolumes: ['status'],
    pods: ['status', 'eviction', 'log'],
    services: ['status'],
  },
  'apis/apps/v1': { controllerrevisions: [], statefulsets: ['status', 'scale'] },
  'apis/discovery.k8s.io/v1': { endpointslices: [] },
  'apis/coordination.k8s.io/v1': { leases: [] },
  'apis/events.k8s.io/v1': { events: [] },
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

const core = read('api__v1');
write('api__v1', trim(core, 'api/v1'));
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
const endpointSlicePaths = JSON.stringify(Object.fromEntries(Object.entries(discovery.paths).filter(([p]) => served('apis/discovery.k8s.io/v1', p))));
const renamed = JSON.parse(
  endpointSlicePaths
    .replaceAll('io.k8s.api.discovery.v1.EndpointSlice', 'io.k8s.api.coordination.v1.Lease')
    .replaceAll('DiscoveryV1', 'CoordinationV1')
    .replaceAll('discovery_v1', 'coordination_v1')
    .replaceAll('an EndpointSlice', 'a Lease')
    .replaceAll('EndpointSlice', 'Lease')
    .replaceAll('endpointslices', 'leases')
    .replaceAll('discovery.k8s.io', 'coordination.k8s.io'),
);
write('apis__coordination.k8s.io__v1', trim({ ...discovery, paths: renamed }, 'apis/coordination.k8s.io/v1', { ...LEASE_SCHEMAS, ...MICRO_TIME }));

// events.k8s.io/v1, likewise from the EndpointSlice paths and k8s.io/api v0.32.0's events/v1 Event.
const EVENTS = 'io.k8s.api.events.v1';
const CORE = 'io.k8s.api.core.v1';
const EVENT_SCHEMAS = {
  [`${EVENTS}.Event`]: {
    description:
      'Event is a report of an event somewhere in the cluster. It generally denotes some state change in the system. Events have a limited retention time and triggers and messages may evolve with time.  Event consumers should not rely on the timing of an event with a given Reason reflecting a consistent underlying trigger, or the continued existence of events with that Reason.  Events should be treated as informative, best-effort, supplemental data.',
    properties: {
      action: { description: 'action is what action was taken/failed regarding to the regarding object. It is machine-readable. This field cannot be empty for new Events and it can have at most 128 characters.', type: 'string' },
      apiVersion: TYPE_META.apiVersion,
      deprecatedCount: { description: 'deprecatedCount is the deprecated field assuring backward compatibility with core.v1 Event type.', format: 'int32', type: 'integer' },
      deprecatedFirstTimestamp: { allOf: [ref(`${META}.Time`)], default: {}, description: 'deprecatedFirstTimestamp is the deprecated field assuring backward compatibility with core.v1 Event type.' },
      deprecatedLastTimestamp: { allOf: [ref(`${META}.Time`)], default: {}, description: 'deprecatedLastTimestamp is the deprecated field assuring backward compatibility with core.v1 Event type.' },
      deprecatedSource: { allOf: [ref(`${CORE}.EventSource`)], default: {}, description: 'deprecatedSource is the deprecated field assuring backward compatibility with core.v1 Event type.' },
      eventTime: { allOf: [ref(`${META}.MicroTime`)], default: {}, description: 'eventTime is the time when this Event was first observed. It is required.' },
      kind: TYPE_META.kind,
      metadata: { allOf: [ref(`${META}.ObjectMeta`)], default: {}, description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata" },
      note: { description: 'note is a human-readable description of the status of this operation. Maximal length of the note is 1kB, but libraries should be prepared to handle values up to 64kB.', type: 'string' },
      reason: { description: 'reason is why the action was taken. It is human-readable. This field cannot be empty for new Events and it can have at most 128 characters.', type: 'string' },
      regarding: {
        allOf: [ref(`${CORE}.ObjectReference`)],
        default: {},
        description:
          "regarding contains the object this Event is about. In most cases it's an Object reporting controller implements, e.g. ReplicaSetController implements ReplicaSets and this event is emitted because it acts on some changes in a ReplicaSet object.",
      },
      related: { allOf: [ref(`${CORE}.ObjectReference`)], description: 'related is the optional secondary object for more complex actions. E.g. when regarding object triggers a creation or deletion of related object.' },
      reportingController: { description: 'reportingController is the name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`. This field cannot be empty for new Events.', type: 'string' },
      reportingInstance: { description: 'reportingInstance is the ID of the controller instance, e.g. `kubelet-xyzf`. This field cannot be empty for new Events and it can have at most 128 characters.', type: 'string' },
      series: { allOf: [ref(`${EVENTS}.EventSeries`)], description: "series is data about the Event series this event represents or nil if it's a singleton Event." },
      type: { description: 'type is the type of this event (Normal, Warning), new types could be added in the future. It is machine-readable. This field cannot be empty for new Events.', type: 'string' },
    },
    required: ['eventTime'],
    type: 'object',
    'x-kubernetes-group-version-kind': [{ group: 'events.k8s.io', kind: 'Event', version: 'v1' }],
  },
  [`${EVENTS}.EventList`]: {
    description: 'EventList is a list of Event objects.',
    properties: {
      apiVersion: TYPE_META.apiVersion,
      items: { description: 'items is a list of schema objects.', items: { allOf: [ref(`${EVENTS}.Event`)], default: {} }, type: 'array' },
      kind: TYPE_META.kind,
      metadata: { allOf: [ref(`${META}.ListMeta`)], default: {}, description: 'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata' },
    },
    required: ['items'],
    type: 'object',
    'x-kubernetes-group-version-kind': [{ group: 'events.k8s.io', kind: 'EventList', version: 'v1' }],
  },
  [`${EVENTS}.EventSeries`]: {
    description:
      'EventSeries contain information on series of events, i.e. thing that was/is happening continuously for some time. How often to update the EventSeries is up to the event reporters. The default event reporter in "k8s.io/client-go/tools/events/event_broadcaster.go" shows how this struct is updated on heartbeats and can guide customized reporter implementations.',
    properties: {
      count: { default: 0, description: 'count is the number of occurrences in this series up to the last heartbeat time.', format: 'int32', type: 'integer' },
      lastObservedTime: { allOf: [ref(`${META}.MicroTime`)], default: {}, description: 'lastObservedTime is the time when last Event from the series was seen before last heartbeat.' },
    },
    required: ['count', 'lastObservedTime'],
    type: 'object',
  },
};
// core/v1's schemas (ObjectReference, EventSource, MicroTime), as Kubernetes puts them in events.k8s.io/v1's document too.
const FROM_CORE = Object.fromEntries([`${CORE}.ObjectReference`, `${CORE}.EventSource`, `${META}.MicroTime`].map((n) => [n, core.components.schemas[n]]));
const eventPaths = JSON.parse(
  endpointSlicePaths
    .replaceAll('io.k8s.api.discovery.v1.EndpointSlice', `${EVENTS}.Event`)
    .replaceAll('DiscoveryV1', 'EventsV1')
    .replaceAll('discovery_v1', 'events_v1')
    .replaceAll('EndpointSlice', 'Event')
    .replaceAll('endpointslices', 'events')
    .replaceAll('discovery.k8s.io', 'events.k8s.io'),
);
write('apis__events.k8s.io__v1', trim({ ...discovery, paths: eventPaths }, 'apis/events.k8s.io/v1', { ...FROM_CORE, ...EVENT_SCHEMAS }));
