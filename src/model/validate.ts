// Validation and defaulting the way the API server does it for the kinds we
// keep: field by field, every problem collected as a Kubernetes StatusCause,
// defaults filled in only when the object is valid.

import type { FieldCause } from '../errors.js';
import { ipFamily } from './ip.js';
import { cloneJson } from './json.js';
import { dns1035LabelProblem, dns1123LabelProblem, dns1123SubdomainProblem, ianaSvcNameProblem } from './names.js';
import {
  API_VERSIONS,
  KINDS,
  type Kind,
  type KubeObject,
  type LabelSelector,
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

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Collects causes for one object; `at` helpers keep field paths consistent. */
class Causes {
  readonly list: FieldCause[] = [];

  required(field: string): void {
    this.list.push({ reason: 'FieldValueRequired', field, message: 'Required value' });
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
  checkMetadata(c, obj, 'Service', dns1035LabelProblem);
  const spec = obj.spec;
  if (spec === undefined) return c.required('spec');
  if (!c.type('spec', spec, 'object')) return;
  const s = spec as Json;
  const type = s.type ?? 'ClusterIP';
  if (!SERVICE_TYPES.includes(type as string)) c.notSupported('spec.type', type, SERVICE_TYPES);
  c.stringMap('spec.selector', s.selector);
  if (s.publishNotReadyAddresses !== undefined) c.type('spec.publishNotReadyAddresses', s.publishNotReadyAddresses, 'boolean');

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
    if (typeof target === 'string') {
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

function checkContainers(c: Causes, at: string, value: unknown): void {
  if (value === undefined) return c.required(at);
  if (!c.type(at, value, 'array')) return;
  const list = value as unknown[];
  if (list.length === 0) c.required(at);
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
  });
}

function checkPodSpec(c: Causes, at: string, spec: unknown): void {
  if (spec === undefined) return c.required(at);
  if (!c.type(at, spec, 'object')) return;
  const s = spec as Json;
  checkContainers(c, `${at}.containers`, s.containers);
  if (s.hostname !== undefined) c.name(`${at}.hostname`, s.hostname, dns1123LabelProblem);
  if (s.subdomain !== undefined) c.name(`${at}.subdomain`, s.subdomain, dns1123LabelProblem);
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
  const policies = ['OrderedReady', 'Parallel'];
  if (s.podManagementPolicy !== undefined && !policies.includes(s.podManagementPolicy as string)) {
    c.notSupported('spec.podManagementPolicy', s.podManagementPolicy, policies);
  }
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
  checkPodSpec(c, 'spec.template.spec', t.spec);
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
  PersistentVolumeClaim: checkSpecObject('PersistentVolumeClaim', true),
  PersistentVolume: checkSpecObject('PersistentVolume', true),
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
    case 'Service': {
      obj.spec.type ??= 'ClusterIP';
      for (const port of obj.spec.ports ?? []) {
        port.protocol ??= 'TCP';
        if (obj.spec.type !== 'ExternalName') port.targetPort ??= port.port;
      }
      if (obj.spec.clusterIP === 'None' && !obj.spec.clusterIPs?.length) obj.spec.clusterIPs = ['None'];
      break;
    }
    case 'EndpointSlice':
      obj.endpoints ??= [];
      for (const port of obj.ports ?? []) port.protocol ??= 'TCP';
      break;
    case 'Pod':
      for (const container of obj.spec.containers) for (const port of container.ports ?? []) port.protocol ??= 'TCP';
      break;
    case 'StatefulSet':
      obj.spec.replicas ??= 1;
      obj.spec.podManagementPolicy ??= 'OrderedReady';
      for (const container of obj.spec.template.spec.containers) for (const port of container.ports ?? []) port.protocol ??= 'TCP';
      break;
    default:
      break;
  }
  return obj;
}
