// Answers ↔ bytes. Queries are read without building objects (header,
// question, OPT); answers are encoded once into a body that any query for the
// same name and type can reuse: the per-query work is copying the query's
// header and question in front of it, cutting it to the transport's size, and
// appending the OPT record.
//
// Encoding follows what CoreDNS (miekg/dns) puts on the wire:
// - owner names in the answer section point at the question, so they echo its spelling;
// - built names (SRV targets, glue, SOA, NS) compress only against the zone part
//   of the question and each other, so their zone part follows the query's
//   spelling and the rest stays lower case (semantics §8);
// - SRV targets are never compressed (RFC 2782); where one spells the zone, the
//   offset is kept so the query's spelling can be written over it;
// - truncation keeps a prefix of answer, then authority, then additional, and
//   sets TC when anything was dropped (miekg/dns msg_truncate.go).

import { ipv4ToBytes, ipv6ToBytes } from '../model/ip.js';
import type { RR } from '../records/rr.js';
import { CLASS_IN, QTYPE, RCODE } from './constants.js';

const HEADER = 12;
const FLAG_QR = 0x8000;
const FLAG_AA = 0x0400;
const FLAG_TC = 0x0200;
const FLAG_RD = 0x0100;
const FLAG_CD = 0x0010;
const OPT_DO = 0x8000;

/** EDNS options CoreDNS copies from the query into its reply (request.supportedOptions). */
const ECHOED_OPTIONS = new Set([3, 9, 10, 11, 12]);

export interface Edns {
  udpSize: number;
  version: number;
  dnssecOk: boolean;
  /** The supported options, encoded, to echo. */
  options: Buffer;
}

export interface ParsedQuery {
  id: number;
  flags: number;
  /** Offset just past the question name. */
  qnameEnd: number;
  /** Offset just past the question (name, type, class). */
  questionEnd: number;
  qtype: number;
  qclass: number;
  /** The question name's wire bytes, lower-cased, as a latin1 string: the lookup key. */
  key: string;
  edns?: Edns;
}

export type QueryParse =
  | { ok: true; query: ParsedQuery }
  /** Too short for a header, or a response: no answer at all (never amplify garbage). */
  | { ok: false; action: 'drop' }
  /** A header we can answer with an error. */
  | { ok: false; action: 'error'; rcode: number };

class Malformed extends Error {}

/** Reads a name anywhere in a message, following pointers; returns the offset after it. */
function skipName(msg: Buffer, start: number): number {
  let offset = start;
  for (let hops = 0; hops < 128; hops++) {
    if (offset >= msg.length) throw new Malformed('name runs past the message');
    const len = msg[offset]!;
    if (len === 0) return offset + 1;
    if ((len & 0xc0) === 0xc0) {
      if (offset + 2 > msg.length) throw new Malformed('pointer runs past the message');
      return offset + 2;
    }
    if (len & 0xc0) throw new Malformed('unknown label type');
    offset += 1 + len;
  }
  throw new Malformed('name too long');
}

function parseOpt(msg: Buffer, rdataStart: number, rdlength: number, udpClass: number, ttl: number): Edns {
  const options: Buffer[] = [];
  let offset = rdataStart;
  const end = rdataStart + rdlength;
  while (offset < end) {
    if (offset + 4 > end) throw new Malformed('truncated EDNS option');
    const code = msg.readUInt16BE(offset);
    const length = msg.readUInt16BE(offset + 2);
    if (offset + 4 + length > end) throw new Malformed('EDNS option runs past the record');
    if (ECHOED_OPTIONS.has(code)) options.push(msg.subarray(offset, offset + 4 + length));
    offset += 4 + length;
  }
  return {
    udpSize: udpClass,
    version: (ttl >>> 16) & 0xff,
    dnssecOk: (ttl & OPT_DO) !== 0,
    options: Buffer.concat(options),
  };
}

/**
 * Reads a query the way miekg/dns accepts it: responses are ignored, opcodes
 * other than QUERY get NOTIMP, anything but one question (and at most one
 * answer/authority and two additional records) or a message that does not
 * parse gets FORMERR.
 */
