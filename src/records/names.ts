import { formatIPv6, ipv6ToBytes, isDottedQuad } from '../model/ip.js';

// The query-name grammar of CoreDNS's kubernetes plugin (plugin/kubernetes/parse.go),
// as a pure function from labels to a request. Names are lower case here.

/** What CoreDNS calls a recordRequest: the labels below the zone, read right to left. */
export interface RecordRequest {
  /** `svc`, `pod`, or '' for the apex and the bare `svc`/`pod` labels (empty non-terminals). */
  podOrSvc: '' | 'svc' | 'pod';
  namespace: string;
  service: string;
  endpoint: string;
  port: string;
  protocol: string;
}

/** Splits a fully qualified name into labels (no empty root label). */
export function labelsOf(name: string): string[] {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  return trimmed === '' ? [] : trimmed.split('.');
}

export function fqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

/** True when `name` is `zone` or below it (both fully qualified, compared case-insensitively). */
export function isSubdomain(zone: string, name: string): boolean {
  const n = name.toLowerCase();
  const z = zone.toLowerCase();
  return z === '.' || n === z || n.endsWith(`.${z}`);
}

/**
 * The longest zone containing the name, as CoreDNS's plugin.Zones.Matches
 * picks it. Both are lower case here (answer() asks with the question
 * lower-cased), so this is a suffix test that builds no strings: it runs for
 * every answer prepared.
 */
export function matchZone(zones: readonly string[], name: string): string | undefined {
  let best: string | undefined;
  for (const zone of zones) {
    const inside =
      zone === '.' ||
      name === zone ||
      (name.length > zone.length && name.charCodeAt(name.length - zone.length - 1) === 0x2e && name.endsWith(zone));
    if (inside && (!best || zone.length > best.length)) best = zone;
  }
  return best;
}

/** CoreDNS strips exactly one leading underscore from port and protocol labels. */
function stripUnderscore(label: string): string {
  return label.startsWith('_') ? label.slice(1) : label;
}

/**
 * parseRequest: returns the request, or undefined for names that are not
 * Kubernetes names at all (CoreDNS's errInvalidRequest: NXDOMAIN).
 */
export function parseRequest(name: string, zone: string): Readonly<RecordRequest> | undefined {
  // Preparing a name's answers asks about the same name once per record type.
  if (name === lastParsed.name && zone === lastParsed.zone) return lastParsed.request;
  const request = parseFresh(name, zone);
  lastParsed.name = name;
  lastParsed.zone = zone;
  lastParsed.request = request;
  return request;
}

const lastParsed: { name?: string; zone?: string; request: Readonly<RecordRequest> | undefined } = { request: undefined };

function parseFresh(name: string, zone: string): RecordRequest | undefined {
  const request: RecordRequest = { podOrSvc: '', namespace: '', service: '', endpoint: '', port: '', protocol: '' };
  // The labels below the zone: the name minus ".<zone>" (the caller matched the zone already).
  const below = zone === '.' ? name.slice(0, -1) : name.length > zone.length ? name.slice(0, name.length - zone.length - 1) : '';
  if (below === '') return request;
  const segs = below.split('.');
  const base = below;
  if (base === 'svc' || base === 'pod') return request;
  let last = segs.length - 1;
  const kind = segs[last];
  if (kind !== 'svc' && kind !== 'pod') return undefined;
  request.podOrSvc = kind;
  if (--last < 0) return request;
  request.namespace = segs[last]!;
  if (--last < 0) return request;
  request.service = segs[last]!;
  if (--last < 0) return request;
  if (last === 0) {
    request.endpoint = segs[0]!;
  } else if (last === 1) {
    request.protocol = stripUnderscore(segs[1]!);
    request.port = stripUnderscore(segs[0]!);
  } else {
    return undefined;
  }
  return request;
}

/** CoreDNS's match(): an empty request label matches anything; otherwise case-insensitive equality. */
export function matchLabel(requested: string, actual: string): boolean {
  return requested === '' || requested.toLowerCase() === actual.toLowerCase();
}

const IPV4_ARPA = '.in-addr.arpa.';
const IPV6_ARPA = '.ip6.arpa.';

export function isReverseName(name: string): boolean {
  return name.endsWith(IPV4_ARPA) || name.endsWith(IPV6_ARPA) || name === 'in-addr.arpa.' || name === 'ip6.arpa.';
}

/**
 * The address a reverse name stands for, in canonical text, or undefined when it
 * is not a whole address (dnsutil.ExtractAddressFromReverse): four decimal
 * labels under in-addr.arpa, or 32 nibbles under ip6.arpa.
 */
export function addressFromReverse(name: string): string | undefined {
  if (name.endsWith(IPV4_ARPA)) {
    const address = name.slice(0, -IPV4_ARPA.length).split('.').reverse().join('.');
    return isDottedQuad(address) ? address : undefined;
  }
  if (name.endsWith(IPV6_ARPA)) {
    const nibbles = name.slice(0, -IPV6_ARPA.length).split('.').reverse();
    if (nibbles.length !== 32 || !nibbles.every((n) => /^[0-9a-f]$/.test(n))) return undefined;
    const bytes = Buffer.from(nibbles.join(''), 'hex');
    return formatIPv6(bytes);
  }
  return undefined;
}

/** The reverse name of an address: 10.1.0.10 → 10.0.1.10.in-addr.arpa. */
export function reverseName(address: string): string {
  if (!address.includes(':')) {
    const a = address.indexOf('.');
    const b = address.indexOf('.', a + 1);
    const c = address.indexOf('.', b + 1);
    return `${address.slice(c + 1)}.${address.slice(b + 1, c)}.${address.slice(a + 1, b)}.${address.slice(0, a)}.in-addr.arpa.`;
  }
  return `${ipv6ToBytes(address).toString('hex').split('').reverse().join('.')}.ip6.arpa.`;
}
