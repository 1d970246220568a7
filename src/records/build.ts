// Pure record building: Kubernetes objects → what CoreDNS's kubernetes plugin
// would answer. Each function is a port of the CoreDNS function named in its
// comment; cluster-dns-semantics.md explains the behaviour they reproduce.

import { dashedIp, ipFamily } from '../model/ip.js';
import { type EndpointSlice, type Service, SERVICE_NAME_LABEL } from '../model/types.js';
import { type RecordRequest, matchLabel } from './names.js';
import type { RR } from './rr.js';

export type PodMode = 'disabled' | 'insecure' | 'verified';

/** What changes answers (semantics §1). Zone names are lower case and end with a dot. */
export interface DnsConfig {
  zone: string;
  ttl: number;
  pods: PodMode;
  /** Own in-addr.arpa and ip6.arpa (kubeadm does), answering PTR. */
  reverse: boolean;
  /** Addresses for `ns.dns.<zone>`: the server's own listen addresses. */
  nsAddresses: readonly string[];
  /** CoreDNS `namespaces`: only these are exposed (others answer NXDOMAIN); all when unset. */
  namespaces?: readonly string[];
  /** CoreDNS `endpoint_pod_names`: an endpoint without a hostname is named by its pod, not its dashed IP. */
  endpointPodNames?: boolean;
  /** CoreDNS `ignore empty_service`: a ClusterIP Service with no ready endpoint answers NXDOMAIN. */
  ignoreEmptyService?: boolean;
  /** The reverse zones owned (with `reverse`), with trailing dots. Default in-addr.arpa. and ip6.arpa. */
  reverseZones?: readonly string[];
  /**
   * CoreDNS `fallthrough`: NXDOMAIN for names in these zones goes to the upstream
   * instead (an empty list: every zone). Default: the reverse zones (kubeadm's
   * `fallthrough in-addr.arpa ip6.arpa`).
   */
  fallthrough?: readonly string[];
}

/** Is the namespace one the configuration exposes (CoreDNS configuredNamespace)? */
export function namespaceConfigured(config: Pick<DnsConfig, 'namespaces'>, namespace: string): boolean {
  return !config.namespaces || config.namespaces.length === 0 || config.namespaces.includes(namespace);
}

export const DNS_SCHEMA_VERSION = '1.1.0';
export const DNS_VERSION_TTL = 28800;

export const DEFAULT_REVERSE_ZONES: readonly string[] = ['in-addr.arpa.', 'ip6.arpa.'];

export function zonesOf(config: DnsConfig): string[] {
  return config.reverse ? [config.zone, ...(config.reverseZones ?? DEFAULT_REVERSE_ZONES)] : [config.zone];
}

export interface PortView {
  name: string;
  protocol: string;
  /** -1 is CoreDNS's sentinel for "no ports declared". */
  port: number;
}

export interface EndpointView {
  address: string;
  /** hostname, or the dashed address (endpointHostname). */
  label: string;
  ports: readonly PortView[];
}

/** The slim Service CoreDNS keeps (object/service.go), with its ready endpoints merged in. */
export interface ServiceView {
  name: string;
  namespace: string;
  type: string;
  headless: boolean;
  clusterIPs: readonly string[];
  ports: readonly PortView[];
  externalName?: string;
  publishNotReadyAddresses: boolean;
  endpoints: readonly EndpointView[];
}

const NO_PORTS: readonly PortView[] = [{ name: '', protocol: '', port: -1 }];

/** object.ToService + EndpointSliceToEndpoints, merged per Service. */
/** One slice's ready endpoints as views (EndpointSliceToEndpoints); a slice is immutable, so this is made once per version. */
const sliceEndpointViews = new WeakMap<EndpointSlice, readonly EndpointView[]>();
/** The same with `endpoint_pod_names`. */
const slicePodNamedViews = new WeakMap<EndpointSlice, readonly EndpointView[]>();

/**
 * One slice's ready endpoints as views. An endpoint is labelled by its hostname,
 * else (with `endpoint_pod_names`) its pod's name, else its dashed address
 * (CoreDNS endpointHostname).
 */
