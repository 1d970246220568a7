// Server-side printing: kubectl asks for meta.k8s.io/v1 Tables and prints their
// cells. The columns follow the API server's printers (pkg/printers/internalversion).

import type { KubeObject } from '../model/types.js';
import { isPodReady } from '../model/pods.js';

export interface ColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'date';
  format: string;
  description: string;
  priority: number;
}

type Cell = string | number;

interface Printer {
  columns: ColumnDefinition[];
  cells: (object: KubeObject, now: number) => Cell[];
}

const col = (name: string, priority = 0, type: ColumnDefinition['type'] = 'string', format = ''): ColumnDefinition => ({
  name,
  type,
  format,
  description: name,
  priority,
});

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

function age(object: KubeObject, now: number): string {
  const created = object.metadata.creationTimestamp;
  return created ? humanDuration(now - Date.parse(created)) : '<unknown>';
}

const NAME = col('Name', 0, 'string', 'name');
const AGE = col('Age');

const PRINTERS: Record<KubeObject['kind'], Printer> = {
  Pod: {
    columns: [NAME, col('Ready'), col('Status'), col('Restarts', 0, 'string'), AGE, col('IP', 1), col('Node', 1), col('Nominated Node', 1), col('Readiness Gates', 1)],
    cells: (o, now) => {
      if (o.kind !== 'Pod') return [];
      const total = o.spec.containers.length;
      const statuses = (o.status?.containerStatuses ?? []) as { restartCount?: number }[];
      const restarts = statuses.reduce((sum, s) => sum + (s.restartCount ?? 0), 0);
      const status = o.metadata.deletionTimestamp ? 'Terminating' : (o.status?.phase ?? 'Pending');
      const nodeName = typeof o.spec.nodeName === 'string' ? o.spec.nodeName : '<none>';
      return [o.metadata.name, `${isPodReady(o) ? total : 0}/${total}`, status, String(restarts), age(o, now), o.status?.podIP ?? '<none>', nodeName, '<none>', '<none>'];
    },
  },
  StatefulSet: {
    columns: [NAME, col('Ready'), AGE, col('Containers', 1), col('Images', 1)],
    cells: (o, now) => {
      if (o.kind !== 'StatefulSet') return [];
      const ready = Number((o.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0);
      const containers = o.spec.template.spec.containers;
      return [o.metadata.name, `${ready}/${o.spec.replicas ?? 1}`, age(o, now), containers.map((c) => c.name).join(','), containers.map((c) => c.image ?? '').join(',')];
    },
  },
  Service: {
    columns: [NAME, col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), AGE, col('Selector', 1)],
    cells: (o, now) => {
      if (o.kind !== 'Service') return [];
      const ports = (o.spec.ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',') || '<none>';
      const external = o.spec.type === 'ExternalName' ? (o.spec.externalName ?? '<none>') : '<none>';
      const selector = Object.entries(o.spec.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>';
      return [o.metadata.name, o.spec.type ?? 'ClusterIP', o.spec.clusterIP ?? '<none>', external, ports, age(o, now), selector];
    },
  },
  EndpointSlice: {
    columns: [NAME, col('AddressType'), col('Ports'), col('Endpoints'), AGE],
    cells: (o, now) => {
      if (o.kind !== 'EndpointSlice') return [];
      const ports = (o.ports ?? []).length === 0 ? '<unset>' : (o.ports ?? []).map((p) => (p.port === undefined ? '<unset>' : String(p.port))).join(',');
      const addresses = o.endpoints.flatMap((e) => e.addresses);
      const shown = addresses.slice(0, 3).join(',');
      const endpoints = addresses.length === 0 ? '<none>' : addresses.length > 3 ? `${shown} + ${addresses.length - 3} more...` : shown;
      return [o.metadata.name, o.addressType, ports, endpoints, age(o, now)];
    },
  },
  Lease: {
    columns: [NAME, col('Holder'), AGE],
    cells: (o, now) => [o.metadata.name, (o.kind === 'Lease' && o.spec?.holderIdentity) || '<none>', age(o, now)],
  },
  Namespace: {
    columns: [NAME, col('Status'), AGE],
    cells: (o, now) => [o.metadata.name, (o.kind === 'Namespace' && o.status?.phase) || 'Active', age(o, now)],
  },
};

export type IncludeObject = 'None' | 'Metadata' | 'Object';

function rowObject(object: KubeObject, include: IncludeObject): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return object;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
}

export function toTable(
  kind: KubeObject['kind'],
  objects: readonly KubeObject[],
  options: { include: IncludeObject; resourceVersion: string; withColumns?: boolean },
): unknown {
  const printer = PRINTERS[kind];
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: options.resourceVersion },
    columnDefinitions: options.withColumns === false ? [] : printer.columns,
    rows: objects.map((object) => {
      const embedded = rowObject(object, options.include);
      return { cells: printer.cells(object, now), ...(embedded ? { object: embedded } : {}) };
    }),
  };
}

/** Does the Accept header ask for a Table (application/json;as=Table;v=v1;g=meta.k8s.io)? */
export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}
