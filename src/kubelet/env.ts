// A container's environment as the kubelet makes it (pkg/kubelet/kubelet_pods.go
// makeEnvironmentVariables, v1.32): the container's `env` in order, each value's
// `$(VAR)` references expanded against the variables before it and the Service
// variables (third_party/forked/golang/expansion), `valueFrom.fieldRef` from the
// pod, then the Service link variables a container's own `env` does not set.

import type { Container, Pod, Service } from '../model/types.js';

/** A value the kubelet could not make: the container waits with CreateContainerConfigError. */
export class EnvProblem extends Error {}

/**
 * `$(VAR)` → the variable's value when `lookup` knows it, else left as written;
 * `$$` → `$`; anything else after `$` stays (expansion.go Expand).
 */
export function expandVars(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    let advance = 1;
    if (next === '$') out += '$';
    else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close < 0) out += '$(';
      else {
        const name = input.slice(cursor + 2, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close - cursor;
      }
    } else out += `$${next}`;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/** `metadata.labels['k']` / `metadata.annotations['k']`. */
const SUBSCRIPT = /^metadata\.(labels|annotations)\['(.*)'\]$/;

/** A `fieldRef.fieldPath` of the downward API, read from the pod (pkg/fieldpath ExtractFieldPathAsString + podFieldSelectorRuntimeValue). */
export function fieldValue(pod: Pod, path: string): string {
  const status = pod.status ?? {};
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace ?? 'default';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return typeof pod.spec.nodeName === 'string' ? pod.spec.nodeName : '';
    case 'spec.serviceAccountName':
      return typeof pod.spec.serviceAccountName === 'string' ? pod.spec.serviceAccountName : 'default';
    case 'status.podIP':
      return status.podIP ?? '';
    case 'status.podIPs':
      return (status.podIPs ?? []).map((p) => p.ip).join(',');
    case 'status.hostIP':
      return typeof status.hostIP === 'string' ? status.hostIP : '';
    case 'status.hostIPs':
      return ((status.hostIPs as { ip: string }[] | undefined) ?? []).map((p) => p.ip).join(',');
  }
  const subscript = SUBSCRIPT.exec(path);
  if (subscript) {
    const map = subscript[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations;
    return map?.[subscript[2]!] ?? '';
  }
  throw new EnvProblem(`unsupported fieldRef.fieldPath ${JSON.stringify(path)}`);
}

/** Service link variables (pkg/kubelet/envvars FromServices), for Services with a cluster IP. */
export function serviceLinkVars(services: readonly Service[]): [string, string][] {
  const out: [string, string][] = [];
  const withIp = services
    .filter((s) => typeof s.spec.clusterIP === 'string' && s.spec.clusterIP !== '' && s.spec.clusterIP !== 'None')
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  for (const service of withIp) {
    const name = service.metadata.name.toUpperCase().replace(/-/g, '_');
    const ip = service.spec.clusterIP as string;
    const ports = service.spec.ports ?? [];
    const first = ports[0];
    if (!first) continue;
    out.push([`${name}_SERVICE_HOST`, ip], [`${name}_SERVICE_PORT`, String(first.port)]);
    for (const port of ports) if (port.name) out.push([`${name}_SERVICE_PORT_${port.name.toUpperCase().replace(/-/g, '_')}`, String(port.port)]);
    // The Docker link variables.
    const host = ip.includes(':') ? `[${ip}]` : ip;
    const protocol = (p: (typeof ports)[number]): string => (p.protocol ?? 'TCP').toLowerCase();
    out.push([`${name}_PORT`, `${protocol(first)}://${host}:${first.port}`]);
    for (const port of ports) {
      const prefix = `${name}_PORT_${port.port}_${(port.protocol ?? 'TCP').toUpperCase()}`;
      out.push([prefix, `${protocol(port)}://${host}:${port.port}`], [`${prefix}_PROTO`, protocol(port)], [`${prefix}_PORT`, String(port.port)], [`${prefix}_ADDR`, ip]);
    }
  }
  return out;
}

interface EnvVarSpec {
  name?: unknown;
  value?: unknown;
  valueFrom?: { fieldRef?: { fieldPath?: unknown }; configMapKeyRef?: { name?: unknown; key?: unknown; optional?: unknown }; secretKeyRef?: { name?: unknown; key?: unknown; optional?: unknown }; resourceFieldRef?: unknown };
}

/**
 * The variables the kubelet gives this container, in its order: `env` first
 * (expanded, downward API values), then the Service variables it does not set.
 * ConfigMaps and Secrets are not modelled: a reference to one fails the
 * container, as a missing one does in a cluster, unless it is `optional`.
 */
