// From query bytes to reply bytes: the prepared answer when there is one,
// otherwise answer() and an encoding made on the spot; out-of-zone queries
// refused or relayed. Transport-agnostic: the transport says which it is, for
// the size limit and the upstream protocol.

import { randomInt } from 'node:crypto';
import type { RecordSource } from '../records/index.js';
import type { RR } from '../records/rr.js';
import { type Reply, answer } from './answer.js';
import { CLASS_IN, RCODE } from './constants.js';
import { type Upstream, exchangeTcp, exchangeUdp } from './forward.js';
import { PreparedAnswers, encodeReply } from './prepared.js';
import type { QueryLog } from './querylog.js';
import type { Faults } from './faults.js';
import {
  type ParsedQuery,
  type ReplyParts,
  UDP_MAX_SIZE_DEFAULT,
  buildQuery,
  capUdpSize,
  parseQuery,
  questionName,
  readUpstreamAnswers,
  renderAnswer,
  renderEmpty,
  renderHeaderError,
  sizeLimit,
} from './wire.js';

export type Transport = 'udp' | 'tcp';

/** What faulted() says when no rule matches: answer as usual. */
const NO_FAULT = Symbol('no fault');

/**
 * Told what each query did, for metrics: transport, the question's type code
 * (-1 for a reply without a question: FORMERR, NOTIMP), the rcode, and the
 * seconds from the query arriving to its reply being ready (upstream time
 * included; -1 when this query was not one of the timed sample). Plain
 * arguments, so that observing allocates nothing per query.
 */
export type QueryObserver = (transport: Transport, qtype: number, rcode: number, seconds: number) => void;

export interface ResponderOptions {
  upstream?: Upstream;
  observe?: QueryObserver;
  /** The largest UDP reply (CoreDNS bufsize): larger advertised EDNS sizes are lowered to it. Default 1232. */
  udpMaxSize?: number;
  /** Record every query here (the query log); without it nothing is recorded and nothing timed for it. */
  queryLog?: QueryLog;
  /** Fault rules for tests; looked at only while one is in force. */
  faults?: Faults;
}

/** A reply that is no reply: the transport closes the TCP connection (a tcpClose fault). */
export const CLOSE_CONNECTION: Buffer = Buffer.alloc(0);

/** One query in this many is timed for the answer-time histogram. */
export const TIMING_SAMPLE = 16;

export class Responder {
  private sinceTimed = TIMING_SAMPLE - 1;
  private readonly udpMaxSize: number;
  /** The number of the fault rule the last query met (0: none), read by the query log right after. */
  private lastFault = 0;

  constructor(
    private readonly source: RecordSource,
    private readonly prepared: PreparedAnswers,
    private readonly options: ResponderOptions = {},
  ) {
    this.udpMaxSize = options.udpMaxSize ?? UDP_MAX_SIZE_DEFAULT;
  }

  /**
   * The reply to a message, undefined when it gets none (responses, runts).
   * Over TCP a large prepared answer comes as parts, to be written in order.
   * Never throws.
   */
  respond(msg: Buffer, transport: Transport, address?: string, port?: number): Buffer | ReplyParts | undefined | Promise<Buffer | undefined> {
    const log = this.options.queryLog;
    if (!log) return this.observedReply(msg, transport);
    const started = performance.now();
    this.lastFault = 0;
    const reply = this.observedReply(msg, transport);
    // Set before any delay: a later query's fault cannot be mistaken for this one's.
    const fault = this.lastFault;
    if (reply instanceof Promise) return reply.then((done) => logged(log, msg, done, transport, address, port, started, fault));
    return logged(log, msg, reply, transport, address, port, started, fault);
  }

  private observedReply(msg: Buffer, transport: Transport): Buffer | ReplyParts | undefined | Promise<Buffer | undefined> {
    const faults = this.options.faults;
    if (faults?.active) {
      const faulted = this.faulted(msg, transport, faults);
      if (faulted !== NO_FAULT) return faulted;
    }
    const observe = this.options.observe;
    if (!observe) return this.reply(msg, transport);
    // Reading the clock twice costs a real share of answering from a prepared
    // answer, so one query in TIMING_SAMPLE is timed (the first one included).
    const timed = ++this.sinceTimed >= TIMING_SAMPLE;
    if (timed) this.sinceTimed = 0;
    const started = timed ? performance.now() : -1;
    const reply = this.reply(msg, transport);
    if (reply instanceof Promise) return reply.then((done) => observed(done, transport, started, observe));
    return observed(reply, transport, started, observe);
  }

