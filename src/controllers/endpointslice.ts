// The EndpointSlice controller (staging/src/k8s.io/endpointslice): for every
// Service with a selector, slices built from the matching pods exactly as
// Kubernetes builds them. Slices of selector-less Services are the user's and
// are left alone.

import { ipFamily } from '../model/ip.js';
import { type Endpoint, type EndpointConditions, type EndpointPort, type EndpointSlice, type Pod, SERVICE_NAME_LABEL, type Service, type ServicePort } from '../model/types.js';
import type { ObjectStore, StoreChange } from '../store/store.js';
import { freezeJson, sameJson } from '../model/json.js';
import { isPodReady, isTerminal, isTerminating } from '../model/pods.js';

export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
const MAX_ENDPOINTS_PER_SLICE = 100;
/** Pods whose endpoints one reconcile makes before it leaves the rest to the next round (a few milliseconds' work). */
const NEW_ENDPOINTS_PER_CALL = 1_000;
/** Slices one reconcile writes before it leaves the rest to the next round. */
const SLICE_WRITES_PER_CALL = 10;
/**
 * Orders pods by name with numbers compared as numbers (s-2 before s-10). One
 * collator, made on first use: building an ICU collator costs ~15 ms, a tenth of a cold start.
 */
let byPodNameCollator: Intl.Collator | undefined;
const collator = (): Intl.Collator => (byPodNameCollator ??= new Intl.Collator('en', { numeric: true }));
/** Where a name's trailing ordinal starts (`kubia-` of `kubia-12`), or -1 when it has none or a leading zero. */
function ordinalStart(name: string): number {
  let i = name.length;
  while (i > 0 && name.charCodeAt(i - 1) >= 48 && name.charCodeAt(i - 1) <= 57) i--;
  if (i === name.length || i === 0 || name.charCodeAt(i - 1) !== 45 /* - */ || (name.charCodeAt(i) === 48 && i < name.length - 1)) return -1;
  return i;
}
/**
 * The collator's order, with a shortcut for a set's members: two names that
 * differ only in a plain trailing ordinal compare as those numbers, which is
 * what the numeric collator says of them too (so the order stays one order).
 * Ten thousand members sort in a few milliseconds instead of tens.
 */
