// What each DNS query asked and got, kept in a bounded ring when the log is on
// (`serve --log-queries`, `startCluster({ queryLog: true })`): time, client,
// transport, the name as asked, type, rcode, answer count, truncation and
// latency, and the fault rule that applied. Off, nothing here runs: the responder is not given a log.

import { QTYPE, RCODE } from './constants.js';
import { LineBuffer } from './linebuffer.js';

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

export const QUERY_LOG_CAPACITY = 10_000;

const TYPE_NAMES = new Map<number, string>(Object.entries(QTYPE).map(([name, code]) => [code, name]));
const RCODE_NAMES = new Map<number, string>(Object.entries(RCODE).map(([name, code]) => [code, name]));
const typeName = (code: number): string => TYPE_NAMES.get(code) ?? `TYPE${code}`;
const rcodeName = (code: number): string => RCODE_NAMES.get(code) ?? `RCODE${code}`;

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

/**
 * Two bytes big-endian. Buffer's readUInt16BE checks its argument on every
 * call, a third of what recording a query cost; the callers here check bounds.
 */
function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
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

/** Past a name at `offset` (labels, ending in a root label or a pointer), or -1. */
function skipName(msg: Buffer, offset: number): number {
  while (offset < msg.length) {
    const len = msg[offset]!;
    if (len === 0) return offset + 1;
    if ((len & 0xc0) === 0xc0) return offset + 2;
    if (len & 0xc0) return -1;
    offset += len + 1;
  }
  return -1;
}

/**
 * The query's EDNS for the log line: the OPT record's UDP size, plus 0x10000
 * when DO is set; -1 without one. As miekg/dns's IsEdns0, the last OPT of the
 * additional section counts. A scan of the records, not a parse: it runs per query.
 */
function ednsOf(msg: Buffer, afterQuestion: number): number {
  const additional = u16(msg, 10);
  if (additional === 0) return -1;
  let offset = afterQuestion;
  // Questions after the first (a name, a type and a class), then answers and authority.
  for (let i = 1; i < u16(msg, 4) && offset >= 0; i++) {
    offset = skipName(msg, offset);
    if (offset >= 0) offset += 4;
  }
  const skipped = u16(msg, 6) + u16(msg, 8);
  let found = -1;
  for (let i = 0; i < skipped + additional; i++) {
    offset = offset < 0 ? -1 : skipName(msg, offset);
    if (offset < 0 || offset + 10 > msg.length) return found;
    if (i >= skipped && u16(msg, offset) === QTYPE.OPT) found = u16(msg, offset + 2) | (msg[offset + 6]! & 0x80 ? 0x10000 : 0);
    offset += 10 + u16(msg, offset + 8);
  }
  return found;
}

/** Scratch for nameOf(): records are made off the answer path, one at a time. */
const nameScratch = new LineBuffer();

/** A question name (wire labels and the root label) as dig prints it: the lines' escaping, as a string. */
function nameOf(qname: Uint8Array): string {
  nameScratch.name(qname, 0, qname.length - 1);
  return nameScratch.take();
}

/** The longest question name (RFC 1035: 255 octets). */
const NAME_MAX = 255;
/**
 * Room for a name in a slot: a member's name under its Service is about 45
 * octets, and a longer name (up to NAME_MAX) is kept beside the ring. With
 * room for 255 in every slot the ring was 3.2 MB, for a cache to hold while
 * queries are answered; at 128 bytes a slot it is 1.3 MB. In profiles of the
 * bench's TCP mix the log's share of the CPU went from 12.0% to 11.4%.
 */
const NAME_ROOM = 64;

/**
 * A slot's bytes: its numbers (offsets below), then room for the name. A
 * query's fields sit together, so recording one touches two cache lines; an
 * array per field touched one line in each of fifteen, and under load those
 * were misses.
 */
const STRIDE = 64 + NAME_ROOM;
/** Where a slot's name starts, in bytes from the slot's start. */
const NAME_AT = 64;
// Each field's index in its view, from the slot's start in that view's units.
const AT = 0; // f64: when the answer went (ms since the epoch)
const MICROS = 1; // f64: latency
const FAULT = 4; // u32: the fault rule's number, 0 for none
const REPLY_SIZE = 5; // u32
const FLAGS = 6; // i32: the reply's header bytes 2-3, -1 for no reply
const EDNS = 7; // i32: ednsOf()
const QTYPE_AT = 16; // u16
const ANSWERS = 17; // u16
const PORT = 18; // u16
const NAME_LENGTH = 19; // u16
const ID = 20; // u16
const SIZE = 21; // u16: the query's size
const TCP = 44; // u8: 1 over TCP

