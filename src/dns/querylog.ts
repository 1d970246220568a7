// What each DNS query asked and got, kept in a bounded ring when the log is on
// (`serve --log-queries`, `startCluster({ queryLog: true })`): time, client,
// transport, the name as asked, type, rcode, answer count, truncation and
// latency, and the fault rule that applied. Off, nothing here runs: the responder is not given a log.

import { QTYPE, RCODE } from './constants.js';
import { type ParsedQuery, parseQuery } from './wire.js';

export interface QueryRecord {
  /** RFC 3339 with milliseconds. */
  time: string;
  /** `address:port` of the client. */
  client: string;
  transport: 'udp' | 'tcp';
  /** As asked: the case the client used, with the trailing dot. */
  name: string;
  type: string;
  rcode: string;
  answers: number;
  truncated: boolean;
  latencyMicros: number;
  /** The id of the fault rule that applied (`fault-3`), or null. */
  fault: string | null;
}

/** Read back when a record is written, for the CoreDNS log line. */
interface LineFacts {
  id: number;
  size: number;
  dnssecOk: boolean;
  bufsize: number;
  flags: string;
  replySize: number;
}

export const QUERY_LOG_CAPACITY = 10_000;

const TYPE_NAMES = new Map<number, string>(Object.entries(QTYPE).map(([name, code]) => [code, name]));
const RCODE_NAMES = new Map<number, string>(Object.entries(RCODE).map(([name, code]) => [code, name]));
const typeName = (code: number): string => TYPE_NAMES.get(code) ?? `TYPE${code}`;
const rcodeName = (code: number): string => RCODE_NAMES.get(code) ?? `RCODE${code}`;

function replyFlags(head: Buffer): string {
  const flags: string[] = [];
  if (head[2]! & 0x80) flags.push('qr');
  if (head[2]! & 0x04) flags.push('aa');
  if (head[2]! & 0x02) flags.push('tc');
  if (head[2]! & 0x01) flags.push('rd');
  if (head[3]! & 0x80) flags.push('ra');
  return flags.join(',');
}

/** One query as kept: raw parts, made into a QueryRecord only when read (a list, a watch, a log line). */
interface RawEntry {
  at: number;
  address: string | undefined;
  port: number;
  transport: 'udp' | 'tcp';
  /** The question name's wire bytes. */
  qname: Uint8Array;
  qtype: number;
  /** The reply's header bytes 2-3 (flags, rcode); -1 when none was sent. */
  flags: number;
  answers: number;
  micros: number;
  /** The fault rule's number, 0 for none. */
  fault: number;
}

/** The end of the question name in a message, or -1 (a scan of its labels: no pointers in a question). */
function qnameEnd(msg: Buffer): number {
  let offset = 12;
  while (offset < msg.length) {
    const len = msg[offset]!;
    if (len === 0) return offset + 1;
    if (len & 0xc0) return -1;
    offset += len + 1;
  }
  return -1;
}

