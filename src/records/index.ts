// The record index: follows the store and keeps, per Service, the slim view
// DNS answers are built from, plus the reverse (PTR) and pod-IP indexes. A
// store batch rebuilds only the Services it touches and reports the names and
// addresses whose answers may have changed, so answers can be prepared then
// rather than when a query arrives.

import type { EndpointSlice, KubeObject, Pod, Service } from '../model/types.js';
import { SERVICE_NAME_LABEL } from '../model/types.js';
import { sameJson } from '../model/json.js';
import type { ObjectStore, StoreEvent } from '../store/store.js';
import { type DnsConfig, type EndpointView, type ServiceView, buildServiceView, endpointNames, namespaceConfigured, serviceDomain, serviceLevelNames, zonesOf } from './build.js';

/** The read-only seam the DNS layer sees; it never touches the store. */
export interface RecordSource {
  readonly config: DnsConfig;
  readonly zones: readonly string[];
  serial(): number;
  namespaceExists(namespace: string): boolean;
  service(namespace: string, name: string): ServiceView | undefined;
  /** PTR targets for an address, in CoreDNS's order (serviceRecordForIP). */
  reverse(address: string): string[];
  podIpExists(namespace: string, ip: string): boolean;
  /**
   * The same records with each Service's view as it was at a time (ms since
   * the epoch), to the second, within the last STALE_HORIZON_SECONDS: a
   * `stale` fault answers from it. Names, pod IPs and PTRs stay current.
   */
  asOf?(time: number): RecordSource;
}

/** How far back a Service's earlier views are kept (a `stale` fault's limit). */
export const HISTORY_HORIZON_MS = 600_000;
/** Changes closer together than this keep one earlier view: history is to the second. */
const HISTORY_STEP_MS = 1000;
/** At most this many earlier views per Service, whatever the churn (a bound on what history holds). */
const HISTORY_LIMIT = 128;

/** A view that was in force until `until` (ms); undefined: the Service did not exist. */
interface PastView {
  until: number;
  view: ServiceView | undefined;
}

export interface IndexChange {
  /** Forward names (lower case, fully qualified) whose answers may differ now. */
  names: string[];
  /** Addresses whose PTR answers may differ now. */
  addresses: string[];
  /**
   * The change came from a write that does not wait for it (an API write that
   * is applied in slices): answers may be prepared over several slices, the
   * previous ones kept until all are ready. Otherwise they are prepared before
   * the write returns.
   */
  deferrable?: boolean;
}

type IndexListener = (change: IndexChange) => void;

const serviceKey = (namespace: string, name: string): string => `${namespace}/${name}`;

function sliceServiceKey(slice: EndpointSlice): string | undefined {
  const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  return service ? serviceKey(slice.metadata.namespace ?? 'default', service) : undefined;
}

/** The IP a pod is known by to `pods verified`: Succeeded/Failed/Unknown pods are not watched. */
function podIp(pod: Pod | undefined): string | undefined {
  if (!pod?.status?.podIP) return undefined;
  const phase = pod.status.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Unknown' ? undefined : pod.status.podIP;
}

export class RecordIndex implements RecordSource {
  readonly config: DnsConfig;
  readonly zones: readonly string[];
  private readonly namespaces = new Set<string>();
  private readonly services = new Map<string, Service>();
  private readonly slices = new Map<string, Map<string, EndpointSlice>>();
  private readonly views = new Map<string, ServiceView>();
  /** Per Service, its earlier views, oldest first (changes are rare next to queries: recording costs a push). */
  private readonly history = new Map<string, PastView[]>();
  private remembered = 0;
  /** ExternalName services: an in-zone target's answer follows any other service. */
  private readonly externalNames = new Set<string>();
  private readonly clusterIpOwners = new Map<string, string[]>();
  /** Endpoint address → [service key, endpoint label, service key, label, …] in the order they came. */
  private readonly endpointOwners = new Map<string, string[]>();
  /** namespace → pod IP → how many pods hold it */
  private readonly podIps = new Map<string, Map<string, number>>();
  private readonly listeners = new Set<IndexListener>();
  private readonly unsubscribe: () => void;
  private readonly unsubscribeSettled: () => void;
  private currentSerial: number;
  /** What changed since listeners were last told; they are told once a cascade settles. */
  private pending: { names: Set<string>; addresses: Set<string> } | undefined;

