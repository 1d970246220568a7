// Server-side printing: kubectl asks for meta.k8s.io/v1 Tables and prints their
// cells. The columns follow the API server's printers (pkg/printers/internalversion).

import type { KubeObject } from '../model/types.js';
import { canonicalQuantity } from '../model/quantity.js';
import { accessModesText, storageClassOf } from '../model/storage.js';

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
  /** Every column's cell, wide ones included: the API server prints wide and kubectl picks the columns. */
  cells: (object: KubeObject, now: number) => Cell[];
  /** Row conditions (a finished pod is Completed). */
  conditions?: (object: KubeObject, now: number) => unknown[] | undefined;
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

type Json = Record<string, unknown>;

const record = (value: unknown): Json => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {});
const records = (value: unknown): Json[] => (Array.isArray(value) ? value.map(record) : []);
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** labels.FormatLabels: k=v sorted by key, joined by commas; <none> when empty. */
function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.length === 0 ? '<none>' : keys.map((k) => `${k}=${labels![k]}`).join(',');
}

/** listWithMoreString: at most three items, then "+ N more...", <unset> for none. */
function listWithMore(items: readonly string[]): string {
  const shown = items.slice(0, 3).join(',');
  if (items.length > 3) return `${shown} + ${items.length - 3} more...`;
  return shown === '' ? '<unset>' : shown;
}

/** A restartable init container (a sidecar) counts among the pod's containers. */
const isSidecar = (container: Json | undefined): boolean => container?.restartPolicy === 'Always';

/**
 * printPod: READY counts containers ready and running, STATUS is the phase or
 * the reason a container gives (Init:…, CrashLoopBackOff, Completed,
 * Terminating), RESTARTS adds "(5m ago)" after a restart.
 */