function nameOf(qname: Uint8Array): string {
  let out = '';
  let offset = 0;
  while (offset < qname.length - 1) {
    const len = qname[offset]!;
    for (let i = offset + 1; i <= offset + len; i++) {
      const byte = qname[i]!;
      if (byte === 0x2e || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
      else if (byte < 0x21 || byte > 0x7e) out += `\\${String(byte).padStart(3, '0')}`;
      else out += String.fromCharCode(byte);
    }
    out += '.';
    offset += len + 1;
  }
  return out || '.';
}

/** The longest question name (RFC 1035: 255 octets); each slot of the ring has room for one. */
const NAME_ROOM = 256;

/**
 * The ring, in flat arrays allocated once: recording a query writes numbers
 * and copies its name's bytes into its slot, and allocates nothing, so a busy
 * log makes no garbage (objects kept for 10,000 queries would be promoted and
 * collected again and again).
 */
class Slots {
  readonly at: Float64Array;
  readonly micros: Float64Array;
  readonly qtype: Uint16Array;
  readonly flags: Int32Array;
  readonly answers: Uint16Array;
  readonly port: Uint16Array;
  readonly tcp: Uint8Array;
  readonly nameLength: Uint16Array;
  readonly fault: Uint32Array;
  readonly names: Uint8Array;
  readonly address: (string | undefined)[];

  constructor(readonly capacity: number) {
    this.at = new Float64Array(capacity);
    this.micros = new Float64Array(capacity);
    this.qtype = new Uint16Array(capacity);
    this.flags = new Int32Array(capacity);
    this.answers = new Uint16Array(capacity);
    this.port = new Uint16Array(capacity);
    this.tcp = new Uint8Array(capacity);
    this.nameLength = new Uint16Array(capacity);
    this.fault = new Uint32Array(capacity);
    this.names = new Uint8Array(capacity * NAME_ROOM);
    this.address = new Array<string | undefined>(capacity);
  }

  entry(slot: number): RawEntry {
    const length = this.nameLength[slot]!;
    return {
      at: this.at[slot]!,
      address: this.address[slot],
      port: this.port[slot]!,
      transport: this.tcp[slot] ? 'tcp' : 'udp',
      qname: this.names.slice(slot * NAME_ROOM, slot * NAME_ROOM + length),
      qtype: this.qtype[slot]!,
      flags: this.flags[slot]!,
      answers: this.answers[slot]!,
      micros: this.micros[slot]!,
      fault: this.fault[slot]!,
    };
  }
}

function recordOf(entry: RawEntry): QueryRecord {
  const hasReply = entry.flags >= 0;
  return {
    time: new Date(entry.at).toISOString(),
    client: `${entry.address?.includes(':') ? `[${entry.address}]` : entry.address ?? '?'}:${entry.port ?? 0}`,
    transport: entry.transport,
    name: nameOf(entry.qname),
    type: typeName(entry.qtype),
    rcode: hasReply ? rcodeName(entry.flags & 0xf) : 'NONE',
    answers: entry.answers,
    truncated: hasReply && ((entry.flags >> 8) & 0x02) !== 0,
    latencyMicros: Math.round(entry.micros),
    fault: entry.fault ? `fault-${entry.fault}` : null,
  };
}

export interface QueryFilter {
  /** A substring of the name, any case. */
  name?: string;
  type?: string;
  rcode?: string;
  /** Milliseconds since the epoch. */
  since?: number;
}

/** Does a record pass a filter (`since` aside: list() reads it before making the record)? */
export function matchesFilter(record: QueryRecord, filter: QueryFilter): boolean {
  if (filter.name && !record.name.toLowerCase().includes(filter.name.toLowerCase())) return false;
  if (filter.type && record.type !== filter.type.toUpperCase()) return false;
  return !filter.rcode || record.rcode === filter.rcode.toUpperCase();
}

export class QueryLog {
  private readonly slots: Slots;
  private next = 0;
  private size = 0;
  private readonly listeners = new Set<(record: QueryRecord, line: string) => void>();

  constructor(readonly capacity = QUERY_LOG_CAPACITY) {
    this.slots = new Slots(capacity);
  }

  /** Records one query and its reply (undefined: none was sent). This runs per query: it only writes into the ring. */
  record(msg: Buffer, reply: Buffer | undefined, replySize: number, transport: 'udp' | 'tcp', address: string | undefined, port: number | undefined, micros: number, fault = 0): void {
    const end = msg.length >= 12 && msg.readUInt16BE(4) > 0 ? qnameEnd(msg) : -1;
    if (end < 0 || end + 2 > msg.length || end - 12 > NAME_ROOM) return;
    const hasReply = reply !== undefined && reply.length >= 12;
    const slot = this.next;
    const slots = this.slots;
    slots.at[slot] = Date.now();
    slots.micros[slot] = micros;
    slots.qtype[slot] = msg.readUInt16BE(end);
    slots.flags[slot] = hasReply ? reply.readUInt16BE(2) : -1;
    slots.answers[slot] = hasReply ? reply.readUInt16BE(6) : 0;
    slots.port[slot] = port ?? 0;
    slots.tcp[slot] = transport === 'tcp' ? 1 : 0;
    slots.address[slot] = address;
    slots.nameLength[slot] = end - 12;
    slots.fault[slot] = fault;
    msg.copy(slots.names, slot * NAME_ROOM, 12, end);
    this.next = (slot + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
    if (this.listeners.size) {
      const record = recordOf(slots.entry(slot));
      const parsed = parseQuery(msg);
      const query: ParsedQuery | undefined = parsed.ok ? parsed.query : undefined;
      const line = logLine(record, { id: msg.readUInt16BE(0), size: msg.length, dnssecOk: query?.edns?.dnssecOk ?? false, bufsize: query?.edns?.udpSize ?? 512, flags: hasReply ? replyFlags(reply) : '', replySize });
      for (const listener of this.listeners) listener(record, line);
    }
  }

  /** Oldest first (newest last), filtered. */
  list(filter: QueryFilter = {}): QueryRecord[] {
    const out: QueryRecord[] = [];
    for (let i = 0; i < this.size; i++) {
      const slot = (this.next - this.size + i + this.capacity) % this.capacity;
      if (filter.since !== undefined && this.slots.at[slot]! < filter.since) continue;
      const record = recordOf(this.slots.entry(slot));
      if (matchesFilter(record, filter)) out.push(record);
    }
    return out;
  }

  clear(): void {
    this.slots.address.fill(undefined);
    this.next = 0;
    this.size = 0;
  }

  /** Each new record (and its CoreDNS log line) until the returned function is called. */
  follow(listener: (record: QueryRecord, line: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/**
 * The CoreDNS `log` plugin's default format (plugin/log, CommonLogFormat):
 * {remote}:{port} - {>id} "{type} {class} {name} {proto} {size} {>do} {>bufsize}" {rcode} {>rflags} {rsize} {duration}
 */
export function logLine(record: QueryRecord, facts: LineFacts): string {
  const seconds = (record.latencyMicros / 1e6).toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
  return `[INFO] ${record.client} - ${facts.id} "${record.type} IN ${record.name} ${record.transport} ${facts.size} ${facts.dnssecOk} ${facts.bufsize}" ${record.rcode} ${facts.flags} ${facts.replySize} ${seconds}s`;
}
