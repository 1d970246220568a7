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
//   sets TC when anything was dropped (miekg/dns msg_truncate.go);
// - an answer larger than a DNS message (65,535 bytes) is prepared already cut
//   to the records that fit one, and every reply of it has TC set, over TCP
//   too: CoreDNS truncates a TCP reply to 64 KiB the same way (request.Scrub
//   → Msg.Truncate(dns.MaxMsgSize)).

import { ipv6ToBytes } from '../model/ip.js';
import type { RR } from '../records/rr.js';
import { CLASS_IN, QTYPE, RCODE } from './constants.js';

const HEADER = 12;
const FLAG_QR = 0x8000;
const FLAG_AA = 0x0400;
const FLAG_TC = 0x0200;
const FLAG_RD = 0x0100;
const FLAG_CD = 0x0010;
const OPT_DO = 0x8000;

/** The largest DNS message: TCP frames it with a 16-bit length (RFC 1035 §4.2.2). */
export const MAX_MESSAGE = 65535;

/**
 * UDP replies are no larger than this by default, whatever buffer size a
 * query's EDNS advertises: DNS Flag Day 2020's 1232 bytes, CoreDNS's bufsize
 * plugin default. Larger advertised sizes only turned a 60-byte query into
 * kilobytes of reply (amplification) and fragmented datagrams.
 */
export const UDP_MAX_SIZE_DEFAULT = 1232;
/** The range a UDP cap may be set in, as CoreDNS's bufsize allows. */
export const UDP_MAX_SIZE_MIN = 512;
export const UDP_MAX_SIZE_MAX = 4096;

/** EDNS options CoreDNS copies from the query into its reply (request.supportedOptions). */
const ECHOED_OPTIONS = new Set([3, 9, 10, 11, 12]);

export interface Edns {
  /** The UDP payload size the query advertised, or the server's cap where that is lower (see capUdpSize). */
  udpSize: number;
  /** Where the OPT record's size (its class field) is in the query. */
  sizeAt: number;
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

/** A message that cannot be read (a reply's decoders throw it). */
export class Malformed extends Error {}

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
    // The record's class sits 8 bytes before its data (class, TTL, data length).
    sizeAt: rdataStart - 8,
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

/** Where keys are spelled out before becoming one flat string (a Map keeps a few per pod). */
const keyScratch = Buffer.allocUnsafe(256);

/** The lookup key of a plain lower-case name: what `ParsedQuery.key` is for a query of that name. */
export function nameKey(name: string): string {
  const end = name.endsWith('.') ? name.length - 1 : name.length;
  if (end + 2 > keyScratch.length) return nameToWire(name).toString('latin1').toLowerCase();
  let at = 0;
  let start = 0;
  while (start < end) {
    let dot = name.indexOf('.', start);
    if (dot < 0 || dot > end) dot = end;
    keyScratch[at++] = dot - start;
    for (let i = start; i < dot; i++) {
      const c = name.charCodeAt(i);
      keyScratch[at++] = c >= 0x41 && c <= 0x5a ? c + 32 : c;
    }
    start = dot + 1;
  }
  keyScratch[at++] = 0;
  return keyScratch.toString('latin1', 0, at);
}

/** The length of a presentation-form name on the wire: escapes (\. \\ \DDD) count as one byte. */
function wireLength(name: string): number {
  if (name === '.') return 1;
  let length = 1;
  let label = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2e) {
      length += 1 + label;
      label = 0;
    } else {
      label++;
      if (c === 0x5c) i += /\d/.test(name[i + 1] ?? '') ? 3 : 1;
    }
  }
  if (label > 0) length += 1 + label;
  return length;
}

/**
 * An answer encoded for one (name, type), ready to be sent for any spelling of
 * that name: one Buffer holding a small table, then the records as they follow
 * the question. One Buffer rather than an object of arrays, because a large
 * cluster keeps a few of these per pod.
 *
 *   0 rcode u8 · 1 flags u8 (1 authoritative, 2 truncated: upstream, or cut to a DNS message)
 *   2 answer/authority/additional counts (of the records kept) u16×3 · 8 question end u16
 *   10 offset of the zone in the question u16 · 12 records u16 · 14 zone sites u16
 *   16 end offset of each record u16×records, then zone sites u16×sites, then the records
 *
 * Offsets are absolute in the reply. Zone sites are where an uncompressed SRV
 * target spells the zone, to be overwritten with the query's spelling.
 */