export function endpointViewsOf(slice: EndpointSlice, podNames = false): readonly EndpointView[] {
  const cache = podNames ? slicePodNamedViews : sliceEndpointViews;
  let views = cache.get(slice);
  if (views) return views;
  const slicePorts: readonly PortView[] = slice.ports?.length
    ? slice.ports.map((p) => ({ name: p.name ?? '', protocol: p.protocol ?? 'TCP', port: p.port ?? -1 }))
    : NO_PORTS;
  const made: EndpointView[] = [];
  if (slice.addressType !== 'FQDN') {
    for (const endpoint of slice.endpoints) {
      // A missing ready condition counts as ready (EndpointReady in endpointslice util).
      if (endpoint.conditions?.ready === false) continue;
      const podName = podNames && endpoint.targetRef?.kind === 'Pod' ? endpoint.targetRef.name : undefined;
      for (const address of endpoint.addresses) {
        made.push({ address, label: endpoint.hostname || podName || dashedIp(address), ports: slicePorts });
      }
    }
  }
  views = Object.freeze(made);
  cache.set(slice, views);
  return views;
}

export function buildServiceView(service: Service, slices: readonly EndpointSlice[], podNames = false): ServiceView {
  const spec = service.spec;
  const clusterIPs = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  const ports = spec.ports?.length
    ? spec.ports.map((p) => ({ name: p.name ?? '', protocol: p.protocol ?? 'TCP', port: p.port }))
    : NO_PORTS;
  const endpoints: EndpointView[] = [];
  for (const slice of slices) {
    if (slice.metadata.labels?.[SERVICE_NAME_LABEL] !== service.metadata.name) continue;
    // The views of a slice that did not change are the ones made before: the
    // index can tell which endpoints a change moved by identity alone.
    for (const endpoint of endpointViewsOf(slice, podNames)) endpoints.push(endpoint);
  }
  return {
    name: service.metadata.name,
    namespace: service.metadata.namespace ?? 'default',
    type: spec.type ?? 'ClusterIP',
    headless: clusterIPs[0] === 'None',
    clusterIPs: clusterIPs.filter((ip) => ip !== 'None'),
    ports,
    ...(spec.type === 'ExternalName' && spec.externalName ? { externalName: spec.externalName } : {}),
    publishNotReadyAddresses: spec.publishNotReadyAddresses === true,
    endpoints,
  };
}

/** CoreDNS's msg.Service: one candidate answer before it becomes records. */
export interface Entry {
  /** An IP, or a domain name for ExternalName (a CNAME target). */
  host: string;
  port: number;
  /** The name this entry stands for: SRV target and glue owner. */
  target: string;
}

export function serviceDomain(view: Pick<ServiceView, 'name' | 'namespace'>, zone: string): string {
  return `${view.name}.${view.namespace}.svc.${zone}`;
}

export function isExternalHost(host: string): boolean {
  return ipFamily(host) === undefined;
}

/** A view's endpoints by lower-cased label, built once per view (views are rebuilt, never changed). */
const endpointsByLabel = new WeakMap<ServiceView, Map<string, EndpointView[]>>();
const NO_ENDPOINTS: readonly EndpointView[] = [];
/** A large view's entries for its own names, by port filter (readers never change them). */
const sharedEntries = new WeakMap<ServiceView, Map<string, readonly Entry[]>>();

/**
 * The endpoints a `<label>.<svc>...` name can match. Preparing every member's
 * name of an N-member Service asks this N times, so a scan per name made that
 * quadratic (a 4,000-member set spent most of a second here).
 */
function endpointsLabelled(view: ServiceView, label: string): readonly EndpointView[] {
  if (view.endpoints.length <= 16) return view.endpoints;
  let byLabel = endpointsByLabel.get(view);
  if (!byLabel) {
    byLabel = new Map();
    for (const endpoint of view.endpoints) {
      const key = endpoint.label.toLowerCase();
      const list = byLabel.get(key);
      if (list) list.push(endpoint);
      else byLabel.set(key, [endpoint]);
    }
    endpointsByLabel.set(view, byLabel);
  }
  return byLabel.get(label.toLowerCase()) ?? NO_ENDPOINTS;
}

const NO_ENTRIES: readonly Entry[] = Object.freeze([]);
/** A large headless view's entries by port name and protocol, per zone, made in one pass. */
const portEntries = new WeakMap<ServiceView, Map<string, Map<string, readonly Entry[]>>>();