  /** The reply under a matching fault rule, or NO_FAULT; the registry is never touched. */
  private faulted(msg: Buffer, transport: Transport, faults: Faults): Buffer | ReplyParts | undefined | Promise<Buffer | undefined> | typeof NO_FAULT {
    const parsed = parseQuery(msg);
    if (!parsed.ok) return NO_FAULT;
    const query = parsed.query;
    const effect = faults.match(questionName(msg, query).replace(/\.$/, ''), query.qtype, transport);
    if (!effect) return NO_FAULT;
    this.lastFault = effect.number;
    const now = (): Buffer | ReplyParts | undefined | Promise<Buffer | undefined> => {
      if (effect.drop) return undefined;
      if (effect.close) return CLOSE_CONNECTION;
      if (effect.rcode !== undefined) return renderEmpty(msg, query, effect.rcode);
      if (effect.truncate) return renderEmpty(msg, query, RCODE.NOERROR, true);
      if (effect.staleSeconds > 0) return this.staleReply(msg, query, transport, Date.now() - effect.staleSeconds * 1000);
      return this.reply(msg, transport);
    };
    if (effect.delayMs <= 0) return now();
    return new Promise((resolve) => setTimeout(() => {
      const reply = now();
      if (reply instanceof Promise) void reply.then(resolve);
      else resolve(reply && !Buffer.isBuffer(reply) ? Buffer.concat(reply) : reply);
    }, effect.delayMs));
  }

  /** The answer from the Services' views as they were at a time; names outside them are answered as now. */
  private staleReply(msg: Buffer, query: ParsedQuery, transport: Transport, time: number): Buffer | ReplyParts | undefined | Promise<Buffer | undefined> {
    const past = this.source.asOf?.(time);
    if (!past || query.qclass !== CLASS_IN || (query.edns && query.edns.version > 0)) return this.reply(msg, transport);
    capUdpSize(query, this.udpMaxSize);
    const name = questionName(msg, query);
    const result = answer({ name, type: query.qtype }, past);
    if (result.kind === 'refused' || result.kind === 'outOfZone' || result.chase) return this.reply(msg, transport);
    return renderAnswer(msg, query, encodeReply(name, result)!, sizeLimit(query, transport));
  }

  private reply(msg: Buffer, transport: Transport): Buffer | ReplyParts | undefined | Promise<Buffer | undefined> {
    let query: ParsedQuery | undefined;
    try {
      const parsed = parseQuery(msg);
      if (!parsed.ok) return parsed.action === 'drop' ? undefined : renderHeaderError(msg, parsed.rcode);
      query = parsed.query;
      // Before anything reads the size: the reply's OPT advertises the capped size too (bufsize rewrites the request).
      const lowered = capUdpSize(query, this.udpMaxSize);
      const result = this.answerQuery(msg, query, transport, lowered);
      if (result instanceof Promise) return result.catch(() => renderEmpty(msg, query!, RCODE.SERVFAIL));
      return result;
    } catch {
      return query ? renderEmpty(msg, query, RCODE.SERVFAIL) : undefined;
    }
  }

  private answerQuery(msg: Buffer, query: ParsedQuery, transport: Transport, lowered: boolean): Buffer | ReplyParts | Promise<Buffer> {
    const limit = sizeLimit(query, transport);
    if (query.edns && query.edns.version > 0) return renderEmpty(msg, query, RCODE.BADVERS);
    if (query.qclass !== CLASS_IN) return renderEmpty(msg, query, RCODE.REFUSED);
    const ready = this.prepared.reply(msg, query, limit, transport === 'tcp');
    if (ready) return ready;

    const name = questionName(msg, query);
    const result = answer({ name, type: query.qtype }, this.source);
    const upstream = this.options.upstream;
    if (result.kind === 'refused') return renderEmpty(msg, query, RCODE.REFUSED);
    if (result.kind === 'outOfZone' || (result.fallthrough && upstream)) {
      if (!upstream) return renderEmpty(msg, query, RCODE.REFUSED);
      return this.relay(msg, query, transport, upstream, lowered, limit);
    }
    if (result.chase && upstream) return this.chase(msg, query, name, result, limit, upstream);
    const prepared = encodeReply(name, result)!;
    this.prepared.remember(query.key, query.qtype, prepared);
    return renderAnswer(msg, query, prepared, limit);
  }