export type PreparedAnswer = Buffer & { readonly preparedAnswer: unique symbol };

const P_RCODE = 0;
const P_FLAGS = 1;
const P_COUNTS = 2;
const P_QUESTION_END = 8;
const P_ZONE_AT = 10;
const P_RECORDS = 12;
const P_SITES = 14;
const P_TABLE = 16;
const AUTHORITATIVE = 1;
/** Every reply of it has TC: the upstream's reply was truncated, or the answer was cut to fit a DNS message. */
const TRUNCATED = 2;

/** How many bytes a prepared answer takes, table included. */
export function preparedLength(prepared: Buffer, at = 0): number {
  const records = prepared.readUInt16BE(at + P_RECORDS);
  const tableEnd = P_TABLE + 2 * (records + prepared.readUInt16BE(at + P_SITES));
  if (records === 0) return tableEnd;
  return tableEnd + prepared.readUInt16BE(at + P_TABLE + 2 * (records - 1)) - prepared.readUInt16BE(at + P_QUESTION_END);
}

/** Writes a dotted quad (already valid: it came from the registry) as four bytes; returns the offset after it. */
function writeIpv4(out: Buffer, at: number, address: string): number {
  let value = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 0x2e) {
      out[at++] = value;
      value = 0;
    } else value = value * 10 + (c - 0x30);
  }
  out[at++] = value;
  return at;
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
 * Writes the records of one answer after its question. One instance is reused
 * for every answer (encoding is synchronous): a large cluster prepares a few
 * answers per pod, and fresh closures, maps and arrays for each showed up as
 * collector time.
 */
class RecordWriter {
  private out = Buffer.allocUnsafe(4096);
  at = 0;
  private zone = '';
  /**
   * The compression targets so far: the suffix of targetNames[i] from
   * targetStarts[i] sits at targetOffsets[i]. Parallel arrays searched in
   * order, because an answer has a handful of names: slicing each suffix into
   * a string and clearing a Map per answer cost more than the search.
   * Answers with many names (a large SRV set) switch to a Map.
   */
  private readonly targetNames: string[] = [];
  private readonly targetStarts: number[] = [];
  private readonly targetOffsets: number[] = [];
  private targetCount = 0;
  private targetMap: Map<string, number> | undefined;
  readonly zoneSites: number[] = [];
  readonly recordEnds: number[] = [];
  /** True when records were left out because the answer would not fit a DNS message. */
  cut = false;

  questionEnd = 0;
  zoneInQuestion = 0;

  start(questionEnd: number, zone: string, zoneInQuestion: number): void {
    this.at = questionEnd;
    this.questionEnd = questionEnd;
    this.zoneInQuestion = zoneInQuestion;
    this.zone = zone;
    this.targetCount = 0;
    this.targetMap = undefined;
    this.remember(zone, 0, zoneInQuestion);
    this.zoneSites.length = 0;
    this.recordEnds.length = 0;
    this.cut = false;
  }

  /** The offset of `name` from `start` on, if it was written before; -1 otherwise. */
  private find(name: string, start: number): number {
    if (this.targetMap) return this.targetMap.get(start === 0 ? name : name.slice(start)) ?? -1;
    const length = name.length - start;
    for (let i = 0; i < this.targetCount; i++) {
      const other = this.targetNames[i]!;
      const from = this.targetStarts[i]!;
      if (other.length - from !== length) continue;
      if (other === name && from === start) return this.targetOffsets[i]!;
      let same = true;
      for (let j = 0; j < length && same; j++) same = other.charCodeAt(from + j) === name.charCodeAt(start + j);
      if (same) return this.targetOffsets[i]!;
    }
    return -1;
  }

  private remember(name: string, start: number, offset: number): void {
    if (this.targetMap) {
      this.targetMap.set(start === 0 ? name : name.slice(start), offset);
      return;
    }
    const i = this.targetCount++;
    this.targetNames[i] = name;
    this.targetStarts[i] = start;
    this.targetOffsets[i] = offset;
    if (this.targetCount > 32) {
      this.targetMap = new Map();
      for (let j = 0; j < this.targetCount; j++) {
        const from = this.targetStarts[j]!;
        const whole = this.targetNames[j]!;
        const suffix = from === 0 ? whole : whole.slice(from);
        if (!this.targetMap.has(suffix)) this.targetMap.set(suffix, this.targetOffsets[j]!);
      }
    }
  }