/**
 * The `_port._proto` names of a headless Service with P ports and E endpoints
 * each want E entries: filtering all P × E for each of the P names made
 * preparing them P² × E (a 500-port Service over 2,000 members took 17 s). One
 * pass groups them instead.
 */
function entriesByPort(view: ServiceView, zone: string, domain: string): Map<string, readonly Entry[]> {
  let byZone = portEntries.get(view);
  if (!byZone) portEntries.set(view, (byZone = new Map()));
  let byPort = byZone.get(zone);
  if (byPort) return byPort;
  const grouped = new Map<string, Entry[]>();
  for (const endpoint of view.endpoints) {
    const target = `${endpoint.label}.${domain}`;
    for (const port of endpoint.ports) {
      const key = `${port.name.toLowerCase()} ${port.protocol.toLowerCase()}`;
      let list = grouped.get(key);
      if (!list) grouped.set(key, (list = []));
      list.push({ host: endpoint.address, port: port.port, target });
    }
  }
  byPort = new Map([...grouped].map(([key, list]) => [key, Object.freeze(list)]));
  byZone.set(zone, byPort);
  return byPort;
}

/**
 * The entries of a headless Service's own name: one per endpoint and port,
 * endpoint by endpoint. With many ports over many endpoints (500 × 2,000 is a
 * million) most could never be sent: an SRV answer holds at most
 * MAX_SRV_RECORDS, its weight is 1 past 100 entries either way, and A/AAAA
 * answers need each address once. So past MAX_SRV_RECORDS entries only each
 * remaining endpoint's first port is kept: the SRV and address answers built
 * from them are the same, at a bounded cost.
 */
function serviceLevelEntries(view: ServiceView, domain: string): Entry[] {
  const entries: Entry[] = [];
  for (const endpoint of view.endpoints) {
    const target = `${endpoint.label}.${domain}`;
    const ports = entries.length >= MAX_SRV_RECORDS ? endpoint.ports.slice(0, 1) : endpoint.ports;
    for (const port of ports) entries.push({ host: endpoint.address, port: port.port, target });
  }
  return entries;
}

/**
 * findServices for one Service: the entries a request matches, or undefined
 * when it matches nothing (CoreDNS's errNoItems, an NXDOMAIN).
 */
export function findServiceEntries(view: ServiceView, request: RecordRequest, zone: string, config?: Pick<DnsConfig, 'ignoreEmptyService'>): Entry[] | undefined {
  const domain = serviceDomain(view, zone);
  // ignore empty_service: a ClusterIP Service no ready endpoint answers for is as if absent.
  if (config?.ignoreEmptyService && view.type !== 'ExternalName' && !view.headless && view.endpoints.length === 0) return undefined;
  if (view.type === 'ExternalName') {
    // No endpoints and no _port._proto names below an ExternalName service.
    if (request.endpoint || request.port || request.protocol) return undefined;
    if (!view.externalName || !isExternalHost(view.externalName)) return undefined;
    return [{ host: view.externalName, port: -1, target: domain }];
  }
  if (view.headless || request.endpoint) {
    // A large headless Service's own names (A, SRV, _port._proto SRV) all ask
    // for the same entries: built once per view and port filter.
    const shared = !request.endpoint && view.endpoints.length > 64;
    const cacheKey = shared ? `${request.port.toLowerCase()} ${request.protocol.toLowerCase()} ${zone}` : '';
    if (shared) {
      const cached = sharedEntries.get(view)?.get(cacheKey);
      if (cached) return cached.length > 0 ? (cached as Entry[]) : undefined;
    }
    if (shared && request.port !== '' && request.protocol !== '') {
      const entries = entriesByPort(view, zone, domain).get(`${request.port.toLowerCase()} ${request.protocol.toLowerCase()}`) ?? NO_ENTRIES;
      return entries.length > 0 ? (entries as Entry[]) : undefined;
    }
    if (shared && request.port === '' && request.protocol === '') {
      const entries = serviceLevelEntries(view, domain);
      let byFilter = sharedEntries.get(view);
      if (!byFilter) sharedEntries.set(view, (byFilter = new Map()));
      byFilter.set(cacheKey, Object.freeze(entries));
      return entries.length > 0 ? entries : undefined;
    }
    const entries: Entry[] = [];
    const candidates = request.endpoint ? endpointsLabelled(view, request.endpoint) : view.endpoints;
    for (const endpoint of candidates) {
      if (request.endpoint && !matchLabel(request.endpoint, endpoint.label)) continue;
      for (const port of endpoint.ports) {
        if (!matchLabel(request.port, port.name) || !matchLabel(request.protocol, port.protocol)) continue;
        entries.push({ host: endpoint.address, port: port.port, target: `${endpoint.label}.${domain}` });
      }
    }
    if (shared) {
      let byFilter = sharedEntries.get(view);
      if (!byFilter) sharedEntries.set(view, (byFilter = new Map()));
      byFilter.set(cacheKey, Object.freeze(entries));
    }
    return entries.length > 0 ? entries : undefined;
  }
  let matched = false;
  const entries: Entry[] = [];
  for (const port of view.ports) {
    if (!matchLabel(request.port, port.name) || !matchLabel(request.protocol, port.protocol)) continue;
    matched = true;
    for (const ip of view.clusterIPs) entries.push({ host: ip, port: port.port, target: domain });
  }
  return matched ? entries : undefined;
}