/**
 * The ring, in one buffer allocated once: recording a query writes numbers
 * and copies its name's bytes into its slot, and allocates nothing, so a busy
 * log makes no garbage (objects kept for 10,000 queries would be promoted and
 * collected again and again).
 */
class Slots {
  readonly f64: Float64Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly u16: Uint16Array;
  readonly bytes: Uint8Array;
  readonly address: (string | undefined)[];
  /** Names longer than NAME_ROOM, by slot (the slot's NAME_LENGTH says which to read). */
  readonly long: (Uint8Array | undefined)[];

  constructor(readonly capacity: number) {
    const buffer = new ArrayBuffer(capacity * STRIDE);
    this.f64 = new Float64Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.u16 = new Uint16Array(buffer);
    this.bytes = new Uint8Array(buffer);
    this.address = new Array<string | undefined>(capacity);
    this.long = new Array<Uint8Array | undefined>(capacity).fill(undefined);
  }

  at(slot: number): number {
    return this.f64[slot * (STRIDE / 8) + AT]!;
  }

  entry(slot: number): RawEntry {
    const w2 = slot * (STRIDE / 2);
    const w4 = slot * (STRIDE / 4);
    const name = slot * STRIDE + NAME_AT;
    const length = this.u16[w2 + NAME_LENGTH]!;
    return {
      at: this.f64[slot * (STRIDE / 8) + AT]!,
      address: this.address[slot],
      port: this.u16[w2 + PORT]!,
      transport: this.bytes[slot * STRIDE + TCP] ? 'tcp' : 'udp',
      qname: length <= NAME_ROOM ? this.bytes.slice(name, name + length) : this.long[slot]!.slice(),
      qtype: this.u16[w2 + QTYPE_AT]!,
      flags: this.i32[w4 + FLAGS]!,
      answers: this.u16[w2 + ANSWERS]!,
      micros: this.f64[slot * (STRIDE / 8) + MICROS]!,
      fault: this.u32[w4 + FAULT]!,
    };
  }

  /**
   * The slot as a line of the CoreDNS `log` plugin's default format (plugin/log, CommonLogFormat):
   * {remote}:{port} - {>id} "{type} {class} {name} {proto} {size} {>do} {>bufsize}" {rcode} {>rflags} {rsize} {duration}
   * with {>bufsize} as CoreDNS's request.Size(): 65535 over TCP, at least 512 over UDP.
   * The parts that repeat from query to query (the client address, the type,
   * EDNS, the rcode and flags) are copied as bytes made once (LineSegments).
   */
  writeLine(out: LineBuffer, slot: number, segments: LineSegments): void {
    const w2 = slot * (STRIDE / 2);
    const w4 = slot * (STRIDE / 4);
    out.copy(segments.client(this.address[slot]));
    out.int(this.u16[w2 + PORT]!);
    out.copy(DASH);
    out.int(this.u16[w2 + ID]!);
    out.copy(segments.type(this.u16[w2 + QTYPE_AT]!));
    const length = this.u16[w2 + NAME_LENGTH]!;
    if (length <= NAME_ROOM) out.name(this.bytes, slot * STRIDE + NAME_AT, slot * STRIDE + NAME_AT + length - 1);
    else out.name(this.long[slot]!, 0, length - 1);
    const tcp = this.bytes[slot * STRIDE + TCP] === 1;
    out.copy(tcp ? TCP_TEXT : UDP_TEXT);
    out.int(this.u16[w2 + SIZE]!);
    out.copy(segments.edns(tcp, this.i32[w4 + EDNS]!));
    out.copy(segments.reply(this.i32[w4 + FLAGS]!));
    out.int(this.u32[w4 + REPLY_SIZE]!);
    out.byte(0x20);
    writeSeconds(out, this.f64[slot * (STRIDE / 8) + MICROS]!);
    out.byte(0x73);
  }
}

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const DASH = ascii(' - ');
const TCP_TEXT = ascii(' tcp ');
const UDP_TEXT = ascii(' udp ');

/** Each cache's most entries; past it, it starts again (clients beyond that many cost a Map entry once per run). */
const SEGMENT_ROOM = 4096;