export function containerEnv(pod: Pod, container: Container, services: readonly Service[]): [string, string][] {
  const serviceVars = pod.spec.enableServiceLinks === false ? [] : serviceLinkVars(services);
  const serviceMap = new Map(serviceVars);
  const defined = new Map<string, string>();
  const out: [string, string][] = [];
  const lookup = (name: string): string | undefined => defined.get(name) ?? serviceMap.get(name);
  for (const raw of Array.isArray(container.env) ? (container.env as EnvVarSpec[]) : []) {
    if (typeof raw?.name !== 'string') continue;
    let value: string | undefined;
    if (typeof raw.value === 'string') value = expandVars(raw.value, lookup);
    else if (raw.valueFrom?.fieldRef) value = fieldValue(pod, String(raw.valueFrom.fieldRef.fieldPath ?? ''));
    else if (raw.valueFrom?.configMapKeyRef || raw.valueFrom?.secretKeyRef) {
      const ref = (raw.valueFrom.configMapKeyRef ?? raw.valueFrom.secretKeyRef)!;
      if (ref.optional === true) continue;
      const kind = raw.valueFrom.configMapKeyRef ? 'configmap' : 'secret';
      throw new EnvProblem(`${kind} ${JSON.stringify(String(ref.name ?? ''))} not found (headless-dns does not model ${kind === 'configmap' ? 'ConfigMaps' : 'Secrets'}; set the value with env.value, or mark the reference optional)`);
    } else if (raw.valueFrom?.resourceFieldRef) {
      throw new EnvProblem(`env ${raw.name}: resourceFieldRef is not supported for local processes`);
    } else value = '';
    defined.set(raw.name, value);
    out.push([raw.name, value]);
  }
  for (const [name, value] of serviceVars) if (!defined.has(name)) out.push([name, value]);
  return out;
}

/** A container's argv with `$(VAR)` references expanded against its environment (kubelet ExpandContainerCommandAndArgs). */
export function expandArgv(argv: readonly string[], env: readonly [string, string][]): string[] {
  const map = new Map(env);
  return argv.map((part) => expandVars(part, (name) => map.get(name)));
}

/**
 * The resolver settings a pod's /etc/resolv.conf gets (pkg/kubelet/network/dns
 * GetPodDNS): for ClusterFirst, `search <ns>.svc.<zone> svc.<zone> <zone>`,
 * `options ndots:5`, then `dnsConfig.searches` and `dnsConfig.options` merged in;
 * for None, `dnsConfig` alone; for Default, the node's own (none of ours).
 */
export function podDnsSettings(pod: Pod, zone: string): { searches: string[]; ndots: number } | undefined {
  const policy = typeof pod.spec.dnsPolicy === 'string' ? pod.spec.dnsPolicy : 'ClusterFirst';
  const config = (pod.spec.dnsConfig ?? {}) as { searches?: unknown; options?: { name?: unknown; value?: unknown }[] };
  const z = zone.replace(/\.$/, '');
  const namespace = pod.metadata.namespace ?? 'default';
  let searches: string[];
  let ndots: number;
  if (policy === 'ClusterFirst' || policy === 'ClusterFirstWithHostNet') {
    searches = [`${namespace}.svc.${z}`, `svc.${z}`, z];
    ndots = 5;
  } else if (policy === 'None') {
    searches = [];
    ndots = 1;
  } else return undefined;
  for (const search of Array.isArray(config.searches) ? config.searches : []) if (typeof search === 'string' && !searches.includes(search)) searches.push(search);
  for (const option of Array.isArray(config.options) ? config.options : []) {
    if (option?.name === 'ndots' && typeof option.value === 'string' && /^\d+$/.test(option.value)) ndots = Math.min(15, Number(option.value));
  }
  return searches.length ? { searches, ndots } : undefined;
}

/**
 * The pod's search list in the environment: HEADLESS_DNS_SEARCH/NDOTS for the
 * Node preload, LOCALDOMAIN/RES_OPTIONS for glibc's resolver (which then tries
 * short names as in the pod, wherever the OS sends the zone to headless-dns).
 */
export function podDnsEnv(pod: Pod, zone: string): Record<string, string> {
  const settings = podDnsSettings(pod, zone);
  if (!settings) return {};
  const searches = settings.searches.join(' ');
  return { HEADLESS_DNS_SEARCH: searches, HEADLESS_DNS_NDOTS: String(settings.ndots), LOCALDOMAIN: searches, RES_OPTIONS: `ndots:${settings.ndots}` };
}