/**
 * findPods for `<a-b-c-d>.<ns>.pod.<zone>`: insecure echoes the address back,
 * verified requires a pod with that IP in the namespace. Returns undefined for NXDOMAIN.
 */
export function findPodEntries(
  request: RecordRequest,
  zone: string,
  mode: PodMode,
  podIpExists: (namespace: string, ip: string) => boolean,
): Entry[] | undefined {
  if (mode === 'disabled') return undefined;
  const label = request.service;
  if (label === '') return [];
  const ip = (label.split('-').length - 1 === 3 && !label.includes('--')) ? label.replaceAll('-', '.') : label.replaceAll('-', ':');
  if (ipFamily(ip) === undefined) return undefined;
  if (mode === 'verified' && !podIpExists(request.namespace, ip)) return undefined;
  return [{ host: ip, port: -1, target: `${label}.${request.namespace}.pod.${zone}` }];
}

/** The names a Service view answers under, for preparing answers ahead of queries. */
export function serviceNames(view: ServiceView, zone: string): string[] {
  return [...serviceLevelNames(view, zone), ...endpointNames(view, view.endpoints, zone)];
}

/**
 * The names of a view that every endpoint change may touch: the Service's own
 * name and its `_port._proto` names (of the Service's ports, or of a headless
 * one's endpoints).
 */
export function serviceLevelNames(view: ServiceView, zone: string): string[] {
  const domain = serviceDomain(view, zone);
  if (view.type === 'ExternalName') return [domain];
  const ports = new Set<string>();
  if (view.headless) {
    // Endpoints of one slice share their ports array: each array is read once.
    const seen = new Set<readonly PortView[]>();
    for (const endpoint of view.endpoints) {
      if (seen.has(endpoint.ports)) continue;
      seen.add(endpoint.ports);
      for (const p of endpoint.ports) if (p.name) ports.add(`_${p.name}._${p.protocol.toLowerCase()}`);
    }
  } else {
    for (const p of view.ports) if (p.name) ports.add(`_${p.name}._${p.protocol.toLowerCase()}`);
  }
  return [domain, ...[...ports].map((port) => `${port}.${domain}`)];
}

/** `<label>.<service domain>` of some of a view's endpoints (none for an ExternalName). */
export function endpointNames(view: ServiceView, endpoints: Iterable<EndpointView>, zone: string): string[] {
  if (view.type === 'ExternalName') return [];
  const domain = serviceDomain(view, zone);
  const names = new Set<string>();
  for (const endpoint of endpoints) names.add(`${endpoint.label}.${domain}`);
  return [...names];
}

/**
 * No DNS message holds more records than this in one section (65,535 bytes,
 * 16 bytes for the smallest record, an A with a compressed owner), so records
 * past it are cut from every reply anyway; not building them keeps preparing a
 * 10,000-member Service's answers from taking a whole slice.
 */
export const MAX_RECORDS_PER_SECTION = 4096;

