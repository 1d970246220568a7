// Validation and defaulting the way the API server does it for the kinds we
// keep: field by field, every problem collected as a Kubernetes StatusCause,
// defaults filled in only when the object is valid.

import type { FieldCause } from '../errors.js';
import type { PersistentVolume, PersistentVolumeClaim } from './types.js';
import { ipFamily } from './ip.js';
import { cloneJson } from './json.js';
import { dns1123LabelProblem, dns1123SubdomainProblem, ianaSvcNameProblem } from './names.js';
import {
  API_VERSIONS,
  KINDS,
  type Container,
  type Kind,
  type KubeObject,
  type LabelSelector,
  type PersistentVolumeClaimTemplate,
  type PodSpec,
  type Service,
  type StatefulSet,
  isNamespaced,
} from './types.js';

type Json = Record<string, unknown>;

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
/** apimachinery's TotalAnnotationSizeLimitB: keys and values of one object's annotations together. */
export const ANNOTATIONS_MAX_BYTES = 256 * 1024;
const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
const ADDRESS_TYPES = ['IPv4', 'IPv6', 'FQDN'];

export function isKnownKind(kind: unknown): kind is Kind {
  return typeof kind === 'string' && (KINDS as readonly string[]).includes(kind);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What Go decodes to a zero value: an absent field, JSON null, or an empty
 * string. Defaulting fills such fields (Go's `if obj.X == ""`), so validation,
 * which the API server runs after defaulting, lets them through.
 */
function isUnset(value: unknown): value is undefined | null | '' {
  return value === undefined || value === null || value === '';
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Collects causes for one object; `at` helpers keep field paths consistent. */
class Causes {
  readonly list: FieldCause[] = [];

  required(field: string, detail?: string): void {
    this.list.push({ reason: 'FieldValueRequired', field, message: detail ? `Required value: ${detail}` : 'Required value' });
  }

  invalid(field: string, value: unknown, detail: string): void {
    this.list.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${show(value)}: ${detail}` });
  }

  notSupported(field: string, value: unknown, allowed: readonly string[]): void {
    const list = allowed.map((a) => `"${a}"`).join(', ');
    this.list.push({ reason: 'FieldValueNotSupported', field, message: `Unsupported value: ${show(value)}: supported values: ${list}` });
  }

  duplicate(field: string, value: unknown): void {
    this.list.push({ reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${show(value)}` });
  }

  forbidden(field: string, detail: string): void {
    this.list.push({ reason: 'FieldValueForbidden', field, message: `Forbidden: ${detail}` });
  }

  /** A field that must be of a JSON type; reports and returns false when it is not. */
  type(field: string, value: unknown, expected: 'string' | 'number' | 'boolean' | 'object' | 'array'): boolean {
    const ok =
      expected === 'array' ? Array.isArray(value)
      : expected === 'object' ? isObject(value)
      : expected === 'number' ? typeof value === 'number' && Number.isFinite(value)
      : typeof value === expected;
    if (!ok) this.invalid(field, value, `must be of type ${expected === 'number' ? 'integer' : expected}`);
    return ok;
  }

  name(field: string, value: unknown, check: (v: string) => string | undefined): void {
    if (value === undefined || value === '') return this.required(field);
    if (!this.type(field, value, 'string')) return;
    const problem = check(value as string);
    if (problem) this.invalid(field, value, problem);
  }

  /**
   * An int32 field: Kubernetes decodes it into a Go int32, so 1.5, 1e308 or
   * 2^31 never reach validation there. Reports and returns false when it is not one.
   */
  int32(field: string, value: unknown): boolean {
    const ok = Number.isInteger(value) && (value as number) >= INT32_MIN && (value as number) <= INT32_MAX;
    if (!ok) this.invalid(field, value, `must be an integer between ${INT32_MIN} and ${INT32_MAX} (int32)`);
    return ok;
  }

  /** An int32 field that must not be negative (apivalidation.ValidateNonnegativeField). */
  nonNegative(field: string, value: unknown): void {
    if (value === undefined || value === null) return;
    if (this.int32(field, value) && (value as number) < 0) this.invalid(field, value, 'must be greater than or equal to 0');
  }

  /** A string field with a closed set of values; unset ('' or absent) is left to defaulting. */
  oneOf(field: string, value: unknown, allowed: readonly string[]): void {
    if (isUnset(value)) return;
    if (!allowed.includes(value as string)) this.notSupported(field, value, allowed);
  }

  port(field: string, value: unknown, min = 1): void {
    if (value === undefined) return this.required(field);
    if (!Number.isInteger(value) || (value as number) < min || (value as number) > 65535) {
      this.invalid(field, value, `must be between ${min} and 65535, inclusive`);
    }
  }

  protocol(field: string, value: unknown): void {
    if (value !== undefined && !PROTOCOLS.includes(value as string)) this.notSupported(field, value, PROTOCOLS);
  }

  stringMap(field: string, value: unknown): void {
    if (value === undefined) return;
    if (!this.type(field, value, 'object')) return;
    for (const [key, v] of Object.entries(value as Json)) {
      if (typeof v !== 'string') this.invalid(`${field}[${key}]`, v, 'must be of type string');
    }
  }
}

/** Metadata rules shared by every kind; `nameRule` differs per kind as in the API server. */
function checkMetadata(c: Causes, obj: Json, kind: Kind, nameRule: (v: string) => string | undefined): void {
  const meta = obj.metadata;
  if (meta === undefined) return c.required('metadata');
  if (!c.type('metadata', meta, 'object')) return;
  const m = meta as Json;
  c.name('metadata.name', m.name, nameRule);
  if (m.namespace !== undefined && isNamespaced(kind)) c.name('metadata.namespace', m.namespace, dns1123LabelProblem);
  if (m.namespace !== undefined && !isNamespaced(kind)) {
    if (m.namespace !== '') c.forbidden('metadata.namespace', 'not allowed on this type');
  }
  c.stringMap('metadata.labels', m.labels);
  c.stringMap('metadata.annotations', m.annotations);
  if (isObject(m.annotations)) {
    let bytes = 0;
    for (const [key, v] of Object.entries(m.annotations)) bytes += Buffer.byteLength(key) + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
    if (bytes > ANNOTATIONS_MAX_BYTES) c.list.push({ reason: 'FieldValueTooLong', field: 'metadata.annotations', message: `Too long: may not be more than ${ANNOTATIONS_MAX_BYTES} bytes` });
  }
}

function checkIp(c: Causes, field: string, value: unknown): 4 | 6 | undefined {
  if (!c.type(field, value, 'string')) return undefined;
  const family = ipFamily(value as string);
  if (!family) c.invalid(field, value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
  return family;
}

function checkService(c: Causes, obj: Json): void {
  // A DNS-1123 label, so a name may start with a digit ("123-abc"): Kubernetes
  // 1.36 relaxed it from DNS-1035 (RelaxedServiceNameValidation, KEP-5311).
  // DNS serves such names as any other (RFC 1123 §2.1 allows a leading digit).
  checkMetadata(c, obj, 'Service', dns1123LabelProblem);
  const spec = obj.spec;
  if (spec === undefined) return c.required('spec');
  if (!c.type('spec', spec, 'object')) return;
  const s = spec as Json;
  const type = s.type ?? 'ClusterIP';
  if (!SERVICE_TYPES.includes(type as string)) c.notSupported('spec.type', type, SERVICE_TYPES);
  c.stringMap('spec.selector', s.selector);
  if (s.publishNotReadyAddresses !== undefined) c.type('spec.publishNotReadyAddresses', s.publishNotReadyAddresses, 'boolean');
  c.oneOf('spec.sessionAffinity', s.sessionAffinity, ['ClientIP', 'None']);
  c.oneOf('spec.internalTrafficPolicy', s.internalTrafficPolicy, ['Cluster', 'Local']);
  c.oneOf('spec.externalTrafficPolicy', s.externalTrafficPolicy, ['Cluster', 'Local']);

  const clusterIP = s.clusterIP;
  if (clusterIP !== undefined && clusterIP !== '' && clusterIP !== 'None') checkIp(c, 'spec.clusterIP', clusterIP);
  if (s.clusterIPs !== undefined && c.type('spec.clusterIPs', s.clusterIPs, 'array')) {
    const ips = s.clusterIPs as unknown[];
    if (ips.length > 2) c.invalid('spec.clusterIPs', ips, 'may have at most 2 entries (one per IP family)');
    const families = new Set<number>();
    ips.forEach((ip, i) => {
      if (ip === 'None') {
        if (i > 0 || ips.length > 1) c.invalid(`spec.clusterIPs[${i}]`, ip, 'must be the only entry when set to None');
        return;
      }
      const family = checkIp(c, `spec.clusterIPs[${i}]`, ip);
      if (family && families.has(family)) c.invalid(`spec.clusterIPs[${i}]`, ip, 'must be a different IP family than the other entry');
      if (family) families.add(family);
    });
    if (clusterIP !== undefined && clusterIP !== '' && ips.length > 0 && ips[0] !== clusterIP) {
      c.invalid('spec.clusterIPs[0]', ips[0], 'must be the same as spec.clusterIP');
    }
  }

  if (type === 'ExternalName') {
    const name = s.externalName;
    if (name === undefined || name === '') c.required('spec.externalName');
    else if (c.type('spec.externalName', name, 'string')) {
      const trimmed = (name as string).replace(/\.$/, '');
      const problem = dns1123SubdomainProblem(trimmed);
      if (problem) c.invalid('spec.externalName', name, problem);
    }
    if (clusterIP !== undefined && clusterIP !== '') c.forbidden('spec.clusterIP', 'may not be set for ExternalName services');
  }

  const ports = s.ports;
  if (ports === undefined) {
    if (type !== 'ExternalName' && clusterIP !== 'None') c.required('spec.ports');
    return;
  }
  if (!c.type('spec.ports', ports, 'array')) return;
  const list = ports as unknown[];
  if (list.length === 0 && type !== 'ExternalName' && clusterIP !== 'None') c.required('spec.ports');
  const names = new Set<string>();
  const keys = new Set<string>();
  list.forEach((port, i) => {
    const at = `spec.ports[${i}]`;
    if (!c.type(at, port, 'object')) return;
    const p = port as Json;
    if (p.name !== undefined && p.name !== '') {
      c.name(`${at}.name`, p.name, dns1123LabelProblem);
      if (names.has(p.name as string)) c.duplicate(`${at}.name`, p.name);
      names.add(p.name as string);
    } else if (list.length > 1) {
      c.required(`${at}.name`);
    }
    c.port(`${at}.port`, p.port);
    c.protocol(`${at}.protocol`, p.protocol);
    const key = `${String(p.port)}/${String(p.protocol ?? 'TCP')}`;
    if (keys.has(key)) c.duplicate(at, { port: p.port, protocol: p.protocol ?? 'TCP' });
    keys.add(key);
    const target = p.targetPort;
    // 0 and '' are Go's zero IntOrString: defaulting makes them the port.
    if (target === '' || target === 0 || target === null) {
      // nothing to check
    } else if (typeof target === 'string') {
      const problem = /^\d+$/.test(target) ? undefined : ianaSvcNameProblem(target);
      if (problem) c.invalid(`${at}.targetPort`, target, problem);
    } else if (target !== undefined) {
      c.port(`${at}.targetPort`, target);
    }
  });
}

function checkEndpointSlice(c: Causes, obj: Json): void {
  checkMetadata(c, obj, 'EndpointSlice', dns1123SubdomainProblem);
  const addressType = obj.addressType;
  if (addressType === undefined) c.required('addressType');
  else if (!ADDRESS_TYPES.includes(addressType as string)) c.notSupported('addressType', addressType, ADDRESS_TYPES);
  const endpoints = obj.endpoints ?? [];
  if (c.type('endpoints', endpoints, 'array')) {
    (endpoints as unknown[]).forEach((endpoint, i) => {
      const at = `endpoints[${i}]`;
      if (!c.type(at, endpoint, 'object')) return;
      const e = endpoint as Json;
      const addresses = e.addresses;
      if (addresses === undefined) c.required(`${at}.addresses`);
      else if (c.type(`${at}.addresses`, addresses, 'array')) {
        const list = addresses as unknown[];
        if (list.length === 0) c.required(`${at}.addresses`);
        if (list.length > 100) c.invalid(`${at}.addresses`, list.length, 'must have at most 100 items');
        list.forEach((address, j) => {
          const field = `${at}.addresses[${j}]`;
          if (addressType === 'FQDN') {
            if (c.type(field, address, 'string')) {
              const problem = dns1123SubdomainProblem(address as string);
              if (problem) c.invalid(field, address, problem);
            }
            return;
          }
          const family = checkIp(c, field, address);
          const expected = addressType === 'IPv4' ? 4 : addressType === 'IPv6' ? 6 : undefined;
          if (family && expected && family !== expected) c.invalid(field, address, `must be an ${String(addressType)} address`);
        });
      }
      if (e.hostname !== undefined) c.name(`${at}.hostname`, e.hostname, dns1123LabelProblem);
      if (e.conditions !== undefined && c.type(`${at}.conditions`, e.conditions, 'object')) {
        for (const key of ['ready', 'serving', 'terminating']) {
          const value = (e.conditions as Json)[key];
          if (value !== undefined && value !== null) c.type(`${at}.conditions.${key}`, value, 'boolean');
        }
      }
      if (e.targetRef !== undefined) c.type(`${at}.targetRef`, e.targetRef, 'object');
      if (e.nodeName !== undefined) c.type(`${at}.nodeName`, e.nodeName, 'string');
    });
  }
  const ports = obj.ports;
  if (ports !== undefined && c.type('ports', ports, 'array')) {
    const names = new Set<string>();
    (ports as unknown[]).forEach((port, i) => {
      const at = `ports[${i}]`;
      if (!c.type(at, port, 'object')) return;
      const p = port as Json;
      const name = p.name ?? '';
      if (name !== '') c.name(`${at}.name`, name, dns1123LabelProblem);
      if (names.has(name as string)) c.duplicate(`${at}.name`, name);
      names.add(name as string);
      if (p.port !== undefined && p.port !== null) c.port(`${at}.port`, p.port, 0);
      c.protocol(`${at}.protocol`, p.protocol);
    });
  }
}

/** A port a probe or hook names: a number, or a container port's name (IANA_SVC_NAME). */
function checkNamedPort(c: Causes, field: string, value: unknown): void {
  if (typeof value === 'string') {
    const problem = ianaSvcNameProblem(value);
    if (problem) c.invalid(field, value, problem);
  } else {
    c.port(field, value);
  }
}

/** The handler of a probe or lifecycle hook: exactly one kind (core validation validateHandler). */
function checkHandler(c: Causes, at: string, h: Json, kinds: readonly string[]): void {
  const given = kinds.filter((kind) => h[kind] !== undefined && h[kind] !== null);
  if (given.length === 0) c.required(at, 'must specify a handler type');
  else if (given.length > 1) c.forbidden(`${at}.${given[1]}`, 'may not specify more than 1 handler type');
  if (isObject(h.httpGet)) {
    checkNamedPort(c, `${at}.httpGet.port`, h.httpGet.port);
    c.oneOf(`${at}.httpGet.scheme`, h.httpGet.scheme, ['HTTP', 'HTTPS']);
  } else if (h.httpGet !== undefined && h.httpGet !== null) c.type(`${at}.httpGet`, h.httpGet, 'object');
  if (isObject(h.tcpSocket)) checkNamedPort(c, `${at}.tcpSocket.port`, h.tcpSocket.port);
  else if (h.tcpSocket !== undefined && h.tcpSocket !== null) c.type(`${at}.tcpSocket`, h.tcpSocket, 'object');
}

const PROBE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'];
const PROBE_TIMINGS = ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'];

/** core validation validateProbe: one handler, non-negative timings; liveness and startup succeed once. */
function checkProbe(c: Causes, at: string, value: unknown, successOnce: boolean): void {
  if (value === undefined || value === null) return;
  if (!c.type(at, value, 'object')) return;
  const probe = value as Json;
  checkHandler(c, at, probe, PROBE_HANDLERS);
  for (const timing of PROBE_TIMINGS) c.nonNegative(`${at}.${timing}`, probe[timing]);
  if (successOnce && !isUnset(probe.successThreshold) && probe.successThreshold !== 0 && probe.successThreshold !== 1) {
    c.invalid(`${at}.successThreshold`, probe.successThreshold, 'must be 1');
  }
}

function checkContainers(c: Causes, at: string, value: unknown, optional = false): void {
  if (value === undefined || (optional && value === null)) return optional ? undefined : c.required(at);
  if (!c.type(at, value, 'array')) return;
  const list = value as unknown[];
  if (list.length === 0 && !optional) c.required(at);
  const names = new Set<string>();
  list.forEach((container, i) => {
    const field = `${at}[${i}]`;
    if (!c.type(field, container, 'object')) return;
    const k = container as Json;
    c.name(`${field}.name`, k.name, dns1123LabelProblem);
    if (typeof k.name === 'string' && names.has(k.name)) c.duplicate(`${field}.name`, k.name);
    if (typeof k.name === 'string') names.add(k.name);
    if (k.image === undefined || k.image === '') c.required(`${field}.image`);
    if (k.ports !== undefined && c.type(`${field}.ports`, k.ports, 'array')) {
      (k.ports as unknown[]).forEach((port, j) => {
        const pf = `${field}.ports[${j}]`;
        if (!c.type(pf, port, 'object')) return;
        const p = port as Json;
        c.port(`${pf}.containerPort`, p.containerPort);
        c.protocol(`${pf}.protocol`, p.protocol);
        if (p.name !== undefined) c.name(`${pf}.name`, p.name, ianaSvcNameProblem);
      });
    }
    c.oneOf(`${field}.imagePullPolicy`, k.imagePullPolicy, ['Always', 'IfNotPresent', 'Never']);
    c.oneOf(`${field}.terminationMessagePolicy`, k.terminationMessagePolicy, ['File', 'FallbackToLogsOnError']);
    if (k.resources !== undefined && k.resources !== null) c.type(`${field}.resources`, k.resources, 'object');
    checkProbe(c, `${field}.livenessProbe`, k.livenessProbe, true);
    checkProbe(c, `${field}.readinessProbe`, k.readinessProbe, false);
    checkProbe(c, `${field}.startupProbe`, k.startupProbe, true);
    if (isObject(k.lifecycle)) {
      for (const hook of ['postStart', 'preStop']) {
        const handler = k.lifecycle[hook];
        if (handler !== undefined && handler !== null && c.type(`${field}.lifecycle.${hook}`, handler, 'object')) {
          checkHandler(c, `${field}.lifecycle.${hook}`, handler as Json, ['exec', 'httpGet', 'tcpSocket', 'sleep']);
        }
      }
    }
  });
}

function checkPodSpec(c: Causes, at: string, spec: unknown): void {
  if (spec === undefined) return c.required(at);
  if (!c.type(at, spec, 'object')) return;
  const s = spec as Json;
  checkContainers(c, `${at}.containers`, s.containers);
  checkContainers(c, `${at}.initContainers`, s.initContainers, true);
  if (s.hostname !== undefined) c.name(`${at}.hostname`, s.hostname, dns1123LabelProblem);
  if (s.subdomain !== undefined) c.name(`${at}.subdomain`, s.subdomain, dns1123LabelProblem);
  // The fields defaulting fills in, checked as core validation does once they are set.
  c.oneOf(`${at}.restartPolicy`, s.restartPolicy, ['Always', 'OnFailure', 'Never']);
  c.oneOf(`${at}.dnsPolicy`, s.dnsPolicy, ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None']);
  // An int64 in Go; a negative one is accepted (and read as 1 when deleting), as the API server does.
  const grace = s.terminationGracePeriodSeconds;
  if (grace !== undefined && grace !== null && !Number.isSafeInteger(grace)) c.invalid(`${at}.terminationGracePeriodSeconds`, grace, 'must be an integer');
  const deadline = s.activeDeadlineSeconds;
  if (deadline !== undefined && deadline !== null && (!Number.isSafeInteger(deadline) || (deadline as number) < 1 || (deadline as number) > INT32_MAX)) {
    c.invalid(`${at}.activeDeadlineSeconds`, deadline, `must be between 1 and ${INT32_MAX}, inclusive`);
  }
  if (s.schedulerName !== undefined && s.schedulerName !== '' && s.schedulerName !== null) c.type(`${at}.schedulerName`, s.schedulerName, 'string');
  if (s.securityContext !== undefined && s.securityContext !== null) c.type(`${at}.securityContext`, s.securityContext, 'object');
  if (s.enableServiceLinks !== undefined && s.enableServiceLinks !== null) c.type(`${at}.enableServiceLinks`, s.enableServiceLinks, 'boolean');
  if (s.volumes !== undefined && s.volumes !== null && c.type(`${at}.volumes`, s.volumes, 'array')) {
    const names = new Set<string>();
    (s.volumes as unknown[]).forEach((volume, i) => {
      if (!c.type(`${at}.volumes[${i}]`, volume, 'object')) return;
      const name = (volume as Json).name;
      c.name(`${at}.volumes[${i}].name`, name, dns1123LabelProblem);
      if (typeof name === 'string' && names.has(name)) c.duplicate(`${at}.volumes[${i}].name`, name);
      if (typeof name === 'string') names.add(name);
    });
  }
}

function checkPod(c: Causes, obj: Json): void {
  checkMetadata(c, obj, 'Pod', dns1123SubdomainProblem);
  checkPodSpec(c, 'spec', obj.spec);
  const status = obj.status;
  if (status === undefined || !c.type('status', status, 'object')) return;
  const s = status as Json;
  if (s.podIP !== undefined && s.podIP !== '') checkIp(c, 'status.podIP', s.podIP);
  if (s.podIPs !== undefined && c.type('status.podIPs', s.podIPs, 'array')) {
    (s.podIPs as unknown[]).forEach((entry, i) => {
      if (c.type(`status.podIPs[${i}]`, entry, 'object')) checkIp(c, `status.podIPs[${i}].ip`, (entry as Json).ip);
    });
  }
  const phases = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'];
  if (s.phase !== undefined && !phases.includes(s.phase as string)) c.notSupported('status.phase', s.phase, phases);
  if (s.conditions !== undefined && c.type('status.conditions', s.conditions, 'array')) {
    (s.conditions as unknown[]).forEach((condition, i) => {
      const at = `status.conditions[${i}]`;
      if (!c.type(at, condition, 'object')) return;
      const k = condition as Json;
      if (typeof k.type !== 'string' || k.type === '') c.required(`${at}.type`);
      if (!['True', 'False', 'Unknown'].includes(k.status as string)) c.notSupported(`${at}.status`, k.status, ['True', 'False', 'Unknown']);
    });
  }
}

function selectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    if (e.operator === 'In' && !(has && (e.values ?? []).includes(value as string))) return false;
    if (e.operator === 'NotIn' && has && (e.values ?? []).includes(value as string)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

function checkStatefulSet(c: Causes, obj: Json): void {
  checkMetadata(c, obj, 'StatefulSet', dns1123LabelProblem);
  const spec = obj.spec;
  if (spec === undefined) return c.required('spec');
  if (!c.type('spec', spec, 'object')) return;
  const s = spec as Json;
  if (s.replicas !== undefined && c.int32('spec.replicas', s.replicas) && (s.replicas as number) < 0) {
    c.invalid('spec.replicas', s.replicas, 'must be greater than or equal to 0');
  }
  if (s.serviceName !== undefined && s.serviceName !== '') c.name('spec.serviceName', s.serviceName, dns1123LabelProblem);
  if (!isUnset(s.podManagementPolicy) && s.podManagementPolicy !== 'OrderedReady' && s.podManagementPolicy !== 'Parallel') {
    c.invalid('spec.podManagementPolicy', s.podManagementPolicy, "must be 'OrderedReady' or 'Parallel'");
  }
  checkUpdateStrategy(c, s.updateStrategy);
  const retention = s.persistentVolumeClaimRetentionPolicy;
  if (retention !== undefined && retention !== null && c.type('spec.persistentVolumeClaimRetentionPolicy', retention, 'object')) {
    for (const when of ['whenDeleted', 'whenScaled']) {
      c.oneOf(`spec.persistentVolumeClaimRetentionPolicy.${when}`, (retention as Json)[when], ['Retain', 'Delete']);
    }
  }
  c.nonNegative('spec.minReadySeconds', s.minReadySeconds);
  // apps validation leaves revisionHistoryLimit's sign alone (a negative limit
  // keeps no history beyond the live revisions); Go only needs an int32.
  if (s.revisionHistoryLimit !== undefined && s.revisionHistoryLimit !== null) c.int32('spec.revisionHistoryLimit', s.revisionHistoryLimit);
  checkClaimTemplates(c, 'spec.volumeClaimTemplates', s.volumeClaimTemplates);
  if (s.ordinals !== undefined && c.type('spec.ordinals', s.ordinals, 'object')) {
    const start = (s.ordinals as Json).start;
    if (start !== undefined && c.int32('spec.ordinals.start', start) && (start as number) < 0) {
      c.invalid('spec.ordinals.start', start, 'must be greater than or equal to 0');
    }
  }
  let selector: LabelSelector | undefined;
  if (s.selector === undefined) c.required('spec.selector');
  else if (c.type('spec.selector', s.selector, 'object')) {
    selector = s.selector as LabelSelector;
    c.stringMap('spec.selector.matchLabels', selector.matchLabels);
    if (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0) {
      c.invalid('spec.selector', selector, 'empty selector is invalid for statefulset');
    }
  }
  const template = s.template;
  if (template === undefined) return c.required('spec.template');
  if (!c.type('spec.template', template, 'object')) return;
  const t = template as Json;
  const labels = isObject(t.metadata) ? (t.metadata.labels as Record<string, string> | undefined) : undefined;
  if (isObject(t.metadata)) c.stringMap('spec.template.metadata.labels', t.metadata.labels);
  if (selector && !selectorMatches(selector, labels ?? {})) {
    c.invalid('spec.template.metadata.labels', labels ?? {}, '`selector` does not match template `labels`');
  }
  if (isObject(t.metadata)) c.stringMap('spec.template.metadata.annotations', t.metadata.annotations);
  checkPodSpec(c, 'spec.template.spec', t.spec);
  if (isObject(t.spec)) {
    // A member is never meant to finish: apps validation allows only Always, and no deadline.
    const restart = t.spec.restartPolicy;
    if (!isUnset(restart) && restart !== 'Always') c.notSupported('spec.template.spec.restartPolicy', restart, ['Always']);
    if (t.spec.activeDeadlineSeconds !== undefined && t.spec.activeDeadlineSeconds !== null) {
      c.forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in StatefulSet is not Supported');
    }
  }
}

/**
 * apps validation of spec.updateStrategy (ValidateStatefulSetSpec and
 * validateRollingUpdateStatefulSet), on the values defaulting will leave: an
 * empty type becomes RollingUpdate.
 */
function checkUpdateStrategy(c: Causes, value: unknown): void {
  if (value === undefined || value === null) return;
  if (!c.type('spec.updateStrategy', value, 'object')) return;
  const strategy = value as Json;
  const type = isUnset(strategy.type) ? 'RollingUpdate' : strategy.type;
  const rolling = strategy.rollingUpdate;
  const hasRolling = rolling !== undefined && rolling !== null;
  if (type === 'OnDelete') {
    if (hasRolling) c.invalid('spec.updateStrategy.rollingUpdate', rolling, "only allowed for updateStrategy 'RollingUpdate'");
    return;
  }
  if (type !== 'RollingUpdate') {
    c.invalid('spec.updateStrategy', value, "must be 'RollingUpdate' or 'OnDelete'");
    return;
  }
  if (!hasRolling || !c.type('spec.updateStrategy.rollingUpdate', rolling, 'object')) return;
  const r = rolling as Json;
  c.nonNegative('spec.updateStrategy.rollingUpdate.partition', r.partition);
  if (r.maxUnavailable !== undefined && r.maxUnavailable !== null) checkMaxUnavailable(c, 'spec.updateStrategy.rollingUpdate.maxUnavailable', r.maxUnavailable);
}

/**
 * An IntOrString that must be a positive number or a percentage of at most
 * 100% (ValidatePositiveIntOrPercent, "cannot be 0", IsNotMoreThan100Percent).
 * As in Go, a string that is not a percentage is also read as a number, so
 * "abc" is both not a percentage and 0.
 */
function checkMaxUnavailable(c: Causes, field: string, value: unknown): void {
  if (typeof value === 'number') {
    if (!c.int32(field, value)) return;
    if (value < 0) c.invalid(field, value, 'must be greater than or equal to 0');
    if (value === 0) c.invalid(field, value, 'cannot be 0');
    return;
  }
  if (typeof value !== 'string') {
    c.invalid(field, value, "must be an integer or percentage (e.g '5%')");
    return;
  }
  if (!/^[0-9]+%$/.test(value)) {
    c.invalid(field, value, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%')");
    if (!/^[+-]?\d+$/.test(value) || Number(value) === 0) c.invalid(field, value, 'cannot be 0');
    return;
  }
  const percent = Number(value.slice(0, -1));
  if (percent === 0) c.invalid(field, value, 'cannot be 0');
  if (percent > 100) c.invalid(field, value, 'must not be greater than 100%');
}

const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
/** resource.Quantity's grammar (k8s.io/apimachinery/pkg/api/resource). */
const QUANTITY = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?$/;

/**
 * A PersistentVolumeClaim's spec as core validation checks it
 * (ValidatePersistentVolumeClaimSpec): at least one supported access mode and
 * a positive storage request. Shared by claims and a set's claim templates.
 */
function checkClaimSpec(c: Causes, at: string, value: unknown): void {
  if (value === undefined || value === null) return c.required(at);
  if (!c.type(at, value, 'object')) return;
  const spec = value as Json;
  const modes = spec.accessModes;
  if (modes === undefined || modes === null || (Array.isArray(modes) && modes.length === 0)) c.required(`${at}.accessModes`, 'at least 1 access mode is required');
  else if (c.type(`${at}.accessModes`, modes, 'array')) {
    for (const mode of modes as unknown[]) if (!ACCESS_MODES.includes(mode as string)) c.notSupported(`${at}.accessModes`, mode, ACCESS_MODES);
  }
  const requests = isObject(spec.resources) ? spec.resources.requests : undefined;
  if (spec.resources !== undefined && spec.resources !== null) c.type(`${at}.resources`, spec.resources, 'object');
  const storage = isObject(requests) ? requests.storage : undefined;
  if (storage === undefined || storage === null) c.required(`${at}.resources[storage]`);
  else if (typeof storage !== 'number' && (typeof storage !== 'string' || !QUANTITY.test(storage))) {
    c.invalid(`${at}.resources[storage]`, storage, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  } else if (!(typeof storage === 'number' ? storage > 0 : Number.parseFloat(storage.replace(/[^0-9.eE+-].*$/, '')) > 0)) {
    c.invalid(`${at}.resources[storage]`, storage, 'must be greater than zero');
  }
  c.oneOf(`${at}.volumeMode`, spec.volumeMode, ['Block', 'Filesystem']);
  if (!isUnset(spec.storageClassName)) c.name(`${at}.storageClassName`, spec.storageClassName, dns1123SubdomainProblem);
}

/**
 * spec.volumeClaimTemplates. The API server itself accepts any templates and
 * refuses each claim the controller then makes from a bad one (a FailedCreate
 * event per member, and no pod); we refuse the set instead, naming the field
 * the claims would fail on. A template's name is the pod volume's name, so it
 * is a DNS-1123 label as pod volume names are, and unique.
 */
function checkClaimTemplates(c: Causes, at: string, value: unknown): void {
  if (value === undefined || value === null) return;
  if (!c.type(at, value, 'array')) return;
  const names = new Set<string>();
  (value as unknown[]).forEach((template, i) => {
    const field = `${at}[${i}]`;
    if (!c.type(field, template, 'object')) return;
    const t = template as Json;
    if (!isObject(t.metadata)) {
      if (t.metadata === undefined || t.metadata === null) c.required(`${field}.metadata.name`);
      else c.type(`${field}.metadata`, t.metadata, 'object');
    } else {
      const name = t.metadata.name;
      c.name(`${field}.metadata.name`, name, dns1123LabelProblem);
      if (typeof name === 'string' && names.has(name)) c.duplicate(`${field}.metadata.name`, name);
      if (typeof name === 'string') names.add(name);
      c.stringMap(`${field}.metadata.labels`, t.metadata.labels);
      c.stringMap(`${field}.metadata.annotations`, t.metadata.annotations);
    }
    checkClaimSpec(c, `${field}.spec`, t.spec);
  });
}

/** ValidatePersistentVolumeClaim: a DNS-1123 subdomain name and the claim spec; ReadWriteOncePod stands alone. */
function checkPersistentVolumeClaim(c: Causes, obj: Json): void {
  checkMetadata(c, obj, 'PersistentVolumeClaim', dns1123SubdomainProblem);
  checkClaimSpec(c, 'spec', obj.spec);
  const modes = isObject(obj.spec) ? obj.spec.accessModes : undefined;
  if (Array.isArray(modes) && modes.includes('ReadWriteOncePod') && modes.length > 1) c.forbidden('spec.accessModes', 'may not use ReadWriteOncePod with other access modes');
  if (isObject(obj.spec) && !isUnset(obj.spec.volumeName)) c.name('spec.volumeName', obj.spec.volumeName, dns1123SubdomainProblem);
}

/** The volume sources a PersistentVolume may name (core.PersistentVolumeSource): exactly one of them. */
const VOLUME_SOURCES = ['hostPath', 'local', 'nfs', 'csi', 'iscsi', 'fc', 'gcePersistentDisk', 'awsElasticBlockStore', 'azureDisk', 'azureFile', 'cephfs', 'rbd', 'cinder', 'flexVolume', 'flocker', 'glusterfs', 'photonPersistentDisk', 'portworxVolume', 'quobyte', 'scaleIO', 'storageos', 'vsphereVolume'];
const HOST_PATH_TYPES = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];
const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];

/** ValidatePersistentVolume (ValidatePersistentVolumeSpec): access modes, a storage capacity, one volume source, the reclaim policy. */
function checkPersistentVolume(c: Causes, obj: Json): void {
  checkMetadata(c, obj, 'PersistentVolume', dns1123SubdomainProblem);
  if (obj.spec === undefined || obj.spec === null) return c.required('spec');
  if (!c.type('spec', obj.spec, 'object')) return;
  const s = obj.spec as Json;
  const modes = s.accessModes;
  if (isUnset(modes) || (Array.isArray(modes) && modes.length === 0)) c.required('spec.accessModes', 'at least 1 access mode is required');
  else if (c.type('spec.accessModes', modes, 'array')) {
    for (const mode of modes as unknown[]) if (!ACCESS_MODES.includes(mode as string)) c.notSupported('spec.accessModes', mode, ACCESS_MODES);
  }
  const capacity = s.capacity;
  if (isUnset(capacity) || (isObject(capacity) && Object.keys(capacity).length === 0)) c.required('spec.capacity');
  if (isObject(capacity)) {
    if (!('storage' in capacity) || Object.keys(capacity).length > 1) c.notSupported('spec.capacity', capacity, ['storage']);
    for (const [name, quantity] of Object.entries(capacity)) {
      const field = `spec.capacity[${name}]`;
      if (typeof quantity !== 'string' && typeof quantity !== 'number') c.invalid(field, quantity, 'must be a valid resource quantity');
      else if (typeof quantity === 'string' && !QUANTITY.test(quantity)) c.invalid(field, quantity, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
      else if (!(Number.parseFloat(String(quantity)) > 0)) c.invalid(field, quantity, 'must be greater than zero');
    }
  } else if (!isUnset(capacity)) c.type('spec.capacity', capacity, 'object');
  c.oneOf('spec.persistentVolumeReclaimPolicy', s.persistentVolumeReclaimPolicy, RECLAIM_POLICIES);
  const sources = VOLUME_SOURCES.filter((source) => !isUnset(s[source]));
  if (sources.length === 0) c.required('spec', 'must specify a volume type');
  for (const extra of sources.slice(1)) c.forbidden(`spec.${extra}`, 'may not specify more than 1 volume type');
  if (!isUnset(s.hostPath) && c.type('spec.hostPath', s.hostPath, 'object')) {
    const hostPath = s.hostPath as Json;
    if (isUnset(hostPath.path)) c.required('spec.hostPath.path');
    else c.type('spec.hostPath.path', hostPath.path, 'string');
    if (hostPath.type !== undefined && hostPath.type !== null) c.oneOf('spec.hostPath.type', hostPath.type, HOST_PATH_TYPES);
  }
  c.oneOf('spec.volumeMode', s.volumeMode, ['Block', 'Filesystem']);
  if (!isUnset(s.storageClassName)) c.name('spec.storageClassName', s.storageClassName, dns1123SubdomainProblem);
  if (!isUnset(s.claimRef)) c.type('spec.claimRef', s.claimRef, 'object');
}

function checkNamespace(c: Causes, obj: Json): void {
  checkMetadata(c, obj, 'Namespace', dns1123LabelProblem);
}

function checkLease(c: Causes, obj: Json): void {
  checkMetadata(c, obj, 'Lease', dns1123SubdomainProblem);
  const spec = obj.spec;
  if (spec === undefined || !c.type('spec', spec, 'object')) return;
  const s = spec as Json;
  if (s.holderIdentity !== undefined) c.type('spec.holderIdentity', s.holderIdentity, 'string');
  if (s.leaseDurationSeconds !== undefined && c.int32('spec.leaseDurationSeconds', s.leaseDurationSeconds) && (s.leaseDurationSeconds as number) <= 0) {
    c.invalid('spec.leaseDurationSeconds', s.leaseDurationSeconds, 'must be greater than 0');
  }
  for (const field of ['acquireTime', 'renewTime']) {
    const value = s[field];
    if (value !== undefined && (typeof value !== 'string' || Number.isNaN(Date.parse(value)))) c.invalid(`spec.${field}`, value, 'must be an RFC 3339 time');
  }
}

/** The kinds of the StatefulSet lifecycle: metadata and the shape of their top-level fields. */
function checkControllerRevision(c: Causes, obj: Json): void {
  checkMetadata(c, obj, 'ControllerRevision', dns1123SubdomainProblem);
  if (obj.revision === undefined) c.required('revision');
  else if (c.int32('revision', obj.revision) && (obj.revision as number) < 0) c.invalid('revision', obj.revision, 'must be greater than or equal to 0');
}

function checkSpecObject(kind: Kind, required: boolean): (c: Causes, obj: Json) => void {
  return (c, obj) => {
    checkMetadata(c, obj, kind, dns1123SubdomainProblem);
    if (obj.spec === undefined) {
      if (required) c.required('spec');
      return;
    }
    c.type('spec', obj.spec, 'object');
  };
}

function checkEvent(c: Causes, obj: Json): void {
  checkMetadata(c, obj, 'Event', dns1123SubdomainProblem);
  if (obj.involvedObject === undefined) c.required('involvedObject');
  else c.type('involvedObject', obj.involvedObject, 'object');
  if (obj.count !== undefined) c.int32('count', obj.count);
}

const CHECKS: Record<Kind, (c: Causes, obj: Json) => void> = {
  Namespace: checkNamespace,
  Service: checkService,
  EndpointSlice: checkEndpointSlice,
  Pod: checkPod,
  StatefulSet: checkStatefulSet,
  Lease: checkLease,
  ControllerRevision: checkControllerRevision,
  PersistentVolumeClaim: checkPersistentVolumeClaim,
  PersistentVolume: checkPersistentVolume,
  Node: checkSpecObject('Node', false),
  Event: checkEvent,
};

/**
 * Validates one object of a known kind. Returns the causes (empty when valid);
 * when valid, `object` is a defaulted deep copy that the store may keep.
 */
export function validateObject(raw: unknown): { object?: KubeObject; causes: FieldCause[] } {
  const c = new Causes();
  if (!isObject(raw)) {
    c.invalid('', raw, 'must be an object');
    return { causes: c.list };
  }
  const kind = raw.kind;
  if (!isKnownKind(kind)) {
    if (kind === undefined || kind === '') c.required('kind');
    else c.notSupported('kind', kind, KINDS);
    return { causes: c.list };
  }
  if (raw.apiVersion !== API_VERSIONS[kind]) {
    if (raw.apiVersion === undefined) c.required('apiVersion');
    else c.notSupported('apiVersion', raw.apiVersion, [API_VERSIONS[kind]]);
  }
  CHECKS[kind](c, raw);
  if (c.list.length > 0) return { causes: c.list };
  return { object: applyDefaults(cloneJson(raw) as unknown as KubeObject), causes: [] };
}

/** The defaults the API server fills in, so stored objects look like a cluster's. */
function applyDefaults(obj: KubeObject): KubeObject {
  if (isNamespaced(obj.kind) && !obj.metadata.namespace) obj.metadata.namespace = 'default';
  if (obj.kind === 'Namespace') delete obj.metadata.namespace;
  switch (obj.kind) {
    case 'Service':
      defaultService(obj);
      break;
    case 'EndpointSlice':
      obj.endpoints ??= [];
      for (const port of obj.ports ?? []) port.protocol ??= 'TCP';
      break;
    case 'Pod':
      defaultPod(obj.spec);
      break;
    case 'StatefulSet':
      defaultStatefulSet(obj);
      break;
    case 'PersistentVolumeClaim':
    case 'PersistentVolume':
      defaultStorage(obj);
      break;
    default:
      break;
  }
  return obj;
}

/**
 * core/v1 SetDefaults_Service and SetDefaults_ServicePort. The cluster IP
 * fields (clusterIP(s), ipFamilies, ipFamilyPolicy) are the allocator's, in the store.
 */
function defaultService(obj: Service): void {
  const spec = obj.spec;
  if (isUnset(spec.sessionAffinity)) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && typeof spec.sessionAffinityConfig?.clientIP?.timeoutSeconds !== 'number') {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  if (isUnset(spec.type)) spec.type = 'ClusterIP';
  for (const port of spec.ports ?? []) {
    if (isUnset(port.protocol)) port.protocol = 'TCP';
    // Every type, ExternalName included, as SetDefaults_Service does.
    if (isUnset(port.targetPort) || port.targetPort === 0) port.targetPort = port.port;
  }
  const external = spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && (spec.externalIPs?.length ?? 0) > 0);
  if (external && isUnset(spec.externalTrafficPolicy)) spec.externalTrafficPolicy = 'Cluster';
  if (isUnset(spec.internalTrafficPolicy) && spec.type !== 'ExternalName') spec.internalTrafficPolicy = 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
  if (spec.clusterIP === 'None' && !spec.clusterIPs?.length) spec.clusterIPs = ['None'];
}

/**
 * The tag parsers.ParseImageName finds: the default "latest" when the
 * reference has neither tag nor digest, '' when it has a digest only or is not
 * a reference at all (Go then ignores the parse error).
 */
const IMAGE_REFERENCE =
  /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::([\w][\w.-]{0,127}))?(@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,})?$/;

export function imageTag(image: string): string {
  const match = IMAGE_REFERENCE.exec(image);
  if (!match) return '';
  const [, tag, digest] = match;
  return tag ?? (digest ? '' : 'latest');
}

/** core/v1 SetDefaults_Container: pull policy from the tag, termination message, resources `{}`. */
function defaultContainer(container: Container): void {
  if (isUnset(container.imagePullPolicy)) container.imagePullPolicy = imageTag(container.image ?? '') === 'latest' ? 'Always' : 'IfNotPresent';
  if (isUnset(container.terminationMessagePath)) container.terminationMessagePath = '/dev/termination-log';
  if (isUnset(container.terminationMessagePolicy)) container.terminationMessagePolicy = 'File';
  // A struct, not a pointer, in Go: always serialised, `{}` when empty.
  if (!isObject(container.resources)) container.resources = {};
  for (const port of container.ports ?? []) if (isUnset(port.protocol)) port.protocol = 'TCP';
  for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
    if (!isObject(probe)) continue;
    // SetDefaults_Probe: a zero is unset (these are plain int32s in Go).
    if (!probe.timeoutSeconds) probe.timeoutSeconds = 1;
    if (!probe.periodSeconds) probe.periodSeconds = 10;
    if (!probe.successThreshold) probe.successThreshold = 1;
    if (!probe.failureThreshold) probe.failureThreshold = 3;
    defaultHttpGet(probe.httpGet);
  }
  const lifecycle = container.lifecycle;
  if (isObject(lifecycle)) for (const hook of [lifecycle.postStart, lifecycle.preStop]) if (isObject(hook)) defaultHttpGet(hook.httpGet);
  for (const env of Array.isArray(container.env) ? (container.env as unknown[]) : []) {
    const fieldRef = isObject(env) && isObject(env.valueFrom) ? env.valueFrom.fieldRef : undefined;
    if (isObject(fieldRef) && isUnset(fieldRef.apiVersion)) fieldRef.apiVersion = 'v1';
  }
}

/** SetDefaults_HTTPGetAction. */
function defaultHttpGet(action: unknown): void {
  if (!isObject(action)) return;
  if (isUnset(action.path)) action.path = '/';
  if (isUnset(action.scheme)) action.scheme = 'HTTP';
}

/** Volume sources: SetDefaults_Volume (emptyDir when none) and the sources' default modes. */
function defaultVolume(volume: Json): void {
  if (Object.keys(volume).every((key) => key === 'name')) volume.emptyDir = {};
  for (const source of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    const s = volume[source];
    if (isObject(s) && s.defaultMode === undefined) s.defaultMode = 420; // 0644
  }
  if (isObject(volume.hostPath) && volume.hostPath.type === undefined) volume.hostPath.type = '';
}

/**
 * core/v1 SetDefaults_PodSpec and the defaults of what it holds; used for
 * Pods and for pod templates alike. Pod-only defaults are in defaultPod.
 */
function defaultPodSpec(spec: PodSpec): void {
  if (isUnset(spec.dnsPolicy)) spec.dnsPolicy = 'ClusterFirst';
  if (isUnset(spec.restartPolicy)) spec.restartPolicy = 'Always';
  if (!isObject(spec.securityContext)) spec.securityContext = {};
  if (spec.terminationGracePeriodSeconds === undefined || spec.terminationGracePeriodSeconds === null) spec.terminationGracePeriodSeconds = 30;
  if (isUnset(spec.schedulerName)) spec.schedulerName = 'default-scheduler';
  for (const container of spec.containers) defaultContainer(container);
  for (const container of spec.initContainers ?? []) defaultContainer(container);
  for (const volume of spec.volumes ?? []) defaultVolume(volume);
}

/**
 * SetDefaults_Pod on top of the pod spec's: service links on, and requests
 * taken from limits where a container names only limits. Templates do not get
 * these (Kubernetes keeps them out of objects that merely hold a pod spec).
 */
export function defaultPod(spec: PodSpec): PodSpec {
  defaultPodSpec(spec);
  if (Array.isArray(spec.ephemeralContainers)) for (const c of spec.ephemeralContainers as Container[]) if (isObject(c)) defaultContainer(c);
  for (const container of [...spec.containers, ...(spec.initContainers ?? [])]) {
    const limits = container.resources?.limits;
    if (!isObject(limits) || !container.resources) continue;
    container.resources.requests = { ...limits, ...(container.resources.requests ?? {}) };
  }
  if (spec.enableServiceLinks === undefined || spec.enableServiceLinks === null) spec.enableServiceLinks = true;
  return spec;
}

/** A claim template: what the apps/v1 conversion and the PVC defaults leave in the set. */
function defaultClaimTemplate(template: PersistentVolumeClaimTemplate): void {
  template.apiVersion = 'v1';
  template.kind = 'PersistentVolumeClaim';
  // Go's metav1.Time zero value, which 1.32 serialises as null inside templates.
  if (template.metadata.creationTimestamp === undefined) template.metadata.creationTimestamp = null;
  if (isUnset(template.spec.volumeMode)) template.spec.volumeMode = 'Filesystem';
  template.status = { ...(template.status ?? {}) };
  if (isUnset(template.status.phase)) template.status.phase = 'Pending';
}

/** core/v1 SetDefaults_PersistentVolumeClaim(Spec) and SetDefaults_PersistentVolume (status.phase Pending, which the PV controller moves on). */
function defaultStorage(obj: PersistentVolumeClaim | PersistentVolume): void {
  if (isUnset(obj.spec.volumeMode)) obj.spec.volumeMode = 'Filesystem';
  if (obj.kind === 'PersistentVolume') {
    if (isUnset(obj.spec.persistentVolumeReclaimPolicy)) obj.spec.persistentVolumeReclaimPolicy = 'Retain';
    if (obj.spec.hostPath && obj.spec.hostPath.type === undefined) obj.spec.hostPath.type = '';
  }
  obj.status = { ...(obj.status ?? {}) };
  if (isUnset(obj.status.phase)) obj.status.phase = 'Pending';
}

/**
 * ValidatePersistentVolumeClaimUpdate: a claim's spec is immutable, but for
 * what binding fills in once (volumeName, a class left unset, the volume mode
 * default) and the storage request (expansion).
 */
function validateClaimUpdate(next: PersistentVolumeClaim, old: PersistentVolumeClaim): FieldCause[] {
  const comparable = (spec: PersistentVolumeClaim['spec'], before: PersistentVolumeClaim['spec']): Json => {
    const { resources, volumeAttributesClassName, ...rest } = spec as Json;
    void resources;
    void volumeAttributesClassName;
    if (isUnset(before.volumeName)) delete rest.volumeName;
    if (before.storageClassName === undefined || before.storageClassName === null) delete rest.storageClassName;
    if (isUnset(before.volumeMode)) delete rest.volumeMode;
    return rest;
  };
  if (next.spec === old.spec || semanticEqual(comparable(next.spec, old.spec), comparable(old.spec, old.spec))) return [];
  return [{ reason: 'FieldValueForbidden', field: 'spec', message: 'Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims' }];
}

/** apps/v1 SetDefaults_StatefulSet, and the pod defaults for its template. */
function defaultStatefulSet(obj: StatefulSet): void {
  const spec = obj.spec;
  if (isUnset(spec.podManagementPolicy)) spec.podManagementPolicy = 'OrderedReady';
  const strategy = (spec.updateStrategy ??= {});
  if (isUnset(strategy.type)) {
    strategy.type = 'RollingUpdate';
    strategy.rollingUpdate ??= {};
  }
  // Only a rollingUpdate that is there gets its partition: {type: RollingUpdate} alone stays as it is.
  if (strategy.type === 'RollingUpdate' && isObject(strategy.rollingUpdate) && (strategy.rollingUpdate.partition ?? null) === null) {
    strategy.rollingUpdate.partition = 0;
  }
  const retention = (spec.persistentVolumeClaimRetentionPolicy ??= {});
  if (isUnset(retention.whenDeleted)) retention.whenDeleted = 'Retain';
  if (isUnset(retention.whenScaled)) retention.whenScaled = 'Retain';
  if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
  if (spec.revisionHistoryLimit === undefined || spec.revisionHistoryLimit === null) spec.revisionHistoryLimit = 10;
  // minReadySeconds is a plain int32: 0 is omitted from the object, never written.
  const template = spec.template;
  template.metadata ??= {};
  if (template.metadata.creationTimestamp === undefined) template.metadata.creationTimestamp = null;
  defaultPodSpec(template.spec);
  for (const claim of spec.volumeClaimTemplates ?? []) defaultClaimTemplate(claim);
}

/** The spec fields of a StatefulSet an update may change (apps ValidateStatefulSetUpdate). */
const MUTABLE_STATEFULSET_SPEC = new Set(['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds']);

/**
 * Go's apiequality.Semantic.DeepEqual on decoded JSON: a nil and an empty
 * slice or map are equal, and so are an absent field and its zero value ('').
 */
function semanticEqual(a: unknown, b: unknown): boolean {
  const empty = (v: unknown): boolean => v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);
  if (empty(a) && empty(b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => semanticEqual(v, b[i]));
  if (isObject(a) && isObject(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) if (!semanticEqual(a[key], b[key])) return false;
    return true;
  }
  return a === b;
}

/** The part of a set's spec no update may change, with the defaults an older stored set may lack. */
function immutableSpecOf(set: StatefulSet): Json {
  const rest: Json = {};
  for (const [key, value] of Object.entries(set.spec)) if (!MUTABLE_STATEFULSET_SPEC.has(key)) rest[key] = value;
  if (isUnset(rest.podManagementPolicy)) rest.podManagementPolicy = 'OrderedReady';
  if (rest.revisionHistoryLimit === undefined || rest.revisionHistoryLimit === null) rest.revisionHistoryLimit = 10;
  if (Array.isArray(rest.volumeClaimTemplates)) {
    rest.volumeClaimTemplates = rest.volumeClaimTemplates.map((claim) => {
      const copy = cloneJson(claim) as PersistentVolumeClaimTemplate;
      if (isObject(copy) && isObject(copy.metadata) && isObject(copy.spec)) defaultClaimTemplate(copy);
      return copy;
    });
  }
  return rest;
}

/**
 * Checks an update against the stored object, as the API server's
 * ValidateXUpdate functions do; the new object is already valid. Returns the
 * causes, empty when the update may go ahead.
 */
export function validateUpdate(next: KubeObject, old: KubeObject): FieldCause[] {
  if (next.kind === 'PersistentVolumeClaim' && old.kind === 'PersistentVolumeClaim') return validateClaimUpdate(next, old);
  if (next.kind !== 'StatefulSet' || old.kind !== 'StatefulSet' || next.spec === old.spec) return [];
  if (semanticEqual(immutableSpecOf(next), immutableSpecOf(old))) return [];
  return [
    {
      reason: 'FieldValueForbidden',
      field: 'spec',
      message:
        "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    },
  ];
}