  /** Takes back the record written from `start` on (zone sites beyond `sites` were its own). */
  undo(start: number, sites: number): void {
    this.at = start;
    this.recordEnds.pop();
    this.zoneSites.length = sites;
  }

  /** The bytes written so far (valid until the next answer). */
  get bytes(): Buffer {
    return this.out;
  }

  private ensure(bytes: number): void {
    if (this.at + bytes <= this.out.length) return;
    let size = this.out.length * 2;
    while (size < this.at + bytes) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.out.copy(bigger, 0, 0, this.at);
    this.out = bigger;
  }

  private u16(value: number): void {
    this.ensure(2);
    this.out.writeUInt16BE(value, this.at);
    this.at += 2;
  }

  private u32(value: number): void {
    this.ensure(4);
    this.out.writeUInt32BE(value >>> 0, this.at);
    this.at += 4;
  }

  /**
   * Names we build are plain lower-case text; each suffix is remembered as a
   * pointer target, even uncompressed ones, as miekg/dns does. An SRV target is
   * only ever pointed at whole (by its glue's owner name), so its shorter
   * suffixes are neither looked up nor remembered: same bytes, cheaper.
   */
  private writeName(name: string, compress: boolean): void {
    this.ensure(name.length + 2);
    const out = this.out;
    const zone = this.zone;
    const end = name.length - 1;
    let at = this.at;
    let start = 0;
    while (start < end) {
      if (compress || start === 0) {
        const pointer = this.find(name, start);
        if (compress && pointer >= 0) {
          out.writeUInt16BE(0xc000 | pointer, at);
          this.at = at + 2;
          return;
        }
        if (pointer < 0 && at < 0x3fff) this.remember(name, start, at);
      }
      if (name.length - start === zone.length && name.endsWith(zone)) this.zoneSites.push(at);
      const dot = name.indexOf('.', start);
      out[at++] = dot - start;
      for (let i = start; i < dot; i++) out[at++] = name.charCodeAt(i);
      start = dot + 1;
    }
    out[at++] = 0;
    this.at = at;
  }

  record(rr: RR, ownerIsQuestion: boolean): void {
    if (ownerIsQuestion) this.u16(0xc000 | HEADER);
    else this.writeName(rr.name, true);
    this.u16(QTYPE[rr.type]);
    this.u16(CLASS_IN);
    this.u32(rr.ttl);
    this.u16(0);
    const start = this.at;
    switch (rr.type) {
      case 'A':
        this.ensure(4);
        this.at = writeIpv4(this.out, this.at, rr.address);
        break;
      case 'AAAA':
        this.ensure(16);
        this.at += ipv6ToBytes(rr.address).copy(this.out, this.at);
        break;
      case 'SRV':
        this.u16(rr.priority);
        this.u16(rr.weight);
        this.u16(rr.port);
        this.writeName(rr.target, false);
        break;
      case 'PTR':
      case 'CNAME':
      case 'NS':
        this.writeName(rr.target, true);
        break;
      case 'TXT':
        for (const text of rr.text) {
          const bytes = Buffer.from(text, 'utf8').subarray(0, 255);
          this.ensure(1 + bytes.length);
          this.out[this.at++] = bytes.length;
          this.at += bytes.copy(this.out, this.at);
        }
        break;
      case 'SOA':
        this.writeName(rr.mname, true);
        this.writeName(rr.rname, true);
        this.u32(rr.serial);
        this.u32(rr.refresh);
        this.u32(rr.retry);
        this.u32(rr.expire);
        this.u32(rr.minimum);
        break;
    }
    this.out.writeUInt16BE(this.at - start, start - 2);
    this.recordEnds.push(this.at);
  }
}

const writer = new RecordWriter();

/**
 * Encodes the records of an answer to a question of qname in `zone`;
 * qname is lower case, in presentation form. Returns the length of the
 * prepared answer; writeEncoded then writes it, with the same sections,
 * wherever it is kept (a slab page), before the next answer is encoded.
 */
export function encodeAnswer(qname: string, zone: string, sections: AnswerSections): number {
  const questionEnd = HEADER + wireLength(qname) + 4;
  writer.start(questionEnd, zone, questionEnd - 4 - (zone === '.' ? 1 : zone.length + 1));
  // Records are kept while they end within a DNS message; the first that does
  // not is taken back and nothing after it is written (miekg/dns truncateLoop).
  // Offsets in the table are then all u16, and the whole answer fits a page.
  if (encodeSection(sections.answer, qname) && encodeSection(sections.authority, undefined)) encodeSection(sections.additional, undefined);
  return P_TABLE + 2 * (writer.recordEnds.length + writer.zoneSites.length) + writer.at - questionEnd;
}