const MAX_MESSAGE = 65_535;
const HEADER = 12;
/** The smallest SRV record: compressed owner (2), type, class, TTL, length (10), priority, weight, port (6), a one-letter label before a pointer (4). */
const SMALLEST_SRV = 22;
/** The smallest A record: compressed owner (2), type, class, TTL, length (10), address (4). */
const SMALLEST_ADDRESS = 16;
/** No message holds more SRV records than this. */
const MAX_SRV_RECORDS = Math.floor((MAX_MESSAGE - HEADER) / SMALLEST_SRV);

/** A/AAAA records from address entries (plugin.A without the CNAME branch): one per distinct address. */
export function addressRecords(entries: readonly Entry[], owner: string, family: 4 | 6, ttl: number): RR[] {
  const seen = new Set<string>();
  const records: RR[] = [];
  for (const entry of entries) {
    if (records.length >= MAX_RECORDS_PER_SECTION) break;
    if (ipFamily(entry.host) !== family || seen.has(entry.host)) continue;
    seen.add(entry.host);
    records.push(family === 4 ? { name: owner, ttl, type: 'A', address: entry.host } : { name: owner, ttl, type: 'AAAA', address: entry.host });
  }
  return records;
}

/**
 * plugin.SRV: priority 0, weight floor(100 / N) (at least 1) where N counts every
 * entry before duplicates are dropped, port -1 entries skipped, duplicates
 * (same target and port) collapsed, glue A/AAAA once per (target, address).
 */
export function srvRecords(entries: readonly Entry[], owner: string, ttl: number): { answer: RR[]; additional: RR[] } {
  const answer: RR[] = [];
  const additional: RR[] = [];
  const addresses = entries.filter((e) => !isExternalHost(e.host));
  const weight = Math.max(1, Math.floor(100 / Math.max(1, addresses.length)));
  // Few entries (nearly every answer) are checked for duplicates by a search; many by keyed sets.
  const keyed = addresses.length > 16;
  const seenSrv = keyed ? new Set<string>() : undefined;
  for (const entry of addresses) {
    if (answer.length >= MAX_SRV_RECORDS) break;
    if (entry.port === -1) continue;
    const srvKey = keyed ? `${entry.target} ${entry.port}` : '';
    const newSrv = seenSrv ? !seenSrv.has(srvKey) : !answer.some((rr) => rr.type === 'SRV' && rr.target === entry.target && rr.port === entry.port);
    if (!newSrv) continue;
    seenSrv?.add(srvKey);
    answer.push({ name: owner, ttl, type: 'SRV', priority: 0, weight, port: entry.port, target: entry.target });
  }
  // Replies keep a prefix of their records (answer first) that fits: glue past
  // what can follow these SRV records in 65,535 bytes is never sent, so it is
  // not built (a 10,000-member set's SRV answer fills a message by itself).
  const glueRoom = Math.min(MAX_RECORDS_PER_SECTION, Math.max(0, Math.floor((MAX_MESSAGE - HEADER - SMALLEST_SRV * answer.length) / SMALLEST_ADDRESS)));
  const seenGlue = keyed ? new Set<string>() : undefined;
  for (const entry of addresses) {
    if (additional.length >= glueRoom) break;
    if (entry.port === -1) continue;
    const glueKey = keyed ? `${entry.target} ${entry.host}` : '';
    const newGlue = seenGlue
      ? !seenGlue.has(glueKey)
      : !additional.some((rr) => rr.name === entry.target && (rr.type === 'A' || rr.type === 'AAAA') && rr.address === entry.host);
    if (!newGlue) continue;
    seenGlue?.add(glueKey);
    additional.push(
      ipFamily(entry.host) === 4
        ? { name: entry.target, ttl, type: 'A', address: entry.host }
        : { name: entry.target, ttl, type: 'AAAA', address: entry.host },
    );
  }
  return { answer, additional };
}

/** SOA for a zone (plugin.SOA): TTL min(ttl, 300), minimum = ttl. */
export function soaRecord(zone: string, ttl: number, serial: number): RR {
  return {
    name: zone,
    ttl: Math.min(ttl, 300),
    type: 'SOA',
    mname: `ns.dns.${zone}`,
    rname: `hostmaster.${zone}`,
    serial,
    refresh: 7200,
    retry: 1800,
    expire: 86400,
    minimum: ttl,
  };
}