export function parseQuery(msg: Buffer): QueryParse {
  if (msg.length < HEADER) return { ok: false, action: 'drop' };
  const flags = msg.readUInt16BE(2);
  if (flags & FLAG_QR) return { ok: false, action: 'drop' };
  const opcode = (flags >> 11) & 0xf;
  if (opcode !== 0) return { ok: false, action: 'error', rcode: RCODE.NOTIMP };
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  const ns = msg.readUInt16BE(8);
  const ar = msg.readUInt16BE(10);
  if (qd !== 1 || an > 1 || ns > 1 || ar > 2) return { ok: false, action: 'error', rcode: RCODE.FORMERR };
  try {
    let offset = HEADER;
    for (;;) {
      if (offset >= msg.length) throw new Malformed('question runs past the message');
      const len = msg[offset]!;
      if (len === 0) break;
      // A pointer in the only question could only point into the header.
      if (len & 0xc0) throw new Malformed('compressed question name');
      offset += 1 + len;
      if (offset - HEADER > 254) throw new Malformed('question name too long');
    }
    const qnameEnd = offset + 1;
    if (qnameEnd + 4 > msg.length) throw new Malformed('question type and class missing');
    const qtype = msg.readUInt16BE(qnameEnd);
    const qclass = msg.readUInt16BE(qnameEnd + 2);
    offset = qnameEnd + 4;
    let edns: Edns | undefined;
    for (let i = 0; i < an + ns + ar; i++) {
      const nameStart = offset;
      offset = skipName(msg, offset);
      if (offset + 10 > msg.length) throw new Malformed('record header runs past the message');
      const type = msg.readUInt16BE(offset);
      const rrClass = msg.readUInt16BE(offset + 2);
      const ttl = msg.readUInt32BE(offset + 4);
      const rdlength = msg.readUInt16BE(offset + 8);
      const rdataStart = offset + 10;
      offset = rdataStart + rdlength;
      if (offset > msg.length) throw new Malformed('record data runs past the message');
      if (type === QTYPE.OPT && i >= an + ns) {
        // RFC 6891 §6.1.1: one OPT, owned by the root.
        if (edns || msg[nameStart] !== 0) throw new Malformed('bad OPT record');
        edns = parseOpt(msg, rdataStart, rdlength, rrClass, ttl);
      }
    }
    const query: ParsedQuery = {
      id: msg.readUInt16BE(0),
      flags,
      qnameEnd,
      questionEnd: qnameEnd + 4,
      qtype,
      qclass,
      key: msg.toString('latin1', HEADER, qnameEnd).toLowerCase(),
      ...(edns ? { edns } : {}),
    };
    return { ok: true, query };
  } catch (error) {
    if (error instanceof Malformed) return { ok: false, action: 'error', rcode: RCODE.FORMERR };
    throw error;
  }
}

/**
 * The question name in presentation form, lower case, with a trailing dot.
 * Dots and unprintable bytes inside a label are escaped as dig prints them,
 * so such a label can never be mistaken for two.
 */
export function questionName(msg: Buffer, query: ParsedQuery): string {
  let out = '';
  let offset = HEADER;
  while (offset < query.qnameEnd - 1) {
    const len = msg[offset]!;
    for (let i = offset + 1; i <= offset + len; i++) {
      const byte = msg[i]!;
      const lower = byte >= 0x41 && byte <= 0x5a ? byte + 32 : byte;
      if (lower === 0x2e || lower === 0x5c) out += `\\${String.fromCharCode(lower)}`;
      else if (lower < 0x21 || lower > 0x7e) out += `\\${String(lower).padStart(3, '0')}`;
      else out += String.fromCharCode(lower);
    }
    out += '.';
    offset += 1 + len;
  }
  return out === '' ? '.' : out;
}

/** Wire form of a plain (unescaped) name. */
export function nameToWire(name: string): Buffer {
  const labels = name === '.' ? [] : name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'latin1');
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** The lookup key of a name: what `ParsedQuery.key` is for a query of that name. */
export function nameKey(name: string): string {
  return nameToWire(name).toString('latin1').toLowerCase();
}

/** An answer encoded for one (name, type), ready to be sent for any spelling of that name. */
export interface PreparedAnswer {
  rcode: number;
  authoritative: boolean;
  /** Upstream records in it came from a truncated reply. */
  truncated: boolean;
  /** Records, as they follow a question of this name; offsets below are absolute in the message. */
  body: Buffer;
  /** Where the body starts: header plus question. */
  questionEnd: number;
  counts: readonly [answer: number, authority: number, additional: number];
  /** End offset of each record, in order. */
  recordEnds: readonly number[];
  /** Offsets where the zone is spelled out (uncompressed SRV targets). */
  zoneSites: readonly number[];
  /** Offset of the zone's labels inside the question name. */
  zoneInQuestion: number;
  zoneWire: Buffer;
}