/** Writes one section's records; false once one did not fit (the writer is then cut). */
function encodeSection(records: readonly RR[], qname: string | undefined): boolean {
  for (const rr of records) {
    const start = writer.at;
    const sites = writer.zoneSites.length;
    writer.record(rr, rr.name === qname);
    if (writer.at > MAX_MESSAGE) {
      writer.undo(start, sites);
      writer.cut = true;
      return false;
    }
  }
  return true;
}

/** Writes the answer encodeAnswer just made of `sections` into `target` at `at`. */
export function writeEncoded(target: Buffer, at: number, sections: AnswerSections): void {
  const { recordEnds, zoneSites, questionEnd } = writer;
  const kept = recordEnds.length;
  const an = Math.min(sections.answer.length, kept);
  const ns = Math.min(sections.authority.length, kept - an);
  target[at + P_RCODE] = sections.rcode;
  target[at + P_FLAGS] = (sections.authoritative ? AUTHORITATIVE : 0) | (sections.truncated || writer.cut ? TRUNCATED : 0);
  target.writeUInt16BE(an, at + P_COUNTS);
  target.writeUInt16BE(ns, at + P_COUNTS + 2);
  target.writeUInt16BE(kept - an - ns, at + P_COUNTS + 4);
  target.writeUInt16BE(questionEnd, at + P_QUESTION_END);
  target.writeUInt16BE(writer.zoneInQuestion, at + P_ZONE_AT);
  target.writeUInt16BE(recordEnds.length, at + P_RECORDS);
  target.writeUInt16BE(zoneSites.length, at + P_SITES);
  let t = at + P_TABLE;
  for (let i = 0; i < recordEnds.length; i++) t = target.writeUInt16BE(recordEnds[i]!, t);
  for (let i = 0; i < zoneSites.length; i++) t = target.writeUInt16BE(zoneSites[i]!, t);
  copyBytes(writer.bytes, questionEnd, writer.at, target, t);
}

/**
 * source[start, end) to target at `at`. Most copies here are a few dozen
 * bytes (a question, a small answer), where Buffer.copy's fixed cost (it
 * makes a Uint8Array view of a subrange) exceeds a loop's.
 */
function copyBytes(source: Buffer, start: number, end: number, target: Buffer, at: number): void {
  if (end - start > 128) {
    source.copy(target, at, start, end);
    return;
  }
  for (let i = start; i < end; i++) target[at++] = source[i]!;
}

