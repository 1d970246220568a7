// What each DNS query asked and got, kept in a bounded ring when the log is on
// (`serve --log-queries`, `startCluster({ queryLog: true })`): time, client,
// transport, the name as asked, type, rcode, answer count, truncation and
// latency. Off, nothing here runs: the responder is not given a log.

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
  /** The fault that applied, if any (faults are not in this build: always null). */
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

/** A question name as the client sent it (case kept), dotted, with the trailing dot. */
function askedName(msg: Buffer, query: ParsedQuery): string {
  let out = '';
  let offset = 12;
  while (offset < query.qnameEnd - 1) {
    const len = msg[offset]!;
    for (let i = offset + 1; i <= offset + len; i++) {
      const byte = msg[i]!;
      if (byte === 0x2e || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
      else if (byte < 0x21 || byte > 0x7e) out += `\\${String(byte).padStart(3, '0')}`;
      else out += String.fromCharCode(byte);
    }
    out += '.';
    offset += len + 1;
  }
  return out || '.';
}

function replyFlags(head: Buffer): string {
  const flags: string[] = [];
  if (head[2]! & 0x80) flags.push('qr');
  if (head[2]! & 0x04) flags.push('aa');
  if (head[2]! & 0x02) flags.push('tc');
  if (head[2]! & 0x01) flags.push('rd');
  if (head[3]! & 0x80) flags.push('ra');
  return flags.join(',');
}

export class QueryLog {
  private readonly ring: (QueryRecord | undefined)[];
  private next = 0;
  private size = 0;
  private readonly listeners = new Set<(record: QueryRecord, line: string) => void>();

  constructor(readonly capacity = QUERY_LOG_CAPACITY) {
    this.ring = new Array<QueryRecord | undefined>(capacity);
  }

  /** Records one query and its reply (undefined: none was sent). */
  record(msg: Buffer, reply: Buffer | undefined, replySize: number, transport: 'udp' | 'tcp', address: string | undefined, port: number | undefined, micros: number): void {
    const parsed = parseQuery(msg);
    if (!parsed.ok) return;
    const query = parsed.query;
    const record: QueryRecord = {
      time: new Date().toISOString(),
      client: `${address?.includes(':') ? `[${address}]` : address ?? '?'}:${port ?? 0}`,
      transport,
      name: askedName(msg, query),
      type: typeName(query.qtype),
      rcode: reply && reply.length >= 12 ? rcodeName(reply[3]! & 0xf) : 'NONE',
      answers: reply && reply.length >= 12 ? reply.readUInt16BE(6) : 0,
      truncated: reply !== undefined && reply.length >= 12 && (reply[2]! & 0x02) !== 0,
      latencyMicros: Math.round(micros),
      fault: null,
    };
    this.ring[this.next] = record;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
    if (this.listeners.size) {
      const line = logLine(record, { id: query.id, size: msg.length, dnssecOk: query.edns?.dnssecOk ?? false, bufsize: query.edns?.udpSize ?? 512, flags: reply ? replyFlags(reply) : '', replySize });
      for (const listener of this.listeners) listener(record, line);
    }
  }

  /** Oldest first (newest last), filtered. */
  list(filter: { name?: string; type?: string; rcode?: string; since?: number } = {}): QueryRecord[] {
    const out: QueryRecord[] = [];
    for (let i = 0; i < this.size; i++) {
      const record = this.ring[(this.next - this.size + i + this.capacity) % this.capacity]!;
      if (filter.name && !record.name.toLowerCase().includes(filter.name.toLowerCase())) continue;
      if (filter.type && record.type !== filter.type.toUpperCase()) continue;
      if (filter.rcode && record.rcode !== filter.rcode.toUpperCase()) continue;
      if (filter.since !== undefined && Date.parse(record.time) < filter.since) continue;
      out.push(record);
    }
    return out;
  }

  clear(): void {
    this.ring.fill(undefined);
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