  /**
   * The upstream's reply, as it came. The query goes with the capped size, as
   * CoreDNS forwards the request bufsize rewrote; a UDP reply larger than the
   * cap all the same goes back as TC alone, so relaying never amplifies more
   * than answering does.
   */
  private async relay(msg: Buffer, query: ParsedQuery, transport: Transport, upstream: Upstream, lowered: boolean, limit: number): Promise<Buffer> {
    let ask = msg;
    if (lowered) {
      ask = Buffer.from(msg);
      ask.writeUInt16BE(query.edns!.udpSize, query.edns!.sizeAt);
    }
    if (transport === 'tcp') return exchangeTcp(upstream, ask);
    const reply = await exchangeUdp(upstream, ask);
    return reply.length > limit ? renderEmpty(msg, query, reply.length >= 4 ? reply[3]! & 0xf : RCODE.NOERROR, true) : reply;
  }

  /** An ExternalName outside the zone: the CNAMEs, then whatever the upstream answers (CoreDNS keeps NOERROR). */
  private async chase(
    msg: Buffer,
    query: ParsedQuery,
    name: string,
    result: Reply,
    limit: number,
    upstream: Upstream,
  ): Promise<Buffer> {
    const target = result.chase!;
    let records: RR[] = [];
    let truncated = false;
    try {
      const ask = buildQuery(randomInt(0x10000), target.name, target.type);
      let reply = await exchangeUdp(upstream, ask);
      if (readUpstreamAnswers(reply).truncated) reply = await exchangeTcp(upstream, ask);
      ({ records, truncated } = readUpstreamAnswers(reply));
    } catch {
      // An upstream that fails leaves the CNAME alone, as CoreDNS's forward plugin answering SERVFAIL does.
    }
    const full: Reply = { ...result, answer: [...result.answer, ...records] };
    return renderAnswer(msg, query, encodeReply(name, full, truncated)!, limit);
  }
}

/** Records a query and its reply in the query log (no closure per query on the usual, synchronous path). */
function logged<R extends Buffer | ReplyParts | undefined>(log: QueryLog, msg: Buffer, reply: R, transport: Transport, address: string | undefined, port: number | undefined, started: number, fault: number): R {
  let head: Buffer | undefined;
  let size = 0;
  if (reply) {
    if (Buffer.isBuffer(reply)) {
      head = reply;
      size = reply.length;
    } else {
      head = (reply as ReplyParts)[0];
      for (const part of reply as ReplyParts) size += part.length;
    }
  }
  const ended = performance.now();
  log.record(msg, head, size, transport, address, port, (ended - started) * 1000, fault, ended);
  return reply;
}

/** Tells the observer about a reply; seconds is -1 for a query that was not timed. */
function observed<R extends Buffer | ReplyParts | undefined>(reply: R, transport: Transport, started: number, observe: QueryObserver): R {
  // The header and question are always in the first part.
  const head = reply && !Buffer.isBuffer(reply) ? (reply as ReplyParts)[0] : (reply as Buffer | undefined);
  if (head && head.length >= 12) observe(transport, questionType(head), head[3]! & 0xf, started < 0 ? -1 : (performance.now() - started) / 1000);
  return reply;
}

/** The question type of a reply, read back from its question section. */
function questionType(reply: Buffer): number {
  if (reply.readUInt16BE(4) === 0) return -1;
  let offset = 12;
  while (offset < reply.length && reply[offset]! !== 0) offset += 1 + reply[offset]!;
  return offset + 3 <= reply.length ? reply.readUInt16BE(offset + 1) : -1;
}