/** encodeAnswer and writeEncoded into a Buffer of its own. */
export function prepareAnswer(qname: string, zone: string, sections: AnswerSections): PreparedAnswer {
  const packed = Buffer.allocUnsafe(encodeAnswer(qname, zone, sections)) as PreparedAnswer;
  writeEncoded(packed, 0, sections);
  return packed;
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

/**
 * The largest response a client takes over this transport (RFC 1035 §4.2.1,
 * RFC 6891 §6.2.5): over UDP the advertised size (after capUdpSize), at
 * least 512; over TCP a whole DNS message.
 */
export function sizeLimit(query: ParsedQuery, transport: 'udp' | 'tcp'): number {
  if (transport === 'tcp') return MAX_MESSAGE;
  return Math.max(512, query.edns?.udpSize ?? 512);
}

/**
 * Lowers an advertised EDNS buffer size above `max` to `max`, as CoreDNS's
 * bufsize plugin rewrites the request: UDP replies are then cut to it, and
 * the OPT record of the reply advertises it (request.SizeAndDo echoes the
 * request's size). Returns true when it lowered the size.
 */
export function capUdpSize(query: ParsedQuery, max: number): boolean {
  if (!query.edns || query.edns.udpSize <= max) return false;
  query.edns.udpSize = max;
  return true;
}

/**
 * A reply in pieces to be written one after another: the header and question,
 * then records that stay where they were prepared (a slab page), then OPT.
 * TCP sends large answers this way rather than copying them.
 */
export type ReplyParts = readonly Buffer[];

/** Records at least this long are shared rather than copied, when the caller takes parts. */
const SHARE_FROM = 512;

/**
 * The reply to one query: its header and question, the prepared records that
 * fit, and OPT. The prepared answer starts at `at` in `prepared` (answers kept
 * in a slab share one buffer).
 */
export function renderAnswer(msg: Buffer, query: ParsedQuery, prepared: Buffer, limit: number, at = 0): Buffer {
  return render(msg, query, prepared, limit, at, false) as Buffer;
}

/**
 * renderAnswer, except that a large answer comes back as parts whose records
 * are the prepared bytes themselves (slab pages are only appended to, never
 * written over, so they stay as they are while a reply is being sent).
 */
export function renderAnswerParts(msg: Buffer, query: ParsedQuery, prepared: Buffer, limit: number, at = 0): Buffer | ReplyParts {
  return render(msg, query, prepared, limit, at, true);
}

function render(msg: Buffer, query: ParsedQuery, prepared: Buffer, limit: number, at: number, share: boolean): Buffer | ReplyParts {
  const opt = query.edns ? optRecord(query.edns) : undefined;
  const budget = limit - (opt?.length ?? 0);
  const records = prepared.readUInt16BE(at + P_RECORDS);
  const sites = prepared.readUInt16BE(at + P_SITES);
  const questionEnd = prepared.readUInt16BE(at + P_QUESTION_END);
  const table = at + P_TABLE;
  let keep = records;
  if (keep > 0 && prepared.readUInt16BE(table + 2 * (keep - 1)) > budget) {
    keep = 0;
    while (keep < records && prepared.readUInt16BE(table + 2 * keep) <= budget) keep++;
  }
  const bodyEnd = keep > 0 ? prepared.readUInt16BE(table + 2 * (keep - 1)) : questionEnd;
  const bodyStart = table + 2 * (records + sites);
  // The zone as the query spelled it goes over the lower-case spelling of SRV targets.
  const zoneStart = prepared.readUInt16BE(at + P_ZONE_AT);
  const zoneEnd = questionEnd - 4;
  let upper = false;
  if (sites > 0) for (let i = zoneStart; i < zoneEnd && !upper; i++) upper = msg[i]! >= 0x41 && msg[i]! <= 0x5a;
  const shared = share && !upper && bodyEnd - questionEnd >= SHARE_FROM;
  const out = Buffer.allocUnsafe(shared ? questionEnd : bodyEnd + (opt?.length ?? 0));
  copyBytes(msg, 0, questionEnd, out, 0);
  if (!shared) copyBytes(prepared, bodyStart, bodyStart + bodyEnd - questionEnd, out, questionEnd);
  const an = prepared.readUInt16BE(at + P_COUNTS);
  const ns = prepared.readUInt16BE(at + P_COUNTS + 2);
  const keptAn = Math.min(an, keep);
  const keptNs = Math.min(ns, keep - keptAn);
  const keptAr = keep - keptAn - keptNs;
  const flags = prepared[at + P_FLAGS]!;
  const truncated = (flags & TRUNCATED) !== 0 || keep < records;
  out.writeUInt16BE(responseFlags(query, prepared[at + P_RCODE]!, (flags & AUTHORITATIVE) !== 0, truncated), 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(keptAn, 6);
  out.writeUInt16BE(keptNs, 8);
  out.writeUInt16BE(keptAr + (opt ? 1 : 0), 10);
  if (shared) {
    const body = prepared.subarray(bodyStart, bodyStart + bodyEnd - questionEnd);
    return opt ? [out, body, opt] : [out, body];
  }
  if (upper) {
    for (let i = 0; i < sites; i++) {
      const site = prepared.readUInt16BE(table + 2 * (records + i));
      if (site < bodyEnd) msg.copy(out, site, zoneStart, zoneEnd);
    }
  }
  if (opt) opt.copy(out, bodyEnd);
  return out;
}

/**
 * A reply with no records: REFUSED, SERVFAIL, BADVERS. Question and OPT echoed, AA off (CoreDNS's errorFunc).
 * `truncated` sets TC (a relayed reply too large for UDP: the client asks again over TCP).
 */
export function renderEmpty(msg: Buffer, query: ParsedQuery, rcode: number, truncated = false): Buffer {
  const badvers = rcode === RCODE.BADVERS;
  const opt = query.edns ? (badvers ? optRecord({ ...query.edns, options: Buffer.alloc(0) }, 1, 0) : optRecord(query.edns)) : undefined;
  const out = Buffer.alloc(query.questionEnd + (opt?.length ?? 0));
  msg.copy(out, 0, 0, query.questionEnd);
  out.writeUInt16BE(responseFlags(query, badvers ? 0 : rcode, false, truncated), 2);
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
export function readName(msg: Buffer, start: number): { name: string; next: number } {
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