class Writer {
  buffer = Buffer.alloc(512);
  offset: number;

  constructor(start: number) {
    this.offset = start;
  }

  private ensure(bytes: number): void {
    if (this.offset + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.offset + bytes) size *= 2;
    const next = Buffer.alloc(size);
    this.buffer.copy(next);
    this.buffer = next;
  }

  u8(value: number): void {
    this.ensure(1);
    this.buffer.writeUInt8(value, this.offset);
    this.offset += 1;
  }

  u16(value: number): void {
    this.ensure(2);
    this.buffer.writeUInt16BE(value, this.offset);
    this.offset += 2;
  }

  u32(value: number): void {
    this.ensure(4);
    this.buffer.writeUInt32BE(value >>> 0, this.offset);
    this.offset += 4;
  }

  bytes(data: Buffer): void {
    this.ensure(data.length);
    data.copy(this.buffer, this.offset);
    this.offset += data.length;
  }
}

export interface AnswerSections {
  rcode: number;
  authoritative: boolean;
  truncated?: boolean;
  answer: readonly RR[];
  authority: readonly RR[];
  additional: readonly RR[];
}

/**
 * Encodes the records of an answer for a question of `qname` (lower case) in
 * `zone`. The result is valid for every query whose name lower-cases to qname.
 */
const zoneWires = new Map<string, Buffer>();

/** Wire forms of zones, made once: every prepared answer of a zone shares one. */
function zoneToWire(zone: string): Buffer {
  let wire = zoneWires.get(zone);
  if (!wire) zoneWires.set(zone, (wire = nameToWire(zone)));
  return wire;
}

export function prepareAnswer(qname: string, zone: string, sections: AnswerSections): PreparedAnswer {
  const qnameWire = nameToWire(qname);
  const zoneWire = zoneToWire(zone);
  const questionEnd = HEADER + qnameWire.length + 4;
  const zoneInQuestion = HEADER + qnameWire.length - zoneWire.length;
  const writer = new Writer(questionEnd);
  const dictionary = new Map<string, number>([[zone, zoneInQuestion]]);
  const zoneSites: number[] = [];
  const recordEnds: number[] = [];

  const writeName = (name: string, compress: boolean): void => {
    const labels = name === '.' ? [] : name.slice(0, -1).split('.');
    for (let i = 0; i < labels.length; i++) {
      const suffix = `${labels.slice(i).join('.')}.`;
      const pointer = dictionary.get(suffix);
      if (compress && pointer !== undefined) {
        writer.u16(0xc000 | pointer);
        return;
      }
      // Remember even uncompressed names as targets for later pointers, as miekg/dns does.
      if (pointer === undefined && writer.offset < 0x3fff) dictionary.set(suffix, writer.offset);
      if (suffix === zone) zoneSites.push(writer.offset);
      const label = Buffer.from(labels[i]!, 'latin1');
      writer.u8(label.length);
      writer.bytes(label);
    }
    writer.u8(0);
  };

  const writeRecord = (rr: RR, ownerIsQuestion: boolean): void => {
    if (ownerIsQuestion) writer.u16(0xc000 | HEADER);
    else writeName(rr.name, true);
    writer.u16(QTYPE[rr.type]);
    writer.u16(CLASS_IN);
    writer.u32(rr.ttl);
    const lengthAt = writer.offset;
    writer.u16(0);
    const start = writer.offset;
    switch (rr.type) {
      case 'A':
        writer.bytes(ipv4ToBytes(rr.address));
        break;
      case 'AAAA':
        writer.bytes(ipv6ToBytes(rr.address));
        break;
      case 'SRV':
        writer.u16(rr.priority);
        writer.u16(rr.weight);
        writer.u16(rr.port);
        writeName(rr.target, false);
        break;
      case 'PTR':
      case 'CNAME':
      case 'NS':
        writeName(rr.target, true);
        break;
      case 'TXT':
        for (const text of rr.text) {
          const bytes = Buffer.from(text, 'utf8').subarray(0, 255);
          writer.u8(bytes.length);
          writer.bytes(bytes);
        }
        break;
      case 'SOA':
        writeName(rr.mname, true);
        writeName(rr.rname, true);
        writer.u32(rr.serial);
        writer.u32(rr.refresh);
        writer.u32(rr.retry);
        writer.u32(rr.expire);
        writer.u32(rr.minimum);
        break;
    }
    writer.buffer.writeUInt16BE(writer.offset - start, lengthAt);
    recordEnds.push(writer.offset);
  };

  for (const rr of sections.answer) writeRecord(rr, rr.name === qname);
  for (const rr of sections.authority) writeRecord(rr, false);
  for (const rr of sections.additional) writeRecord(rr, false);

  return {
    rcode: sections.rcode,
    authoritative: sections.authoritative,
    truncated: sections.truncated ?? false,
    body: Buffer.from(writer.buffer.subarray(questionEnd, writer.offset)),
    questionEnd,
    counts: [sections.answer.length, sections.authority.length, sections.additional.length],
    recordEnds,
    zoneSites,
    zoneInQuestion,
    zoneWire,
  };
}