  constructor(private readonly store: ObjectStore, config: DnsConfig) {
    this.config = config;
    this.zones = zonesOf(config);
    this.currentSerial = Math.floor(Date.now() / 1000);
    this.apply(store.all().map((object): StoreEvent => ({ type: 'ADDED', object })));
    this.pending = undefined;
    this.unsubscribe = store.subscribe((events) => this.apply(events));
    this.unsubscribeSettled = store.onSettled(() => this.announce());
  }

  close(): void {
    this.unsubscribe();
    this.unsubscribeSettled();
    this.listeners.clear();
  }

  onChange(listener: IndexListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  serial(): number {
    return this.currentSerial;
  }

  /** Exists and is exposed (CoreDNS namespaceExposed: configured, and known to the API). */
  namespaceExists(namespace: string): boolean {
    return this.namespaces.has(namespace) && namespaceConfigured(this.config, namespace);
  }

  service(namespace: string, name: string): ServiceView | undefined {
    return this.views.get(serviceKey(namespace, name));
  }

  /** Every Service view; ExternalName targets and tests read it. */
  allServices(): IterableIterator<ServiceView> {
    return this.views.values();
  }

  reverse(address: string): string[] {
    const zone = this.config.zone;
    // Only exposed namespaces' Services and endpoints answer (serviceRecordForIP checks namespaceExposed).
    const exposed = (view: ServiceView | undefined): view is ServiceView => !!view && namespaceConfigured(this.config, view.namespace);
    const owners = this.clusterIpOwners.get(address);
    if (owners?.length) {
      const view = this.views.get(owners[0]!);
      if (exposed(view)) return [serviceDomain(view, zone)];
    }
    const targets: string[] = [];
    const endpoints = this.endpointOwners.get(address) ?? [];
    for (let i = 0; i < endpoints.length; i += 2) {
      const view = this.views.get(endpoints[i]!);
      if (exposed(view)) targets.push(`${endpoints[i + 1]!}.${serviceDomain(view, zone)}`);
    }
    return targets;
  }

  podIpExists(namespace: string, ip: string): boolean {
    return (this.podIps.get(namespace)?.get(ip) ?? 0) > 0;
  }

  asOf(time: number): RecordSource {
    const at = (namespace: string, name: string): ServiceView | undefined => {
      const key = serviceKey(namespace, name);
      for (const past of this.history.get(key) ?? []) if (past.until > time) return past.view;
      return this.views.get(key);
    };
    return {
      config: this.config,
      zones: this.zones,
      serial: () => this.serial(),
      namespaceExists: (namespace) => this.namespaceExists(namespace),
      service: at,
      reverse: (address) => this.reverse(address),
      podIpExists: (namespace, ip) => this.podIpExists(namespace, ip),
    };
  }

  /** Keeps the view a Service had until now (one per second of changes; pruned by age and count). */
  private remember(key: string, before: ServiceView | undefined): void {
    const now = Date.now();
    let past = this.history.get(key);
    if (!past) this.history.set(key, (past = []));
    const last = past[past.length - 1];
    // A view that lasted under a step is let go: the one after it stands for the step.
    if (last && last.until > now - HISTORY_STEP_MS) return;
    past.push({ until: now, view: before });
    let drop = 0;
    while (drop < past.length && (past[drop]!.until < now - HISTORY_HORIZON_MS || past.length - drop > HISTORY_LIMIT)) drop++;
    if (drop) past.splice(0, drop);
    // Now and then, Services deleted longer ago than the horizon are forgotten altogether.
    if (++this.remembered % 1024 === 0) {
      for (const [other, views] of this.history) if (!this.views.has(other) && views[views.length - 1]!.until < now - HISTORY_HORIZON_MS) this.history.delete(other);
    }
  }

  private apply(events: readonly StoreEvent[]): void {
    const touched = new Set<string>();
    let changed = false;
    for (const event of events) {
      changed = this.applyEvent(event, touched) || changed;
    }
    const names = new Set<string>();
    const addresses = new Set<string>();
    for (const key of touched) {
      if (this.rebuild(key, names, addresses)) changed = true;
    }
    if (!changed) return;
    this.currentSerial = Math.max(this.currentSerial + 1, Math.floor(Date.now() / 1000));
    this.pending ??= { names: new Set(), addresses: new Set() };
    for (const name of names) this.pending.names.add(name);
    for (const address of addresses) this.pending.addresses.add(address);
  }

  /** Tells listeners what changed, once per settled cascade of writes. */
  private announce(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    for (const key of this.externalNames) {
      const view = this.views.get(key);
      if (view) pending.names.add(serviceDomain(view, this.config.zone));
    }
    const change: IndexChange = { names: [...pending.names], addresses: [...pending.addresses], deferrable: this.store.yieldingCascade };
    // Every listener hears of the change even if one before it throws; the
    // first error then goes on to the store, which reports it.
    let failure: { error: unknown } | undefined;
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }

  /** Records one event; returns true when it changes answers by itself (namespaces, pod IPs). */
  private applyEvent(event: StoreEvent, touched: Set<string>): boolean {
    const object: KubeObject = event.object;
    const deleted = event.type === 'DELETED';
    switch (object.kind) {
      case 'Namespace':
        if (deleted) this.namespaces.delete(object.metadata.name);
        else this.namespaces.add(object.metadata.name);
        return event.type !== 'MODIFIED';
      case 'Service': {
        const key = serviceKey(object.metadata.namespace ?? 'default', object.metadata.name);
        if (deleted) this.services.delete(key);
        else this.services.set(key, object);
        touched.add(key);
        return false;
      }
      case 'EndpointSlice': {
        const sliceName = object.metadata.name;
        const before = event.previous?.kind === 'EndpointSlice' ? sliceServiceKey(event.previous) : undefined;
        if (before) {
          this.slices.get(before)?.delete(sliceName);
          touched.add(before);
        }
        const after = sliceServiceKey(object);
        if (after && !deleted) {
          let group = this.slices.get(after);
          if (!group) this.slices.set(after, (group = new Map()));
          group.set(sliceName, object);
        }
        if (after) {
          if (deleted) this.slices.get(after)?.delete(sliceName);
          touched.add(after);
        }
        return false;
      }
      case 'Pod': {
        const namespace = object.metadata.namespace ?? 'default';
        const before = podIp(event.previous?.kind === 'Pod' ? event.previous : undefined);
        const after = deleted ? undefined : podIp(object);
        if (before === after) return false;
        if (before) this.countPodIp(namespace, before, -1);
        if (after) this.countPodIp(namespace, after, +1);
        return this.config.pods === 'verified';
      }
      default:
        // Kinds DNS does not read (StatefulSets, Leases, claims, nodes, events...).
        return false;
    }
  }

  private countPodIp(namespace: string, ip: string, delta: number): void {
    let ips = this.podIps.get(namespace);
    if (!ips) this.podIps.set(namespace, (ips = new Map()));
    const next = (ips.get(ip) ?? 0) + delta;
    if (next > 0) ips.set(ip, next);
    else ips.delete(ip);
    if (ips.size === 0) this.podIps.delete(namespace);
  }

  /** Rebuilds one Service's view; returns true if what DNS sees of it changed. */
  private rebuild(key: string, names: Set<string>, addresses: Set<string>): boolean {
    const before = this.views.get(key);
    const service = this.services.get(key);
    const after = service ? buildServiceView(service, [...(this.slices.get(key)?.values() ?? [])], this.config.endpointPodNames === true) : undefined;
    if (sameJson(before, after)) return false;
    this.remember(key, before);
    if (before && after && sameServiceLevel(before, after)) {
      // Only endpoints moved: a slice that did not change keeps its endpoint
      // views, so the ones to index again are found by identity (a change of
      // ten slices of a hundred is a thousand endpoints' work).
      const kept = new Set<EndpointView>(before.endpoints);
      const added: EndpointView[] = [];
      for (const endpoint of after.endpoints) if (!kept.delete(endpoint)) added.push(endpoint);
      const removed = [...kept];
      this.unindexEndpoints(key, before, removed, names, addresses);
      // An address that left with one endpoint may still be held by another
      // (a pod in two slices): those are indexed again too.
      const gone = new Set(removed.map((endpoint) => endpoint.address));
      if (gone.size) {
        const adding = new Set(added);
        for (const endpoint of after.endpoints) if (gone.has(endpoint.address) && !adding.has(endpoint)) added.push(endpoint);
      }
      for (const name of serviceLevelNames(before, this.config.zone)) names.add(name);
      this.views.set(key, after);
      this.indexEndpoints(key, after, added, names, addresses);
      for (const name of serviceLevelNames(after, this.config.zone)) names.add(name);
      return true;
    }
    if (before) this.unindex(key, before, names, addresses);
    this.externalNames.delete(key);
    if (after?.type === 'ExternalName') this.externalNames.add(key);
    if (after) {
      this.views.set(key, after);
      this.index(key, after, names, addresses);
    } else {
      this.views.delete(key);
    }
    return true;
  }

  private index(key: string, view: ServiceView, names: Set<string>, addresses: Set<string>): void {
    for (const name of serviceLevelNames(view, this.config.zone)) names.add(name);
    for (const ip of view.clusterIPs) {
      const owners = this.clusterIpOwners.get(ip) ?? [];
      owners.push(key);
      this.clusterIpOwners.set(ip, owners);
      addresses.add(ip);
    }
    this.indexEndpoints(key, view, view.endpoints, names, addresses);
  }

  private indexEndpoints(key: string, view: ServiceView, endpoints: readonly EndpointView[], names: Set<string>, addresses: Set<string>): void {
    for (const name of endpointNames(view, endpoints, this.config.zone)) names.add(name);
    for (const endpoint of endpoints) {
      const owners = this.endpointOwners.get(endpoint.address) ?? [];
      let known = false;
      for (let i = 0; i < owners.length && !known; i += 2) known = owners[i] === key && owners[i + 1] === endpoint.label;
      // A new array of exactly this length (push would leave room for 16 more).
      if (!known) this.endpointOwners.set(endpoint.address, [...owners, key, endpoint.label]);
      addresses.add(endpoint.address);
    }
  }

  private unindex(key: string, view: ServiceView, names: Set<string>, addresses: Set<string>): void {
    for (const name of serviceLevelNames(view, this.config.zone)) names.add(name);
    for (const ip of view.clusterIPs) {
      const owners = (this.clusterIpOwners.get(ip) ?? []).filter((owner) => owner !== key);
      if (owners.length) this.clusterIpOwners.set(ip, owners);
      else this.clusterIpOwners.delete(ip);
      addresses.add(ip);
    }
    this.unindexEndpoints(key, view, view.endpoints, names, addresses, true);
  }

  /**
   * Forgets endpoints of a view. With `all`, every entry of the Service goes;
   * otherwise only the (address, label) pairs of these endpoints that no
   * endpoint left in the view still holds.
   */
  private unindexEndpoints(key: string, view: ServiceView, endpoints: readonly EndpointView[], names: Set<string>, addresses: Set<string>, all = false): void {
    for (const name of endpointNames(view, endpoints, this.config.zone)) names.add(name);
    for (const endpoint of endpoints) {
      const owners = this.endpointOwners.get(endpoint.address);
      if (owners) {
        const kept: string[] = [];
        for (let i = 0; i < owners.length; i += 2) {
          if (owners[i] !== key || (!all && owners[i + 1] !== endpoint.label)) kept.push(owners[i]!, owners[i + 1]!);
        }
        if (kept.length) this.endpointOwners.set(endpoint.address, kept);
        else this.endpointOwners.delete(endpoint.address);
      }
      addresses.add(endpoint.address);
    }
  }
}

/** Two views of one Service that differ in their endpoints at most. */
function sameServiceLevel(a: ServiceView, b: ServiceView): boolean {
  return (
    a.type === b.type &&
    a.headless === b.headless &&
    a.externalName === b.externalName &&
    a.publishNotReadyAddresses === b.publishNotReadyAddresses &&
    sameJson(a.clusterIPs, b.clusterIPs) &&
    sameJson(a.ports, b.ports)
  );
}
