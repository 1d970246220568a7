// The EndpointSlice controller (staging/src/k8s.io/endpointslice): for every
// Service with a selector, slices built from the matching pods exactly as
// Kubernetes builds them. Slices of selector-less Services are the user's and
// are left alone.

import { ipFamily } from '../model/ip.js';
import { type Endpoint, type EndpointConditions, type EndpointPort, type EndpointSlice, type Pod, SERVICE_NAME_LABEL, type Service, type ServicePort } from '../model/types.js';
import type { ObjectStore } from '../store/store.js';
import { freezeJson, sameJson } from '../model/json.js';
import { isPodReady, isTerminal, isTerminating } from '../model/pods.js';

export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
const MAX_ENDPOINTS_PER_SLICE = 100;
/** Pods in name order with numbers compared as numbers (s-2 before s-10); one collator, made once. */
/** Made on first use: building an ICU collator costs ~15 ms, a tenth of a cold start. */
let byPodNameCollator: Intl.Collator | undefined;
const byPodName = { compare: (a: string, b: string): number => (byPodNameCollator ??= new Intl.Collator('en', { numeric: true })).compare(a, b) };

/** podutil.FindPort: a numeric targetPort as is; a named one looked up in the pod's container ports. */
function findPort(pod: Pod, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const container of pod.spec.containers) {
    for (const p of container.ports ?? []) {
      if (p.name === target && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP')) return p.containerPort;
    }
  }
  return undefined;
}

/** getEndpointPorts: the Service's ports resolved for one pod; ports that do not resolve are left out. */
function endpointPorts(service: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const port of service.spec.ports ?? []) {
    const number = findPort(pod, port);
    if (number === undefined) continue;
    out.push({ name: port.name ?? '', protocol: port.protocol ?? 'TCP', port: number });
  }
  return out;
}

/** The eight possible condition sets, frozen and shared by every endpoint (and kept by the store as they are). */
const CONDITIONS = Array.from({ length: 8 }, (_, i) => freezeJson({ ready: (i & 4) !== 0, serving: (i & 2) !== 0, terminating: (i & 1) !== 0 }));

function conditionsOf(ready: boolean, serving: boolean, terminating: boolean): EndpointConditions {
  return CONDITIONS[(ready ? 4 : 0) + (serving ? 2 : 0) + (terminating ? 1 : 0)]!;
}

/** podToEndpoint, with ShouldSetHostname and the readiness formula of semantics §2.1. */
function podToEndpoint(service: Service, pod: Pod, address: string): Endpoint {
  const ready = isPodReady(pod);
  const terminating = isTerminating(pod);
  const endpoint: Endpoint = {
    addresses: [address],
    conditions: conditionsOf(service.spec.publishNotReadyAddresses === true || (ready && !terminating), ready, terminating),
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name, uid: pod.metadata.uid ?? '' },
  };
  if (pod.spec.hostname && pod.spec.subdomain === service.metadata.name && pod.metadata.namespace === service.metadata.namespace) {
    endpoint.hostname = pod.spec.hostname;
  }
  const nodeName = pod.spec.nodeName;
  if (typeof nodeName === 'string') endpoint.nodeName = nodeName;
  return endpoint;
}

interface DesiredSlice {
  addressType: 'IPv4' | 'IPv6';
  ports: EndpointPort[];
  endpoints: Endpoint[];
}

function groupKey(addressType: string, ports: readonly EndpointPort[]): string {
  return `${addressType}|${JSON.stringify(ports)}`;
}

/** The five characters generateName appends (utilrand.String's alphabet: no vowels, no confusable digits). */
function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let out = '';
  for (let i = 0; i < 5; i++) out += alphabet[Math.floor(Math.random() * alphabet.length)];
  return out;
}

export class EndpointSliceController {
  /** "namespace/name" → resourceVersion of the controller's own last write of each slice. */
  private readonly ownWrites = new Map<string, string>();

  constructor(private readonly store: ObjectStore) {}

  /** True when this slice event is the controller's own write (or delete): nothing to put back. */
  wroteLast(slice: EndpointSlice, deleted: boolean): boolean {
    const key = `${slice.metadata.namespace ?? 'default'}/${slice.metadata.name}`;
    const own = this.ownWrites.get(key) === slice.metadata.resourceVersion;
    if (deleted) this.ownWrites.delete(key);
    return own;
  }

  private commit(changes: Parameters<ObjectStore['commit']>[0]): void {
    for (const event of this.store.commit(changes)) {
      const key = `${event.object.metadata.namespace ?? 'default'}/${event.object.metadata.name}`;
      this.ownWrites.set(key, event.object.metadata.resourceVersion ?? '');
    }
  }