function optRecord(edns: Edns, extendedRcode = 0, udpSize = edns.udpSize): Buffer {
  const opt = Buffer.alloc(11 + edns.options.length);
  opt[0] = 0;
  opt.writeUInt16BE(QTYPE.OPT, 1);
  opt.writeUInt16BE(udpSize, 3);
  opt.writeUInt32BE(((extendedRcode & 0xff) << 24) | (edns.dnssecOk ? OPT_DO : 0), 5);
  opt.writeUInt16BE(edns.options.length, 9);
  edns.options.copy(opt, 11);
  return opt;
}

function responseFlags(query: ParsedQuery, rcode: number, authoritative: boolean, truncated: boolean): number {
  return (
    FLAG_QR |
    (authoritative ? FLAG_AA : 0) |
    (truncated ? FLAG_TC : 0) |
    (query.flags & (FLAG_RD | FLAG_CD)) |
    (rcode & 0xf)
  );
}

/** The largest response a client takes over this transport (RFC 1035 §4.2.1, RFC 6891 §6.2.5). */
export function sizeLimit(query: ParsedQuery, transport: 'udp' | 'tcp'): number {
  if (transport === 'tcp') return 65535;
  return Math.max(512, query.edns?.udpSize ?? 512);
}

/** The reply to one query: its header and question, the prepared records that fit, and OPT. */
export function renderAnswer(msg: Buffer, query: ParsedQuery, prepared: PreparedAnswer, limit: number): Buffer {
  const opt = query.edns ? optRecord(query.edns) : undefined;
  const budget = limit - (opt?.length ?? 0);
  const ends = prepared.recordEnds;
  let keep = ends.length;
  if (keep > 0 && ends[keep - 1]! > budget) {
    keep = 0;
    while (keep < ends.length && ends[keep]! <= budget) keep++;
  }
  const bodyEnd = keep > 0 ? ends[keep - 1]! : prepared.questionEnd;
  const out = Buffer.allocUnsafe(bodyEnd + (opt?.length ?? 0));
  msg.copy(out, 0, 0, prepared.questionEnd);
  prepared.body.copy(out, prepared.questionEnd, 0, bodyEnd - prepared.questionEnd);
  const [an, ns] = prepared.counts;
  const keptAn = Math.min(an, keep);
  const keptNs = Math.min(ns, keep - keptAn);
  const keptAr = keep - keptAn - keptNs;
  const truncated = prepared.truncated || keep < ends.length;
  out.writeUInt16BE(responseFlags(query, prepared.rcode, prepared.authoritative, truncated), 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(keptAn, 6);
  out.writeUInt16BE(keptNs, 8);
  out.writeUInt16BE(keptAr + (opt ? 1 : 0), 10);
  if (prepared.zoneSites.length > 0) {
    const zoneStart = prepared.zoneInQuestion;
    const spelled = msg.subarray(zoneStart, zoneStart + prepared.zoneWire.length);
    if (!spelled.equals(prepared.zoneWire)) {
      for (const site of prepared.zoneSites) if (site < bodyEnd) spelled.copy(out, site);
    }
  }
  if (opt) opt.copy(out, bodyEnd);
  return out;
}

/** A reply with no records: REFUSED, SERVFAIL, BADVERS. Question and OPT echoed, AA off (CoreDNS's errorFunc). */
export function renderEmpty(msg: Buffer, query: ParsedQuery, rcode: number): Buffer {
  const badvers = rcode === RCODE.BADVERS;
  const opt = query.edns ? (badvers ? optRecord({ ...query.edns, options: Buffer.alloc(0) }, 1, 0) : optRecord(query.edns)) : undefined;
  const out = Buffer.alloc(query.questionEnd + (opt?.length ?? 0));
  msg.copy(out, 0, 0, query.questionEnd);
  out.writeUInt16BE(responseFlags(query, badvers ? 0 : rcode, false, false), 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(0, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(opt ? 1 : 0, 10);
  if (opt) opt.copy(out, query.questionEnd);
  return out;
}

/** FORMERR/NOTIMP: the header alone, as miekg/dns sends for messages it rejects. */
export function renderHeaderError(msg: Buffer, rcode: number): Buffer {
  const out = Buffer.alloc(HEADER);
  const flags = msg.readUInt16BE(2);
  const opcode = rcode === RCODE.NOTIMP ? flags & 0x7800 : 0;
  out.writeUInt16BE(msg.readUInt16BE(0), 0);
  out.writeUInt16BE(FLAG_QR | opcode | (flags & (FLAG_RD | FLAG_CD)) | (rcode & 0xf), 2);
  return out;
}

/** A minimal query (for asking an upstream). */
export function buildQuery(id: number, name: string, type: number, recursionDesired = true): Buffer {
  const qname = nameToWire(name);
  const out = Buffer.alloc(HEADER + qname.length + 4);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(recursionDesired ? FLAG_RD : 0, 2);
  out.writeUInt16BE(1, 4);
  qname.copy(out, HEADER);
  out.writeUInt16BE(type, HEADER + qname.length);
  out.writeUInt16BE(CLASS_IN, HEADER + qname.length + 2);
  return out;
}

/** Reads a possibly compressed name as lower-case presentation text; returns it and the offset after it. */
function readName(msg: Buffer, start: number): { name: string; next: number } {
  const labels: string[] = [];
  let offset = start;
  let next = -1;
  for (let hops = 0; hops < 128; hops++) {
    if (offset >= msg.length) throw new Malformed('name runs past the message');
    const len = msg[offset]!;
    if (len === 0) {
      if (next < 0) next = offset + 1;
      return { name: labels.length ? `${labels.join('.')}.` : '.', next };
    }
    if ((len & 0xc0) === 0xc0) {
      if (offset + 2 > msg.length) throw new Malformed('pointer runs past the message');
      if (next < 0) next = offset + 2;
      offset = msg.readUInt16BE(offset) & 0x3fff;
      continue;
    }
    if (offset + 1 + len > msg.length) throw new Malformed('label runs past the message');
    labels.push(msg.toString('latin1', offset + 1, offset + 1 + len).toLowerCase());
    offset += 1 + len;
  }
  throw new Malformed('compression loop');
}

/**
 * The A, AAAA and CNAME records of an upstream reply's answer section, and
 * whether it was truncated. Other types are left out: they would need their
 * own decoders, and an address query's answer holds nothing else of use.
 */
export function readUpstreamAnswers(msg: Buffer): { records: RR[]; truncated: boolean; rcode: number } {
  if (msg.length < HEADER) throw new Malformed('short reply');
  const flags = msg.readUInt16BE(2);
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  let offset = HEADER;
  for (let i = 0; i < qd; i++) offset = skipName(msg, offset) + 4;
  const records: RR[] = [];
  for (let i = 0; i < an; i++) {
    const { name, next } = readName(msg, offset);
    if (next + 10 > msg.length) throw new Malformed('record runs past the message');
    const type = msg.readUInt16BE(next);
    const ttl = msg.readUInt32BE(next + 4);
    const rdlength = msg.readUInt16BE(next + 8);
    const rdata = next + 10;
    if (rdata + rdlength > msg.length) throw new Malformed('record data runs past the message');
    if (type === QTYPE.A && rdlength === 4) records.push({ name, ttl, type: 'A', address: [...msg.subarray(rdata, rdata + 4)].join('.') });
    if (type === QTYPE.AAAA && rdlength === 16) {
      const groups: string[] = [];
      for (let j = 0; j < 16; j += 2) groups.push(msg.readUInt16BE(rdata + j).toString(16));
      records.push({ name, ttl, type: 'AAAA', address: groups.join(':') });
    }
    if (type === QTYPE.CNAME) records.push({ name, ttl, type: 'CNAME', target: readName(msg, rdata).name });
    offset = rdata + rdlength;
  }
  return { records, truncated: (flags & FLAG_TC) !== 0, rcode: flags & 0xf };
}
