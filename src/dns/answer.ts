// The one place rcodes are decided: a question and a RecordSource in, a reply
// out. A port of CoreDNS's kubernetes handler (handler.go ServeDNS), its
// Services/Records (kubernetes.go) and the builders of plugin/backend_lookup.go.
// Pure: no sockets, no clock, no store.

import {
  DNS_SCHEMA_VERSION,
  DNS_VERSION_TTL,
  type Entry,
  addressRecords,
  findPodEntries,
  findServiceEntries,
  isExternalHost,
  soaRecord,
  srvRecords,
} from '../records/build.js';
import type { RecordSource } from '../records/index.js';
import { addressFromReverse, fqdn, isReverseName, isSubdomain, labelsOf, matchZone, parseRequest } from '../records/names.js';
import type { RR } from '../records/rr.js';
import { QTYPE, RCODE } from './constants.js';

export interface Question {
  /** Lower case, fully qualified. */
  name: string;
  type: number;
}

export interface Reply {
  kind: 'reply';
  rcode: typeof RCODE.NOERROR | typeof RCODE.NXDOMAIN;
  /** The zone that answered (lower case); the SOA of negative replies is this zone's. */
  zone: string;
  answer: RR[];
  authority: RR[];
  additional: RR[];
  /** An ExternalName outside the zone: an upstream's records for this name and type follow the CNAMEs. */
  chase?: { name: string; type: number };
  /** NXDOMAIN in a reverse zone, which kubeadm's Corefile hands to the upstream (fallthrough). */
  fallthrough?: boolean;
}

export type Answer =
  | Reply
  /** Not in any zone we own: REFUSED, or forwarded when an upstream is configured. */
  | { kind: 'outOfZone' }
  /** Zone transfers: REFUSED (CoreDNS needs the transfer plugin for them). */
  | { kind: 'refused' };

const NX = Symbol('nxdomain');
type Found = Entry[] | typeof NX;

/** Records(): the entries for a name below a zone, or NX. */
function records(name: string, zone: string, source: RecordSource): Found {
  const request = parseRequest(name, zone);
  if (!request) return NX;
  if (request.podOrSvc === '') return [];
  if (isReverseName(name)) return NX;
  if (!source.namespaceExists(request.namespace)) return NX;
  if (request.podOrSvc === 'pod') {
    return findPodEntries(request, zone, source.config.pods, (ns, ip) => source.podIpExists(ns, ip)) ?? NX;
  }
  if (request.service === '') return [];
  const view = source.service(request.namespace, request.service);
  if (!view) return NX;
  return findServiceEntries(view, request, zone, source.config) ?? NX;
}

function nsEntries(zone: string, source: RecordSource): Entry[] {
  return source.config.nsAddresses.map((host) => ({ host, port: -1, target: `ns.dns.${zone}` }));
}

/** Services(): Records plus the TXT, NS and ns.dns.<zone> special cases, and SRV's ExternalName filter. */
function services(name: string, type: number, zone: string, source: RecordSource): Found {
  if (type === QTYPE.TXT) {
    const below = labelsOf(name).slice(0, labelsOf(name).length - labelsOf(zone).length);
    if (below.length === 1 && below[0] === 'dns-version') return [{ host: '', port: -1, target: name }];
    const found = records(name, zone, source);
    // A name with records of another type answers TXT with NODATA, otherwise NXDOMAIN.
    return found !== NX && found.length > 0 ? [] : NX;
  }
  if (type === QTYPE.NS) return nsEntries(zone, source);
  if (name === `ns.dns.${zone}`) return nsEntries(zone, source);
  const found = records(name, zone, source);
  if (type !== QTYPE.SRV || found === NX) return found;
  return found.filter((entry) => !isExternalHost(entry.host));
}

interface AddressResult {
  records: RR[];
  chase?: { name: string; type: number };
}

/** plugin.A / plugin.AAAA, including the ExternalName CNAME chain (at most 8 links, no loops). */
function addresses(name: string, type: number, zone: string, source: RecordSource, previous: readonly RR[]): AddressResult | typeof NX {
  const found = services(name, type, zone, source);
  if (found === NX) return NX;
  const family = type === QTYPE.A ? 4 : 6;
  const ttl = source.config.ttl;
  const result: AddressResult = { records: [] };
  const direct: Entry[] = [];
  for (const entry of found) {
    if (!isExternalHost(entry.host)) {
      direct.push(entry);
      continue;
    }
    const target = fqdn(entry.host.toLowerCase());
    if (target === name) continue;
    const cname: RR = { name, ttl, type: 'CNAME', target };
    if (previous.length > 7) continue;
    if (previous.some((rr) => rr.type === 'CNAME' && rr.name === name && rr.target === target)) continue;
    if (isSubdomain(zone, target)) {
      const next = addresses(target, type, zone, source, [...previous, cname]);
      if (next !== NX && next.records.length > 0) {
        result.records.push(cname, ...next.records);
        if (next.chase) result.chase = next.chase;
      }
      continue;
    }
    result.records.push(cname);
    result.chase = { name: target, type };
  }
  result.records.push(...addressRecords(direct, name, family, ttl));
  return result;
}