/**
 * The parts of a log line that repeat, as bytes, each made the first time it
 * is seen: a log line is mostly these, and copying them costs less than
 * formatting them again for every query.
 */
class LineSegments {
  private readonly clients = new Map<string | undefined, Uint8Array>();
  /** null until the first line: no address (a string, or undefined for none) equals it. */
  private lastAddress: string | undefined | null = null;
  private lastClient: Uint8Array = EMPTY;
  /** By type code below 256 (every type a query usually asks), then by Map. */
  private readonly commonTypes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(256).fill(undefined);
  private readonly types = new Map<number, Uint8Array>();
  private readonly ednsParts = new Map<number, Uint8Array>();
  private lastEdnsKey = Number.NaN;
  private lastEdns: Uint8Array = EMPTY;
  /** By the bits a reply's part shows (replyIndex), and the last for no reply. */
  private readonly replies: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(REPLY_INDEXES + 1).fill(undefined);

  /**
   * `[INFO] {remote}:`, an IPv6 address in brackets, `?` for none. A client
   * usually asks again and again, so the last one is kept beside the Map.
   */
  client(address: string | undefined): Uint8Array {
    if (address === this.lastAddress) return this.lastClient;
    const bytes = this.clients.get(address) ?? remember(this.clients, address, `[INFO] ${address === undefined ? '?' : address.includes(':') ? `[${address}]` : address}:`);
    this.lastAddress = address;
    this.lastClient = bytes;
    return bytes;
  }

  /** ` "{type} {class} `. */
  type(qtype: number): Uint8Array {
    if (qtype < 256) return this.commonTypes[qtype] ?? (this.commonTypes[qtype] = ascii(typeSegment(qtype)));
    return this.types.get(qtype) ?? remember(this.types, qtype, typeSegment(qtype));
  }

  /** ` {>do} {>bufsize}" ` from the query's EDNS (ednsOf) and its transport. */
  edns(tcp: boolean, edns: number): Uint8Array {
    const key = tcp ? (edns >= 0 && edns & 0x10000 ? -3 : -2) : edns;
    if (key === this.lastEdnsKey) return this.lastEdns;
    const bytes = this.ednsParts.get(key) ?? remember(this.ednsParts, key, ` ${edns >= 0 && (edns & 0x10000) !== 0} ${tcp ? 65535 : Math.max(512, edns >= 0 ? edns & 0xffff : 0)}" `);
    this.lastEdnsKey = key;
    this.lastEdns = bytes;
    return bytes;
  }

  /** `{rcode} {>rflags} ` from the reply's header bytes 2-3; `NONE  ` (empty flags) for no reply. */
  reply(flags: number): Uint8Array {
    const index = flags < 0 ? REPLY_INDEXES : replyIndex(flags);
    return this.replies[index] ?? (this.replies[index] = ascii(flags < 0 ? 'NONE  ' : `${rcodeName(flags & 0xf)} ${flagsText(flags)} `));
  }
}

const EMPTY = new Uint8Array(0);
const typeSegment = (qtype: number): string => ` "${typeName(qtype)} IN `;

/** How many replyIndex() values there are: 4 bits of rcode, 5 of flags. */
const REPLY_INDEXES = 512;

/** What of a reply's header bytes 2-3 its log part shows: the rcode, and qr, aa, tc, rd, ra. */
function replyIndex(flags: number): number {
  return (flags & 0x0f) | (((flags >> 7) & 0x0f) << 4) | (((flags >> 15) & 1) << 8);
}

function remember<K>(cache: Map<K, Uint8Array>, key: K, text: string): Uint8Array {
  if (cache.size >= SEGMENT_ROOM) cache.clear();
  const bytes = ascii(text);
  cache.set(key, bytes);
  return bytes;
}

/** The reply's header flags as CoreDNS's {>rflags} lists them (qr,aa,tc,rd,ra). */
const FLAG_BITS: readonly (readonly [number, string])[] = [
  [0x8000, 'qr'],
  [0x0400, 'aa'],
  [0x0200, 'tc'],
  [0x0100, 'rd'],
  [0x0080, 'ra'],
];

function flagsText(flags: number): string {
  return FLAG_BITS.filter(([bit]) => flags & bit).map(([, text]) => text).join(',');
}