  /** Services in a namespace whose selector matches any of the given label sets. */
  servicesSelecting(namespace: string, ...labelSets: (Record<string, string> | undefined)[]): Service[] {
    const found = new Map<string, Service>();
    labelSets.forEach((labels, i) => {
      // Versions share unchanged labels, so the same set is usually the same object.
      if (!labels || labelSets.indexOf(labels) < i) return;
      for (const service of this.store.servicesSelecting(namespace, labels)) found.set(service.metadata.name, service);
    });
    return [...found.values()];
  }

  private managedSlices(namespace: string, serviceName: string): EndpointSlice[] {
    return this.store.listByLabels('EndpointSlice', namespace, { [SERVICE_NAME_LABEL]: serviceName, [MANAGED_BY_LABEL]: MANAGED_BY });
  }

  private desired(service: Service): Map<string, DesiredSlice[]> {
    const groups = new Map<string, DesiredSlice>();
    const pods = this.store
      .listByLabels('Pod', service.metadata.namespace ?? 'default', service.spec.selector ?? {})
      .sort((a, b) => byPodName.compare(a.metadata.name, b.metadata.name));
    for (const pod of pods) {
      if (isTerminal(pod)) continue;
      const ports = endpointPorts(service, pod);
      const addresses = pod.status?.podIPs?.map((p) => p.ip) ?? (pod.status?.podIP ? [pod.status.podIP] : []);
      for (const address of addresses) {
        const family = ipFamily(address);
        if (!family) continue;
        const addressType = family === 4 ? 'IPv4' : 'IPv6';
        const key = groupKey(addressType, ports);
        let group = groups.get(key);
        if (!group) groups.set(key, (group = { addressType, ports, endpoints: [] }));
        group.endpoints.push(podToEndpoint(service, pod, address));
      }
    }
    const out = new Map<string, DesiredSlice[]>();
    if (groups.size === 0) {
      // A selector that matches nothing still gets one empty slice (the reconciler's placeholder).
      const addressType = service.spec.ipFamilies?.[0] === 'IPv6' ? 'IPv6' : 'IPv4';
      out.set(groupKey(addressType, []), [{ addressType, ports: [], endpoints: [] }]);
      return out;
    }
    for (const [key, group] of groups) {
      const chunks: DesiredSlice[] = [];
      for (let i = 0; i < group.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE) {
        chunks.push({ ...group, endpoints: group.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE) });
      }
      out.set(key, chunks);
    }
    return out;
  }

  reconcile(namespace: string, name: string): void {
    const service = this.store.get('Service', namespace, name);
    const existing = this.managedSlices(namespace, name);
    const selector = service?.spec.selector;
    if (!service || !selector || Object.keys(selector).length === 0) {
      if (existing.length) this.commit(existing.map((s) => ({ op: 'delete', kind: 'EndpointSlice', namespace, name: s.metadata.name })));
      return;
    }
    const desired = this.desired(service);
    const unused = new Map<string, EndpointSlice[]>();
    for (const slice of existing) {
      const key = groupKey(slice.addressType, slice.ports ?? []);
      unused.set(key, [...(unused.get(key) ?? []), slice]);
    }
    const writes: EndpointSlice[] = [];
    for (const [key, chunks] of desired) {
      for (const chunk of chunks) {
        const reuse = unused.get(key)?.shift();
        const slice = this.sliceFor(service, chunk, reuse);
        if (!reuse || !sameJson(reuse.endpoints, slice.endpoints) || !sameJson(reuse.ports, slice.ports) || !sameJson(reuse.metadata.labels, slice.metadata.labels)) {
          writes.push(slice);
        }
      }
    }
    const stale = [...unused.values()].flat();
    if (writes.length === 0 && stale.length === 0) return;
    this.commit([
      ...writes.map((object) => ({ op: 'put' as const, object, owned: true })),
      ...stale.map((s) => ({ op: 'delete' as const, kind: 'EndpointSlice' as const, namespace, name: s.metadata.name })),
    ]);
  }

  private sliceFor(service: Service, chunk: DesiredSlice, reuse: EndpointSlice | undefined): EndpointSlice {
    const headless = service.spec.clusterIP === 'None';
    const labels: Record<string, string> = {
      ...(service.metadata.labels ?? {}),
      [SERVICE_NAME_LABEL]: service.metadata.name,
      [MANAGED_BY_LABEL]: MANAGED_BY,
      ...(headless ? { 'service.kubernetes.io/headless': '' } : {}),
    };
    const name = reuse?.metadata.name ?? `${service.metadata.name.slice(0, 57)}-${randomSuffix()}`;
    return {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name,
        namespace: service.metadata.namespace ?? 'default',
        labels,
        ...(reuse?.metadata.resourceVersion ? { resourceVersion: reuse.metadata.resourceVersion } : {}),
        generateName: `${service.metadata.name}-`,
        ownerReferences: [
          { apiVersion: 'v1', kind: 'Service', name: service.metadata.name, uid: service.metadata.uid ?? '', controller: true, blockOwnerDeletion: true },
        ],
      },
      addressType: chunk.addressType,
      endpoints: chunk.endpoints,
      ports: chunk.ports,
    };
  }
}