function reply(zone: string, answer: RR[], additional: RR[] = []): Reply {
  return { kind: 'reply', rcode: RCODE.NOERROR, zone, answer, authority: [], additional };
}

/**
 * CoreDNS `fallthrough [ZONES...]` (plugin.Fall.Through): an NXDOMAIN for a name in
 * these zones is handed on; an empty list hands on every zone's. Unset: the
 * reverse zones, as kubeadm's Corefile says (`fallthrough in-addr.arpa ip6.arpa`).
 */
function fallsThrough(name: string, zone: string, config: RecordSource['config']): boolean {
  const zones = config.fallthrough;
  if (zones === undefined) return zone !== config.zone;
  return zones.length === 0 || zones.some((z) => isSubdomain(z.replace(/\.$/, ''), name.replace(/\.$/, '')));
}

function negative(name: string, zone: string, rcode: Reply['rcode'], source: RecordSource): Reply {
  const soa = soaRecord(zone, source.config.ttl, source.serial());
  const fallthrough = rcode === RCODE.NXDOMAIN && fallsThrough(name, zone, source.config);
  return { kind: 'reply', rcode, zone, answer: [], authority: [soa], additional: [], ...(fallthrough ? { fallthrough } : {}) };
}

/** ServeDNS: one question, one answer, rcode decided here and nowhere else. */
export function answer(question: Question, source: RecordSource): Answer {
  const { name, type } = question;
  const zone = matchZone(source.zones, name);
  if (!zone) return { kind: 'outOfZone' };
  if (type === QTYPE.AXFR || type === QTYPE.IXFR) return { kind: 'refused' };
  const ttl = source.config.ttl;
  const done = (found: RR[] | typeof NX, additional: RR[] = []): Reply => {
    if (found === NX) return negative(name, zone, RCODE.NXDOMAIN, source);
    if (found.length === 0) return negative(name, zone, RCODE.NOERROR, source);
    return reply(zone, found, additional);
  };

  switch (type) {
    case QTYPE.A:
    case QTYPE.AAAA: {
      const result = addresses(name, type, zone, source, []);
      if (result === NX) return done(NX);
      // An ExternalName pointing outside answers with its CNAME even when nothing follows it.
      if (result.records.length === 0) return done([]);
      return { ...reply(zone, result.records), ...(result.chase ? { chase: result.chase } : {}) };
    }
    case QTYPE.TXT: {
      const found = services(name, type, zone, source);
      if (found === NX) return done(NX);
      return done(found.map((): RR => ({ name, ttl: DNS_VERSION_TTL, type: 'TXT', text: [DNS_SCHEMA_VERSION] })));
    }
    case QTYPE.CNAME: {
      const found = services(name, type, zone, source);
      if (found === NX) return done(NX);
      const first = found[0];
      return done(first && isExternalHost(first.host) ? [{ name, ttl, type: 'CNAME', target: fqdn(first.host.toLowerCase()) }] : []);
    }
    case QTYPE.PTR: {
      const address = addressFromReverse(name);
      if (address === undefined) {
        const found = records(name, zone, source);
        return done(found === NX ? NX : []);
      }
      const targets = [...new Set(source.reverse(address))];
      return done(targets.length === 0 ? NX : targets.map((target): RR => ({ name, ttl, type: 'PTR', target })));
    }
    case QTYPE.SRV: {
      const found = services(name, type, zone, source);
      if (found === NX) return done(NX);
      const srv = srvRecords(found, name, ttl);
      return done(srv.answer, srv.additional);
    }
    case QTYPE.SOA:
      return done(name === zone ? [soaRecord(zone, ttl, source.serial())] : []);
    case QTYPE.NS:
      if (name === zone) {
        const entries = nsEntries(zone, source);
        const glue = [...addressRecords(entries, `ns.dns.${zone}`, 4, ttl), ...addressRecords(entries, `ns.dns.${zone}`, 6, ttl)];
        return done(entries.length ? [{ name, ttl, type: 'NS', target: `ns.dns.${zone}` }] : [], glue);
      }
      return done(addresses(name, QTYPE.A, zone, source, []) === NX ? NX : []);
    default:
      // CoreDNS does a fake A lookup to tell NODATA from NXDOMAIN.
      return done(addresses(name, QTYPE.A, zone, source, []) === NX ? NX : []);
  }
}