function podCells(o: KubeObject, now: number): { cells: Cell[]; conditions?: unknown[] } {
  if (o.kind !== 'Pod') return { cells: [] };
  const status = (o.status ?? {}) as Json;
  const spec = o.spec as Json;
  const phase = text(status.phase) || 'Pending';
  let reason = text(status.reason) || phase;
  const conditions = records(status.conditions);
  if (conditions.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';
  const initContainers = new Map(records(spec.initContainers).map((c) => [text(c.name), c] as const));
  const total = o.spec.containers.length + [...initContainers.values()].filter(isSidecar).length;
  let ready = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart = 0;
  let lastSidecarRestart = 0;
  const finishedAt = (c: Json): number => Date.parse(text(record(record(c.lastState).terminated).finishedAt)) || 0;
  let initializing = false;
  const initStatuses = records(status.initContainerStatuses);
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i]!;
    const count = Number(c.restartCount ?? 0);
    restarts += count;
    lastRestart = Math.max(lastRestart, finishedAt(c));
    const sidecar = isSidecar(initContainers.get(text(c.name)));
    if (sidecar) {
      sidecarRestarts += count;
      lastSidecarRestart = Math.max(lastSidecarRestart, finishedAt(c));
    }
    const state = record(c.state);
    const terminated = state.terminated === undefined ? undefined : record(state.terminated);
    const waiting = state.waiting === undefined ? undefined : record(state.waiting);
    if (terminated && Number(terminated.exitCode ?? 0) === 0) continue;
    if (sidecar && c.started === true) {
      if (c.ready === true) ready++;
      continue;
    }
    if (terminated) {
      reason = text(terminated.reason) ? `Init:${text(terminated.reason)}` : Number(terminated.signal ?? 0) ? `Init:Signal:${Number(terminated.signal)}` : `Init:ExitCode:${Number(terminated.exitCode ?? 0)}`;
    } else if (waiting && text(waiting.reason) && waiting.reason !== 'PodInitializing') {
      reason = `Init:${text(waiting.reason)}`;
    } else {
      reason = `Init:${i}/${initContainers.size}`;
    }
    initializing = true;
    break;
  }
  if (!initializing || conditions.some((c) => c.type === 'Initialized' && c.status === 'True')) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let running = false;
    // Readiness is flipped here by patching the pod's Ready condition (the README's
    // recipe), which leaves containerStatuses as they were; a real kubelet reports
    // its containers unready along with it, so a pod marked unready has none ready.
    const markedUnready = conditions.some((c) => c.type === 'Ready' && c.status === 'False');
    const statuses = records(status.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i]!;
      restarts += Number(c.restartCount ?? 0);
      lastRestart = Math.max(lastRestart, finishedAt(c));
      const state = record(c.state);
      const terminated = state.terminated === undefined ? undefined : record(state.terminated);
      if (state.waiting !== undefined && text(record(state.waiting).reason)) reason = text(record(state.waiting).reason);
      else if (terminated && text(terminated.reason)) reason = text(terminated.reason);
      else if (terminated) reason = Number(terminated.signal ?? 0) ? `Signal:${Number(terminated.signal)}` : `ExitCode:${Number(terminated.exitCode ?? 0)}`;
      else if (c.ready === true && state.running !== undefined) {
        running = true;
        if (!markedUnready) ready++;
      }
    }
    if (reason === 'Completed' && running) reason = conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
  }
  if (o.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (o.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';
  const restartText = restarts !== 0 && lastRestart > 0 ? `${restarts} (${humanDuration(now - lastRestart)} ago)` : String(restarts);
  const podIp = text(records(status.podIPs)[0]?.ip) || text(status.podIP) || '<none>';
  const gates = records(spec.readinessGates);
  const readinessGates =
    gates.length === 0 ? '<none>' : `${gates.filter((g) => conditions.find((c) => c.type === g.conditionType)?.status === 'True').length}/${gates.length}`;
  const cells = [o.metadata.name, `${ready}/${total}`, reason, restartText, age(o, now), podIp, text(spec.nodeName) || '<none>', text(status.nominatedNodeName) || '<none>', readinessGates];
  // A finished pod's row says so, as the API server's printer marks it (kubectl may hide such rows).
  const done = phase === 'Succeeded' ? 'The pod has completed successfully.' : phase === 'Failed' ? 'The pod failed.' : undefined;
  return { cells, ...(done ? { conditions: [{ type: 'Completed', status: 'True', reason: phase, message: done }] } : {}) };
}

/** getServiceExternalIP, with wide output (the server prints every column; kubectl picks). */
function externalIp(o: KubeObject): string {
  if (o.kind !== 'Service') return '';
  const externalIps = Array.isArray(o.spec.externalIPs) ? (o.spec.externalIPs as string[]) : [];
  switch (o.spec.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return externalIps.length > 0 ? externalIps.join(',') : '<none>';
    case 'LoadBalancer': {
      const ingress = records(record(record(o.status).loadBalancer).ingress);
      const balancers = [...new Set(ingress.map((i) => text(i.ip) || text(i.hostname)).filter(Boolean))].sort();
      const all = [...balancers, ...externalIps];
      return all.length > 0 ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return o.spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

/**
 * printNode: STATUS is Ready or NotReady (from the Ready condition; Unknown
 * without one), then SchedulingDisabled when cordoned; ROLES from the
 * node-role.kubernetes.io/<role> and kubernetes.io/role labels.
 */
export function nodeCells(o: KubeObject, now: number): Cell[] {
  if (o.kind !== 'Node') return [];
  const status = record(o.status);
  const ready = records(status.conditions).find((c) => c.type === 'Ready');
  const states = ready ? [ready.status === 'True' ? 'Ready' : 'NotReady'] : ['Unknown'];
  if (o.spec?.unschedulable === true) states.push('SchedulingDisabled');
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(o.metadata.labels ?? {})) {
    if (key.startsWith('node-role.kubernetes.io/') && key.length > 'node-role.kubernetes.io/'.length) roles.add(key.slice('node-role.kubernetes.io/'.length));
    else if (key === 'kubernetes.io/role' && value) roles.add(value);
  }
  const address = (type: string): string => text(records(status.addresses).find((a) => a.type === type)?.address) || '<none>';
  const info = record(status.nodeInfo);
  return [
    o.metadata.name,
    states.join(','),
    roles.size ? [...roles].sort().join(',') : '<none>',
    age(o, now),
    text(info.kubeletVersion),
    address('InternalIP'),
    address('ExternalIP'),
    text(info.osImage) || '<unknown>',
    text(info.kernelVersion) || '<unknown>',
    text(info.containerRuntimeVersion) || '<unknown>',
  ];
}

/** translateTimestampSince (and its MicroTime twin): the age of a timestamp, <unknown> when there is none. */
function since(timestamp: unknown, now: number): string {
  const at = typeof timestamp === 'string' ? Date.parse(timestamp) : Number.NaN;
  return Number.isNaN(at) ? '<unknown>' : humanDuration(now - at);
}

/**
 * printEvent: LAST SEEN is lastTimestamp (else the first: firstTimestamp, or
 * eventTime for events.k8s.io writers; a series' last observation wins), COUNT
 * at least 1, OBJECT kind/name in lower case, SOURCE "component, host"
 * (formatEventSource, falling back to reportingController/Instance).
 */
function eventCells(o: KubeObject, now: number): Cell[] {
  if (o.kind !== 'Event') return [];
  const first = o.firstTimestamp ? since(o.firstTimestamp, now) : since(o.eventTime, now);
  let last = o.lastTimestamp ? since(o.lastTimestamp, now) : first;
  let count = typeof o.count === 'number' ? o.count : 0;
  const series = o.series === undefined || o.series === null ? undefined : record(o.series);
  if (series) {
    last = since(series.lastObservedTime, now);
    count = Number(series.count ?? 0);
  } else if (count === 0) count = 1;
  const ref = o.involvedObject ?? {};
  const kind = text(ref.kind).toLowerCase();
  const target = text(ref.name) ? `${kind}/${text(ref.name)}` : kind;
  const component = text(o.source?.component) || text(o.reportingComponent);
  const host = text(o.source?.host) || text(o.reportingInstance);
  return [last, text(o.type), text(o.reason), target, text(ref.fieldPath), host ? `${component}, ${host}` : component, text(o.message), first, count, o.metadata.name];
}

const PRINTERS: Record<KubeObject['kind'], Printer> = {
  Pod: {
    columns: [NAME, col('Ready'), col('Status'), col('Restarts'), AGE, col('IP', 1), col('Node', 1), col('Nominated Node', 1), col('Readiness Gates', 1)],
    cells: (o, now) => podCells(o, now).cells,
    conditions: (o, now) => podCells(o, now).conditions,
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
      const clusterIp = o.spec.clusterIPs?.[0] ?? (o.spec.clusterIP || '<none>');
      return [o.metadata.name, o.spec.type ?? 'ClusterIP', clusterIp, externalIp(o), ports, age(o, now), formatLabels(o.spec.selector)];
    },
  },
  EndpointSlice: {
    columns: [NAME, col('AddressType'), col('Ports'), col('Endpoints'), AGE],
    cells: (o, now) => {
      if (o.kind !== 'EndpointSlice') return [];
      // formatDiscoveryPorts: the number, else the name, else "*".
      const ports = listWithMore((o.ports ?? []).map((p) => (p.port !== undefined && p.port !== null ? String(p.port) : (p.name ?? '*'))));
      const endpoints = listWithMore(o.endpoints.flatMap((e) => e.addresses));
      return [o.metadata.name, o.addressType, ports, endpoints, age(o, now)];
    },
  },
  Lease: {
    columns: [NAME, col('Holder'), AGE],
    // printLease leaves the cell empty when nobody holds the lease.
    cells: (o, now) => [o.metadata.name, (o.kind === 'Lease' && o.spec?.holderIdentity) || '', age(o, now)],
  },
  Namespace: {
    columns: [NAME, col('Status'), AGE],
    cells: (o, now) => [o.metadata.name, (o.kind === 'Namespace' && o.status?.phase) || 'Active', age(o, now)],
  },
  // The kinds of the StatefulSet lifecycle; their controllers' authors give them the printers' full columns.
  ControllerRevision: {
    columns: [NAME, col('Controller'), col('Revision', 0, 'integer'), AGE],
    cells: (o, now) => {
      const owner = o.metadata.ownerReferences?.find((r) => r.controller);
      return [o.metadata.name, owner ? `${owner.kind.toLowerCase()}.${owner.apiVersion.split('/')[0]}/${owner.name}` : '<none>', o.kind === 'ControllerRevision' ? o.revision : 0, age(o, now)];
    },
  },
  // printPersistentVolumeClaim: capacity and access modes once bound (spec.volumeName), Terminating while deleted.
  PersistentVolumeClaim: {
    columns: [NAME, col('Status'), col('Volume'), col('Capacity'), col('Access Modes'), col('StorageClass'), col('VolumeAttributesClass'), AGE, col('VolumeMode', 1)],
    cells: (o, now) => {
      if (o.kind !== 'PersistentVolumeClaim') return [];
      const volume = text(o.spec.volumeName);
      const phase = o.metadata.deletionTimestamp ? 'Terminating' : text(o.status?.phase);
      const capacity = volume ? canonicalQuantity(text(o.status?.capacity?.storage) || '0') : '';
      const modes = volume ? accessModesText(o.status?.accessModes) : '';
      return [o.metadata.name, phase, volume, capacity, modes, storageClassOf(o), text(o.spec.volumeAttributesClassName) || '<unset>', age(o, now), text(o.spec.volumeMode) || '<unset>'];
    },
  },
  // printPersistentVolume: CLAIM is namespace/name; Terminating while deleted.
  PersistentVolume: {
    columns: [NAME, col('Capacity'), col('Access Modes'), col('Reclaim Policy'), col('Status'), col('Claim'), col('StorageClass'), col('VolumeAttributesClass'), col('Reason'), AGE, col('VolumeMode', 1)],
    cells: (o, now) => {
      if (o.kind !== 'PersistentVolume') return [];
      const ref = o.spec.claimRef;
      const claim = ref ? `${ref.namespace ?? ''}/${ref.name ?? ''}` : '';
      const phase = o.metadata.deletionTimestamp ? 'Terminating' : text(o.status?.phase);
      return [
        o.metadata.name,
        canonicalQuantity(text(o.spec.capacity?.storage) || '0'),
        accessModesText(o.spec.accessModes),
        text(o.spec.persistentVolumeReclaimPolicy),
        phase,
        claim,
        storageClassOf(o),
        text(o.spec.volumeAttributesClassName) || '<unset>',
        text(o.status?.reason),
        age(o, now),
        text(o.spec.volumeMode) || '<unset>',
      ];
    },
  },
  Node: {
    columns: [NAME, col('Status'), col('Roles'), AGE, col('Version'), col('Internal-IP', 1), col('External-IP', 1), col('OS-Image', 1), col('Kernel-Version', 1), col('Container-Runtime', 1)],
    cells: (o, now) => nodeCells(o, now),
  },
  Event: {
    columns: [
      col('Last Seen'),
      col('Type'),
      col('Reason'),
      col('Object'),
      col('Subobject', 1),
      col('Source', 1),
      col('Message'),
      col('First Seen', 1),
      col('Count', 1),
      col('Name', 1, 'string', 'name'),
    ],
    cells: (o, now) => eventCells(o, now),
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
      const conditions = printer.conditions?.(object, now);
      return { cells: printer.cells(object, now), ...(conditions ? { conditions } : {}), ...(embedded ? { object: embedded } : {}) };
    }),
  };
}

/** Does the Accept header ask for a Table (application/json;as=Table;v=v1;g=meta.k8s.io)? */
export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}
