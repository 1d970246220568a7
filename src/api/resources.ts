// The resources the API serves, with what discovery says about each.

import type { Kind } from '../model/types.js';

export interface ResourceDef {
  kind: Kind;
  plural: string;
  singular: string;
  group: '' | 'apps' | 'discovery.k8s.io' | 'coordination.k8s.io' | 'events.k8s.io';
  version: 'v1';
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  subresources: ('status' | 'scale' | 'eviction' | 'log')[];
}

export const RESOURCES: readonly ResourceDef[] = [
  { kind: 'Namespace', plural: 'namespaces', singular: 'namespace', group: '', version: 'v1', namespaced: false, shortNames: ['ns'], categories: [], subresources: ['status'] },
  { kind: 'Pod', plural: 'pods', singular: 'pod', group: '', version: 'v1', namespaced: true, shortNames: ['po'], categories: ['all'], subresources: ['status', 'eviction', 'log'] },
  { kind: 'Service', plural: 'services', singular: 'service', group: '', version: 'v1', namespaced: true, shortNames: ['svc'], categories: ['all'], subresources: ['status'] },
  { kind: 'StatefulSet', plural: 'statefulsets', singular: 'statefulset', group: 'apps', version: 'v1', namespaced: true, shortNames: ['sts'], categories: ['all'], subresources: ['status', 'scale'] },
  { kind: 'Lease', plural: 'leases', singular: 'lease', group: 'coordination.k8s.io', version: 'v1', namespaced: true, shortNames: [], categories: [], subresources: [] },
  { kind: 'EndpointSlice', plural: 'endpointslices', singular: 'endpointslice', group: 'discovery.k8s.io', version: 'v1', namespaced: true, shortNames: [], categories: [], subresources: [] },
  { kind: 'ControllerRevision', plural: 'controllerrevisions', singular: 'controllerrevision', group: 'apps', version: 'v1', namespaced: true, shortNames: [], categories: [], subresources: [] },
  { kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', singular: 'persistentvolumeclaim', group: '', version: 'v1', namespaced: true, shortNames: ['pvc'], categories: [], subresources: ['status'] },
  { kind: 'PersistentVolume', plural: 'persistentvolumes', singular: 'persistentvolume', group: '', version: 'v1', namespaced: false, shortNames: ['pv'], categories: [], subresources: ['status'] },
  { kind: 'Node', plural: 'nodes', singular: 'node', group: '', version: 'v1', namespaced: false, shortNames: ['no'], categories: [], subresources: ['status'] },
  { kind: 'Event', plural: 'events', singular: 'event', group: '', version: 'v1', namespaced: true, shortNames: ['ev'], categories: [], subresources: [] },
  // The same stored Events in the events.k8s.io/v1 shape (eventsv1.ts); after the core entry, so resourceOfKind('Event') is core's.
  { kind: 'Event', plural: 'events', singular: 'event', group: 'events.k8s.io', version: 'v1', namespaced: true, shortNames: ['ev'], categories: [], subresources: [] },
];

export const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

export function groupVersion(def: Pick<ResourceDef, 'group' | 'version'>): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

export function findResource(group: string, version: string, plural: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function resourceOfKind(kind: Kind): ResourceDef {
  return RESOURCES.find((r) => r.kind === kind)!;
}