/** Microseconds as seconds to the nanosecond, trailing zeros dropped (0.000118, 1.5, 0). */
function writeSeconds(out: LineBuffer, micros: number): void {
  const nanos = Math.round(micros * 1000);
  const whole = Math.floor(nanos / 1e9);
  // Below 1e9, so integer arithmetic (|0) from here: no floating-point remainder per digit.
  let fraction = (nanos - whole * 1e9) | 0;
  out.int(whole);
  if (fraction === 0) return;
  let digits = 9;
  for (let next = (fraction / 10) | 0; next * 10 === fraction; next = (fraction / 10) | 0) {
    fraction = next;
    digits--;
  }
  out.byte(0x2e);
  out.int(fraction, digits);
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

/**
 * How often followers are given what is new. A write per turn of the event
 * loop (a syscall for every query or two under load) cost a fifth of the QPS;
 * every 50 ms a batch costs little, and a log read by eye or a page shows no lag.
 */
const FOLLOW_EVERY_MS = 50;

/** Queries recorded between two batches beyond the ring's room: a follower is told how many it missed. */
const LOST_LINE = (count: number, capacity: number): string => `[WARNING] headless-dns: ${count} queries not printed: more came in ${FOLLOW_EVERY_MS} ms than the log keeps (${capacity})`;

export class QueryLog {
  private readonly slots: Slots;
  /** Queries recorded since the log was made; the slot of query n is n % capacity. */
  private total = 0;
  private size = 0;
  /** How many of `total` followers have been given. */
  private followed = 0;
  private scheduled = false;
  private readonly recordFollowers = new Set<(records: readonly QueryRecord[]) => void>();
  private readonly lineFollowers = new Set<(lines: string) => void>();
  private readonly byteFollowers = new Set<(chunk: Uint8Array) => void>();
  private lines: LineBuffer | undefined;
  private segments: LineSegments | undefined;
  /** Date.now() - performance.now(), for wallClock(). */
  private clockOffset = Number.NaN;

  constructor(readonly capacity = QUERY_LOG_CAPACITY) {
    this.slots = new Slots(capacity);
  }

  /**
   * Records one query and its reply (undefined: none was sent). This runs per
   * query: it only writes into the ring. Followers are given what is new in a
   * batch every FOLLOW_EVERY_MS, not here.
   */
  record(msg: Buffer, reply: Buffer | undefined, replySize: number, transport: 'udp' | 'tcp', address: string | undefined, port: number | undefined, micros: number, fault = 0, endedAt?: number): void {
    const end = msg.length >= 12 && u16(msg, 4) > 0 ? qnameEnd(msg) : -1;
    if (end < 0 || end + 4 > msg.length || end - 12 > NAME_MAX) return;
    const hasReply = reply !== undefined && reply.length >= 12;
    const slot = this.total % this.capacity;
    const slots = this.slots;
    const w2 = slot * (STRIDE / 2);
    const w4 = slot * (STRIDE / 4);
    const f64 = slot * (STRIDE / 8);
    slots.f64[f64 + AT] = endedAt === undefined ? Date.now() : this.wallClock(endedAt);
    slots.f64[f64 + MICROS] = micros;
    slots.u32[w4 + FAULT] = fault;
    slots.u32[w4 + REPLY_SIZE] = replySize;
    slots.i32[w4 + FLAGS] = hasReply ? u16(reply, 2) : -1;
    slots.i32[w4 + EDNS] = ednsOf(msg, end + 4);
    const u16s = slots.u16;
    u16s[w2 + QTYPE_AT] = u16(msg, end);
    u16s[w2 + ANSWERS] = hasReply ? u16(reply, 6) : 0;
    u16s[w2 + PORT] = port ?? 0;
    u16s[w2 + NAME_LENGTH] = end - 12;
    u16s[w2 + ID] = u16(msg, 0);
    u16s[w2 + SIZE] = msg.length;
    const bytes = slots.bytes;
    bytes[slot * STRIDE + TCP] = transport === 'tcp' ? 1 : 0;
    slots.address[slot] = address;
    // A loop, not msg.copy(): for a name's few dozen bytes the call into C++ costs more.
    if (end - 12 <= NAME_ROOM) {
      for (let from = 12, to = slot * STRIDE + NAME_AT; from < end; from++, to++) bytes[to] = msg[from]!;
      if (slots.long[slot] !== undefined) slots.long[slot] = undefined;
    } else {
      const name = new Uint8Array(end - 12);
      for (let from = 12, to = 0; from < end; from++, to++) name[to] = msg[from]!;
      slots.long[slot] = name;
    }
    this.total++;
    if (this.size < this.capacity) this.size++;
    if (!this.scheduled && (this.recordFollowers.size || this.lineFollowers.size || this.byteFollowers.size)) {
      this.scheduled = true;
      // Unref'd: a log never keeps a process alive; close() gives what is left (flush()).
      setTimeout(this.giveNew, FOLLOW_EVERY_MS).unref();
    }
  }

  /**
   * The wall-clock time of a performance.now() reading: the caller read the
   * monotonic clock for the latency already, and a second clock read per query
   * costs a fifth of recording it. The offset is read again every 1,024 queries,
   * so a wall clock that steps (NTP) is followed within them.
   */
  private wallClock(monotonic: number): number {
    if ((this.total & 1023) === 0 || Number.isNaN(this.clockOffset)) this.clockOffset = Date.now() - performance.now();
    return Math.round(monotonic + this.clockOffset);
  }

  /** Oldest first (newest last), filtered. */
  list(filter: QueryFilter = {}): QueryRecord[] {
    const out: QueryRecord[] = [];
    for (let n = this.total - this.size; n < this.total; n++) {
      const slot = n % this.capacity;
      if (filter.since !== undefined && this.slots.at(slot) < filter.since) continue;
      const record = recordOf(this.slots.entry(slot));
      if (matchesFilter(record, filter)) out.push(record);
    }
    return out;
  }

  /** Gives followers now what they have not been given yet (the cluster's close() calls it). */
  flush(): void {
    if (this.scheduled) this.giveNew();
  }

  /** Empties the ring; what followers have not been given yet, they are given first. */
  clear(): void {
    this.flush();
    this.slots.address.fill(undefined);
    this.slots.long.fill(undefined);
    this.size = 0;
  }

  /** The new records, oldest first, a batch at a time (every FOLLOW_EVERY_MS), until the returned function is called. */
  follow(listener: (records: readonly QueryRecord[]) => void): () => void {
    this.recordFollowers.add(listener);
    return () => this.recordFollowers.delete(listener);
  }

  /**
   * Each new query as a CoreDNS `log` line, a batch of lines a call (joined by
   * newlines, without a last one; every FOLLOW_EVERY_MS), until the returned function is called.
   */
  followLines(print: (lines: string) => void): () => void {
    this.lineFollowers.add(print);
    return () => this.lineFollowers.delete(print);
  }

  /**
   * Each new query as a CoreDNS `log` line, as bytes: a chunk of whole lines,
   * each ending in a newline, a call (every FOLLOW_EVERY_MS; the chunk is the
   * writer's to keep), until the returned function is called. For a stream:
   * no string is made of a batch and encoded again, which followLines() and a
   * stream's write(string) cost about 200 ns a line on the bench's host.
   */
  followBytes(write: (chunk: Uint8Array) => void): () => void {
    this.byteFollowers.add(write);
    return () => this.byteFollowers.delete(write);
  }

  private readonly giveNew = (): void => {
    this.scheduled = false;
    let from = this.followed;
    const to = this.total;
    this.followed = to;
    const lost = to - from - this.capacity;
    if (lost > 0) from += lost;
    if (this.lineFollowers.size || this.byteFollowers.size) {
      const out = (this.lines ??= new LineBuffer());
      const segments = (this.segments ??= new LineSegments());
      // Each line ends in a newline; a batch given as text leaves out the last.
      const flush = (): void => {
        const chunk = out.takeBytes();
        for (const write of this.byteFollowers) write(chunk);
        if (!this.lineFollowers.size) return;
        const text = chunk.toString('latin1', 0, chunk.length - 1);
        for (const print of this.lineFollowers) print(text);
      };
      if (lost > 0) {
        out.text(LOST_LINE(lost, this.capacity));
        out.byte(0x0a);
      }
      for (let n = from; n < to; n++) {
        this.slots.writeLine(out, n % this.capacity, segments);
        out.byte(0x0a);
        if (out.full) flush();
      }
      if (!out.empty) flush();
    }
    if (this.recordFollowers.size && to > from) {
      const records: QueryRecord[] = [];
      for (let n = from; n < to; n++) records.push(recordOf(this.slots.entry(n % this.capacity)));
      for (const listener of this.recordFollowers) listener(records);
    }
  };
}