function compareNames(a: string, b: string): number {
  const i = ordinalStart(a);
  if (i > 0 && i === ordinalStart(b) && a.startsWith(b.slice(0, i))) {
    const length = a.length - b.length;
    if (length !== 0) return length;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return collator().compare(a, b);
}

/**
 * Pods in compareNames order. The members of one set (`web-0` … `web-9999`,
 * one prefix, plain ordinals) are placed by their ordinals, no comparisons;
 * any other mix is sorted with compareNames.
 */
function sortByName(pods: readonly Pod[]): Pod[] {
  const first = pods[0]?.metadata.name ?? '';
  const start = ordinalStart(first);
  if (start > 0) {
    const prefix = first.slice(0, start);
    const byOrdinal = new Map<number, Pod>();
    let ordinalsOnly = true;
    for (const pod of pods) {
      const name = pod.metadata.name;
      if (ordinalStart(name) !== start || !name.startsWith(prefix) || name.length - start > 15) {
        ordinalsOnly = false;
        break;
      }
      byOrdinal.set(Number(name.slice(start)), pod);
    }
    if (ordinalsOnly && byOrdinal.size === pods.length) {
      const ordinals = Float64Array.from(byOrdinal.keys()).sort();
      return Array.from(ordinals, (ordinal) => byOrdinal.get(ordinal)!);
    }
  }
  return [...pods].sort((a, b) => compareNames(a.metadata.name, b.metadata.name));
}

/** podutil.FindPort: a numeric targetPort as is; a named one looked up in the pod's container ports. */
function findPort(pod: Pod | undefined, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const container of pod?.spec.containers ?? []) {
    for (const p of container.ports ?? []) {
      if (p.name === target && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP')) return p.containerPort;
    }
  }
  return undefined;
}

/** getEndpointPorts: the Service's ports resolved for one pod; ports that do not resolve are left out. */
function endpointPorts(service: Service, pod: Pod | undefined): EndpointPort[] {
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

/** A pod's addresses, podIPs first (as the pod reports them), else podIP. */
function podAddresses(pod: Pod): readonly string[] {
  const ips = pod.status?.podIPs;
  if (ips) return ips.map((p) => p.ip);
  return pod.status?.podIP ? [pod.status.podIP] : [];
}

/** What one pod contributes to a Service's slices: its endpoints, by address type, and their ports. */
interface PodEndpoints {
  group: PortGroup;
  endpoints: { addressType: 'IPv4' | 'IPv6'; endpoint: Endpoint }[];
}

/** One set of resolved ports and the group keys of its slices. */
interface PortGroup {
  ports: EndpointPort[];
  v4Key: string;
  v6Key: string;
}

/**
 * The Service's ports resolved per pod, shared by every pod that resolves them
 * to the same numbers: the ports (and their group keys) are made once per
 * distinct set, not once per pod.
 */
class PortGroups {
  private readonly known = new Map<string, PortGroup>();
  private readonly fixed: PortGroup | undefined;

  constructor(private readonly service: Service) {
    // Numeric targetPorts (the common case) do not depend on the pod at all.
    const named = (service.spec.ports ?? []).some((port) => typeof (port.targetPort ?? port.port) === 'string' && !/^\d+$/.test(String(port.targetPort)));
    if (!named) this.fixed = this.group(endpointPorts(service, undefined));
  }

  of(pod: Pod): PortGroup {
    if (this.fixed) return this.fixed;
    const ports = endpointPorts(this.service, pod);
    const signature = ports.map((p) => `${p.name}/${p.port}`).join(',');
    let group = this.known.get(signature);
    if (!group) this.known.set(signature, (group = this.group(ports)));
    return group;
  }

  private group(ports: EndpointPort[]): PortGroup {
    freezeJson(ports);
    return { ports, v4Key: groupKey('IPv4', ports), v6Key: groupKey('IPv6', ports) };
  }
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

  private commit(changes: StoreChange[]): void {
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

  /**
   * The endpoints of each pod for this Service, kept while neither changes
   * (both are immutable versions): a reconcile after one member changed
   * rebuilds one endpoint, not ten thousand.
   */
  private endpointCache = new WeakMap<Service, WeakMap<Pod, PodEndpoints>>();

  /**
   * The slices the Service's pods make, or undefined when this call made the
   * endpoints of NEW_ENDPOINTS_PER_CALL pods and more remain: the rest come in
   * the next calls (each a round of the store's cascade), so a Service of ten
   * thousand members is never one long task.
   */
  /** The last list of a Service's pods and that list in name order: a list that did not change is not sorted again. */
  private lastSorted = new WeakMap<Service, { listed: readonly Pod[]; sorted: Pod[] }>();

  private sortedPods(service: Service, pods: Pod[]): Pod[] {
    const last = this.lastSorted.get(service);
    if (last && last.listed.length === pods.length && last.listed.every((pod, i) => pod === pods[i])) return last.sorted;
    const sorted = sortByName(pods);
    this.lastSorted.set(service, { listed: pods, sorted });
    return sorted;
  }

  private desired(service: Service): Map<string, DesiredSlice[]> | undefined {
    const pods = this.store.listByLabels('Pod', service.metadata.namespace ?? 'default', service.spec.selector ?? {});
    let cache = this.endpointCache.get(service);
    if (!cache) this.endpointCache.set(service, (cache = new WeakMap()));
    const portGroups = new PortGroups(service);
    let made = 0;
    for (const pod of pods) {
      if (isTerminal(pod) || cache.has(pod)) continue;
      if (made++ === NEW_ENDPOINTS_PER_CALL) return undefined;
      const entry: PodEndpoints = { group: portGroups.of(pod), endpoints: [] };
      for (const address of podAddresses(pod)) {
        const family = ipFamily(address);
        if (!family) continue;
        entry.endpoints.push({ addressType: family === 4 ? 'IPv4' : 'IPv6', endpoint: freezeJson(podToEndpoint(service, pod, address)) });
      }
      cache.set(pod, entry);
    }
    const sorted = this.sortedPods(service, pods);
    const groups = new Map<string, DesiredSlice>();
    for (const pod of sorted) {
      const entry = cache.get(pod);
      if (!entry) continue;
      for (const { addressType, endpoint } of entry.endpoints) {
        const key = addressType === 'IPv4' ? entry.group.v4Key : entry.group.v6Key;
        let group = groups.get(key);
        if (!group) groups.set(key, (group = { addressType, ports: entry.group.ports, endpoints: [] }));
        group.endpoints.push(endpoint);
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

  /**
   * Slice writes planned by a reconcile and not made yet (it writes a few per
   * round); kept while nothing they were made from changes (invalidate()).
   */
  private readonly plans = new Map<string, { service: Service; changes: StoreChange[] }>();

  /** A pod, slice or the Service itself changed: the next reconcile of it plans again. */
  invalidate(namespace: string, name: string): void {
    this.plans.delete(`${namespace}/${name}`);
  }

  /** Commits the next few planned writes; true when none are left. */
  private commitSome(key: string, service: Service, changes: StoreChange[]): boolean {
    // Written a few slices per round, as the controller's API calls reach a
    // cluster's watchers one by one: what follows each write (the DNS index,
    // its answers) is then a thousand endpoints' work, not ten thousand.
    const now = changes.slice(0, SLICE_WRITES_PER_CALL);
    const later = changes.slice(SLICE_WRITES_PER_CALL);
    if (later.length) this.plans.set(key, { service, changes: later });
    else this.plans.delete(key);
    this.commit(now);
    return later.length === 0;
  }

  /** Returns false when the work was split and this Service must be reconciled again in the next round. */
  reconcile(namespace: string, name: string): boolean {
    const service = this.store.get('Service', namespace, name);
    const key = `${namespace}/${name}`;
    const plan = this.plans.get(key);
    if (plan && plan.service === service) return this.commitSome(key, plan.service, plan.changes);
    this.plans.delete(key);
    const selector = service?.spec.selector;
    if (!service || !selector || Object.keys(selector).length === 0) {
      const existing = this.managedSlices(namespace, name);
      if (existing.length) this.commit(existing.map((s) => ({ op: 'delete', kind: 'EndpointSlice', namespace, name: s.metadata.name })));
      return true;
    }
    const desired = this.desired(service);
    if (!desired) return false;
    const existing = this.managedSlices(namespace, name);
    const unused = new Map<string, EndpointSlice[]>();
    /** An existing slice by its first endpoint: the same endpoints are found in the same slice again. */
    const byFirstEndpoint = new Map<Endpoint, EndpointSlice>();
    for (const slice of existing) {
      const key = groupKey(slice.addressType, slice.ports ?? []);
      unused.set(key, [...(unused.get(key) ?? []), slice]);
      if (slice.endpoints[0]) byFirstEndpoint.set(slice.endpoints[0], slice);
    }
    const taken = new Set<EndpointSlice>();
    const writes: EndpointSlice[] = [];
    for (const [key, chunks] of desired) {
      const candidates = unused.get(key) ?? [];
      for (const chunk of chunks) {
        let reuse = chunk.endpoints[0] ? byFirstEndpoint.get(chunk.endpoints[0]) : undefined;
        if (!reuse || taken.has(reuse) || !candidates.includes(reuse)) reuse = candidates.find((slice) => !taken.has(slice));
        if (reuse) taken.add(reuse);
        const slice = this.sliceFor(service, chunk, reuse);
        if (!reuse || !sameJson(reuse.endpoints, slice.endpoints) || !sameJson(reuse.ports, slice.ports) || !sameJson(reuse.metadata.labels, slice.metadata.labels)) {
          writes.push(slice);
        }
      }
    }
    const stale = existing.filter((slice) => !taken.has(slice));
    if (writes.length === 0 && stale.length === 0) return true;
    const changes: StoreChange[] = [
      ...writes.map((object) => ({ op: 'put' as const, object, owned: true })),
      ...stale.map((s) => ({ op: 'delete' as const, kind: 'EndpointSlice' as const, namespace, name: s.metadata.name })),
    ];
    return this.commitSome(key, service, changes);
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
