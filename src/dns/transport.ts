// UDP and TCP on one port, on dns2's server classes. This is the one file that
// knows dns2's quirks (design.md): we take its sockets but do our own framing,
// because its handlers parse every packet into objects, drop unparsable
// packets without FORMERR, answer responses, cut oversized UDP answers to the
// question alone, and its close() waits out idle TCP clients. Port 0 binds
// UDP first and then TCP on the same number, retrying if that one is taken.
//
// TCP is bounded so no client can take memory or descriptors from the rest:
// a connection whose replies back up stops being read (and is closed past
// tcpMaxQueuedBytes), a message must arrive whole within tcpFrameTimeoutMs of
// its first byte (bytes that trickle in do not reset that clock, as they do
// the idle timer), and at maxTcpConnections a new connection closes the least
// recently used idle one, or is refused while none is idle.

import type { RemoteInfo } from 'node:dgram';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { createRequire } from 'node:module';
import { setImmediate as realSetImmediate } from 'node:timers';
import type { TCPServer as Dns2TcpServer, UDPServer as Dns2UdpServer } from 'dns2';
import { HeadlessDnsError } from '../errors.js';
import { ipFamily } from '../model/ip.js';
import { CLOSE_CONNECTION, type Transport } from './responder.js';
import type { ReplyParts } from './wire.js';

// Only dns2's two socket servers, not its index: that also loads its resolvers
// and DNS-over-HTTPS server (http, https, URL parsing), a third of our cold
// start. dns2's `exports` lists no subpaths, so they are required by file, from
// its own directory.
const requireFromDns2 = createRequire(createRequire(import.meta.url).resolve('dns2/package.json'));
const UDPServer = requireFromDns2('./server/udp.js') as typeof Dns2UdpServer;
const TCPServer = requireFromDns2('./server/tcp.js') as typeof Dns2TcpServer;

/** One message in, its reply out; the client's address and port come along for the query log. */
export type MessageHandler = (msg: Buffer, transport: Transport, address?: string, port?: number) => Buffer | ReplyParts | undefined | Promise<Buffer | undefined>;

export interface TransportOptions {
  /** Idle TCP connections are closed after this long (RFC 7766 §6.2.3). Default 10000. */
  tcpIdleTimeoutMs?: number;
  /**
   * Once the first byte of a TCP message (its length prefix included) has
   * arrived, the whole message must arrive within this long, however steadily
   * its bytes trickle in. Default 2000 (CoreDNS's, miekg/dns's readTimeout).
   */
  tcpFrameTimeoutMs?: number;
  /** Concurrent DNS TCP connections. Default: defaultMaxTcpConnections(). */
  maxTcpConnections?: number;
  /** Unsent reply bytes one TCP connection may have queued before it is closed. Default 1 MiB. */
  tcpMaxQueuedBytes?: number;
  log?: (message: string) => void;
}

export const TCP_DEFAULTS = {
  idleTimeoutMs: 10_000,
  frameTimeoutMs: 2_000,
  maxQueuedBytes: 1024 * 1024,
  /** The most connections the default allows, however many descriptors there are. */
  maxConnections: 1000,
} as const;

/**
 * A connection stops being read (and the rest of a chunk already read stops
 * being answered) while this much of its replies is unsent, and resumes once
 * they drain: a client that pipelines queries and never reads costs at most
 * this plus one reply, not memory without end. Replies to one chunk's queries
 * leave in one write up to this much, then the kernel is offered them before
 * more are answered. Above the socket's highWaterMark (16 KiB), so 'drain'
 * follows.
 */
const TCP_PAUSE_BYTES = 64 * 1024;
/** Reading also stops while this many of a connection's queries wait for an upstream. */
const TCP_MAX_IN_FLIGHT = 64;
const PORT_RETRIES = 20;

let openFileLimit: number | null | undefined;

/** The soft RLIMIT_NOFILE (Node raises it to the hard limit at start), where /proc tells it; else null. */
function readOpenFileLimit(): number | null {
  if (openFileLimit !== undefined) return openFileLimit;
  openFileLimit = null;
  try {
    // One small read, once: Node has no getrlimit, and `ulimit -n` in a child costs tens of milliseconds.
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    if (match) openFileLimit = Number(match[1]);
  } catch {
    // Not Linux: no cheap way to ask.
  }
  return openFileLimit;
}

/** The descriptors DNS TCP leaves for the API, UDP and files: min(256, limit / 2), or 256 where the limit is unknown. */
export function descriptorReserve(): number {
  const limit = readOpenFileLimit();
  return limit === null ? 256 : Math.min(256, Math.floor(limit / 2));
}

/**
 * The default cap on concurrent DNS TCP connections: 1000, or fewer where the
 * open-file limit is low, keeping descriptorReserve() descriptors for the API
 * and its watches, UDP, the listeners, files and child processes (a 1024 limit
 * gives 768). Where the limit cannot be read (not Linux), 1000.
 */
export function defaultMaxTcpConnections(): number {
  const limit = readOpenFileLimit();
  if (limit === null) return TCP_DEFAULTS.maxConnections;
  return Math.max(1, Math.min(TCP_DEFAULTS.maxConnections, limit - descriptorReserve()));
}

/** What the TCP side holds and has shed; counters run from listen(). */
export interface TcpStats {
  /** Open DNS TCP connections. */
  connections: number;
  /** Reply bytes written but not yet taken by the kernel, summed over connections. */
  queuedBytes: number;
  /** The most one connection has had queued as a reply was added, counted only from 64 KiB (where reading pauses) up; 0 below. */
  peakQueuedBytes: number;
  /** Connections not being read now, until their replies drain. */
  paused: number;
  /** Connections closed: idle past the idle timeout; a message not whole within the frame timeout; replies queued past the cap. */
  closedIdle: number;
  closedFrameTimeout: number;
  closedQueueFull: number;
  /** Idle connections closed to make room for a new one at the connection cap, and new ones refused because none was idle. */
  evicted: number;
  refused: number;
}

class UdpFrontEnd extends UDPServer {
  private readonly onMessage: MessageHandler;

  constructor(family: 4 | 6, onMessage: MessageHandler, log: (message: string) => void) {
    super({ type: family === 6 ? 'udp6' : 'udp4' });
    this.onMessage = onMessage;
    // Logged once bound: a failed bind is listen()'s LISTEN_FAILED, not a second line.
    this.once('listening', () => this.on('error', (error: Error) => log(`dns udp: ${error.message}`)));
  }

  override handle(data: Buffer, rinfo: RemoteInfo): void {
    const reply = this.onMessage(data, 'udp', rinfo.address, rinfo.port);
    if (reply instanceof Promise) {
      void reply.then((r) => r && this.reply(r, rinfo));
    } else if (reply) {
      // Parts are only asked for over TCP; joined here all the same rather than lost.
      this.reply(Buffer.isBuffer(reply) ? reply : Buffer.concat(reply), rinfo);
    }
  }

  private reply(message: Buffer, rinfo: RemoteInfo): void {
    // No callback: one less allocation per query. A send that fails (rare on
    // an unconnected socket) is reported through the socket's error listener.
    this.send(message, rinfo.port, rinfo.address);
  }
}

interface TcpLimits {
  idleMs: number;
  frameMs: number;
  maxConnections: number;
  maxQueuedBytes: number;
}

/**
 * One DNS TCP connection: RFC 7766 framing and pipelining, FORMERR through the
 * handler, backpressure, and the state the frame deadline and the connection
 * cap look at.
 */
class TcpConnection {
  /** Order of last activity, for closing the least recently used idle connection at the cap. */
  lastActive: number;
  /**
   * The message being reassembled, allocated once its length is known, and
   * how much of it has come: each chunk is copied in once, where joining
   * every chunk onto what came before cost O(n²) for a message sent a byte
   * at a time (0.2-0.4 s of CPU for 64 KiB). At most 64 KiB a connection,
   * for at most the frame timeout.
   */
  private frame: Buffer | undefined = undefined;
  private filled = 0;
  /** The first byte of a length prefix split between chunks; -1 when none. */
  private head = -1;
  /** performance.now() when the first byte of the message being reassembled came; 0 when none is. */
  frameStartedAt = 0;
  /** Queries waiting for an upstream. */
  private inFlight = 0;
  private peerEnded = false;
  /** Not being read until replies drain (or upstream queries come back); `backlog` is the unparsed rest of the chunk being answered. */
  stalled = false;
  private backlog: Buffer | undefined = undefined;
  private awaitingDrain = false;
  private closed = false;

  constructor(
    readonly socket: Socket,
    private readonly front: TcpFrontEnd,
  ) {
    this.lastActive = ++front.activity;
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', () => this.close());
    socket.on('close', () => front.dnsConnections.delete(this));
    socket.setNoDelay(true);
    socket.setTimeout(front.limits.idleMs, () => {
      front.stats.closedIdle++;
      this.close();
    });
  }

  /** Nothing half read, nothing being answered, nothing unsent: closing it loses no query. */
  isIdle(): boolean {
    return this.frame === undefined && this.head < 0 && this.inFlight === 0 && !this.stalled && this.socket.writableLength === 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stalled = true;
    this.backlog = undefined;
    this.frame = undefined;
    this.front.dnsConnections.delete(this);
    this.socket.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.lastActive = ++this.front.activity;
    if (this.stalled) {
      // Not expected once paused; kept in order all the same.
      if (!this.closed) this.backlog = this.backlog ? Buffer.concat([this.backlog, chunk]) : chunk;
      return;
    }
    this.consume(chunk);
  };

  private readonly onEnd = (): void => {
    this.peerEnded = true;
    this.endIfDone();
  };

  /** Answers every whole message in a chunk; replies to one chunk's queries leave in one write (writev), not one syscall each. */
  private consume(chunk: Buffer): void {
    const socket = this.socket;
    const end = chunk.length;
    let at = 0;
    socket.cork();
    if (this.frame !== undefined || this.head >= 0) at = this.continueFrame(chunk);
    while (!this.stalled && end - at >= 2) {
      const length = chunk.readUInt16BE(at);
      if (end - at - 2 < length) break;
      this.dispatch(chunk.subarray(at + 2, at + 2 + length));
      at += 2 + length;
    }
    if (at < end) {
      if (this.stalled) {
        if (!this.closed) this.backlog = chunk.subarray(at);
      } else {
        this.frameStartedAt = performance.now();
        if (end - at === 1) {
          this.head = chunk[at]!;
        } else {
          const frame = Buffer.allocUnsafe(chunk.readUInt16BE(at));
          this.filled = chunk.copy(frame, 0, at + 2);
          this.frame = frame;
        }
      }
    }
    socket.uncork();
  }

  /** Adds the start of a chunk to the message being reassembled; returns where the rest of the chunk begins. */
  private continueFrame(chunk: Buffer): number {
    let at = 0;
    if (this.frame === undefined) {
      const length = (this.head << 8) | chunk[0]!;
      this.head = -1;
      at = 1;
      if (chunk.length - 1 >= length) {
        this.frameStartedAt = 0;
        this.dispatch(chunk.subarray(1, 1 + length));
        return 1 + length;
      }
      this.frame = Buffer.allocUnsafe(length);
      this.filled = 0;
    }
    const frame = this.frame;
    const copied = chunk.copy(frame, this.filled, at);
    this.filled += copied;
    if (this.filled < frame.length) return chunk.length;
    this.frame = undefined;
    this.frameStartedAt = 0;
    this.dispatch(frame);
    return at + copied;
  }

  private dispatch(msg: Buffer): void {
    const reply = this.front.onMessage(msg, 'tcp', this.socket.remoteAddress, this.socket.remotePort);
    // A tcpClose fault: the connection goes unanswered.
    if (reply === CLOSE_CONNECTION) return void this.socket.destroy();
    if (reply instanceof Promise) {
      this.inFlight++;
      void reply.then(this.onLateReply, this.onLateFailure);
      if (this.inFlight >= TCP_MAX_IN_FLIGHT) this.stall();
    } else if (reply) {
      this.write(reply);
    }
  }

  private readonly onLateReply = (reply: Buffer | undefined): void => {
    this.inFlight--;
    if (reply === CLOSE_CONNECTION) return void this.socket.destroy();
    if (reply) this.write(reply);
    this.afterLate();
  };

  private readonly onLateFailure = (): void => {
    this.inFlight--;
    this.afterLate();
  };

  private afterLate(): void {
    if (this.stalled) this.tryResume();
    else this.endIfDone();
  }

  private write(reply: Buffer | ReplyParts): void {
    const socket = this.socket;
    if (this.closed || !socket.writable) return;
    // The length prefix and the reply go out together (one writev), without copying the reply into a frame.
    const parts = Buffer.isBuffer(reply) ? undefined : reply;
    let length = 0;
    if (parts) for (const part of parts) length += part.length;
    else length = (reply as Buffer).length;
    const prefix = Buffer.allocUnsafe(2);
    prefix.writeUInt16BE(length, 0);
    socket.cork();
    socket.write(prefix);
    if (parts) for (const part of parts) socket.write(part);
    else socket.write(reply as Buffer);
    socket.uncork();
    const queued = socket.writableLength;
    if (queued >= TCP_PAUSE_BYTES) this.backedUp(queued);
  }

  private backedUp(queued: number): void {
    const socket = this.socket;
    if (socket.writableCorked === 1) {
      // Replies to one chunk's queries are corked: hand what has piled up to
      // the kernel first, and stop reading only if it cannot take it (a
      // reading client's socket usually can, and then answering goes on).
      socket.uncork();
      queued = socket.writableLength;
      socket.cork();
      if (queued < TCP_PAUSE_BYTES) return;
    }
    const stats = this.front.stats;
    if (queued > stats.peakQueuedBytes) stats.peakQueuedBytes = queued;
    if (queued > this.front.limits.maxQueuedBytes) {
      // Only replies that come late (from an upstream) can pile up this far: reading stopped at TCP_PAUSE_BYTES.
      stats.closedQueueFull++;
      this.close();
      return;
    }
    this.stall();
  }

  private stall(): void {
    if (this.stalled) return;
    this.stalled = true;
    this.socket.pause();
    this.waitForDrain();
  }

  private waitForDrain(): boolean {
    if (!this.socket.writableNeedDrain) return false;
    if (!this.awaitingDrain) {
      this.awaitingDrain = true;
      this.socket.once('drain', this.onDrain);
    }
    return true;
  }

  private readonly onDrain = (): void => {
    this.awaitingDrain = false;
    this.tryResume();
  };

  private tryResume(): void {
    if (this.closed || this.waitForDrain() || this.inFlight >= TCP_MAX_IN_FLIGHT) return;
    this.stalled = false;
    const backlog = this.backlog;
    if (backlog) {
      this.backlog = undefined;
      this.consume(backlog);
      if (this.stalled) return;
    }
    // The time spent stalled was ours, not the client's.
    if (this.frameStartedAt !== 0) this.frameStartedAt = performance.now();
    this.socket.resume();
    this.endIfDone();
  }

  /** The client half-closed: close our side once every query it sent is answered (dns2 keeps allowHalfOpen). */
  private endIfDone(): void {
    if (this.peerEnded && this.inFlight === 0 && this.backlog === undefined && !this.closed) this.socket.end();
  }
}

class TcpFrontEnd extends TCPServer {
  readonly dnsConnections = new Set<TcpConnection>();
  readonly stats: TcpStats = emptyTcpStats();
  /** Bumped on every connection and chunk: the order in which connections were last active. */
  activity = 0;
  private sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly onMessage: MessageHandler,
    readonly limits: TcpLimits,
    log: (message: string) => void,
  ) {
    super();
    this.once('listening', () => this.on('error', (error: Error) => log(`dns tcp: ${error.message}`)));
  }

  /** Replaces dns2's connection handler; at the connection cap makes room first (RFC 7766 §6.2.3: servers may close idle connections). */
  handle(socket: Socket): void {
    if (this.dnsConnections.size >= this.limits.maxConnections && !this.closeLeastRecentlyUsedIdle()) {
      // Every connection is mid-query: the frame and idle timeouts free one soon.
      this.stats.refused++;
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    this.dnsConnections.add(new TcpConnection(socket, this));
  }

  private closeLeastRecentlyUsedIdle(): boolean {
    let oldest: TcpConnection | undefined;
    for (const connection of this.dnsConnections) {
      if ((oldest === undefined || connection.lastActive < oldest.lastActive) && connection.isIdle()) oldest = connection;
    }
    if (!oldest) return false;
    this.stats.evicted++;
    oldest.close();
    return true;
  }

  /**
   * The frame deadline, checked for every connection a few times per timeout
   * rather than by a timer per message: a message closes between frameMs and
   * 1.25 × frameMs (at most + 1 s) after its first byte.
   */
  startSweeping(): void {
    const every = Math.min(1000, Math.max(20, this.limits.frameMs / 4));
    this.sweeper = setInterval(() => {
      const now = performance.now();
      for (const connection of this.dnsConnections) {
        if (connection.frameStartedAt !== 0 && !connection.stalled && now - connection.frameStartedAt > this.limits.frameMs) {
          this.stats.closedFrameTimeout++;
          connection.close();
        }
      }
    }, every);
    this.sweeper.unref();
  }

  stopSweeping(): void {
    clearInterval(this.sweeper);
  }

  snapshot(): TcpStats {
    let queuedBytes = 0;
    let paused = 0;
    for (const connection of this.dnsConnections) {
      queuedBytes += connection.socket.writableLength;
      if (connection.stalled) paused++;
    }
    return { ...this.stats, connections: this.dnsConnections.size, queuedBytes, paused };
  }
}

function emptyTcpStats(): TcpStats {
  return { connections: 0, queuedBytes: 0, peakQueuedBytes: 0, paused: 0, closedIdle: 0, closedFrameTimeout: 0, closedQueueFull: 0, evicted: 0, refused: 0 };
}

export interface BoundAddress {
  host: string;
  port: number;
}

function bindUdp(socket: UdpFrontEnd, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    socket.once('error', onError);
    socket.bind({ port, address: host, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket.address().port);
    });
  });
}

function listenTcp(server: TcpFrontEnd, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen({ port, host, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * A socket that failed to listen, or was closed, emits its event before libuv
 * has released its handle: that happens in the loop's close phase, which
 * comes after this turn's immediates and before the next turn's. Waiting for
 * the second keeps a try that lost its port, or a closed server, from still
 * showing among the process's handles once listen() or close() has resolved.
 * node:timers' own setImmediate: a test's fake timers (which replace the
 * global one) must not hold close() up.
 */
function closedHandlesGone(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(() => realSetImmediate(resolve)));
}

function closeUdp(socket: UdpFrontEnd): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

export class DnsTransport {
  private udp?: UdpFrontEnd;
  private tcp?: TcpFrontEnd;
  private readonly log: (message: string) => void;
  private readonly limits: TcpLimits;

  constructor(
    private readonly onMessage: MessageHandler,
    options: TransportOptions = {},
  ) {
    this.log = options.log ?? (() => undefined);
    this.limits = {
      idleMs: options.tcpIdleTimeoutMs ?? TCP_DEFAULTS.idleTimeoutMs,
      frameMs: options.tcpFrameTimeoutMs ?? TCP_DEFAULTS.frameTimeoutMs,
      maxConnections: options.maxTcpConnections ?? defaultMaxTcpConnections(),
      maxQueuedBytes: options.tcpMaxQueuedBytes ?? TCP_DEFAULTS.maxQueuedBytes,
    };
  }

  /** The TCP side's connections, queued reply bytes and what it has shed (zeros before listen()). */
  tcpStats(): TcpStats {
    return this.tcp ? this.tcp.snapshot() : emptyTcpStats();
  }

  async listen(host: string, port: number): Promise<BoundAddress> {
    const family = ipFamily(host);
    if (!family) throw new HeadlessDnsError('INVALID_OPTION', `--host ${host} is not an IP address`);
    const attempts = port === 0 ? PORT_RETRIES : 1;
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const udp = new UdpFrontEnd(family, this.onMessage, this.log);
      let bound: number;
      try {
        bound = await bindUdp(udp, host, port);
      } catch (error) {
        await closeUdp(udp);
        throw new HeadlessDnsError('LISTEN_FAILED', `cannot listen on ${host}:${port}/udp: ${(error as Error).message}`);
      }
      const tcp = new TcpFrontEnd(this.onMessage, this.limits, this.log);
      try {
        await listenTcp(tcp, host, bound);
        this.udp = udp;
        this.tcp = tcp;
        tcp.startSweeping();
        return { host, port: (tcp.address() as AddressInfo).port };
      } catch (error) {
        lastError = error as Error;
        await closeUdp(udp);
        await closedHandlesGone();
      }
    }
    throw new HeadlessDnsError('LISTEN_FAILED', `cannot listen on ${host}:${port}/tcp: ${lastError?.message ?? 'unknown error'}`);
  }

  /** Closes both sockets and every TCP connection at once, without waiting for idle clients. */
  async close(): Promise<void> {
    const { udp, tcp } = this;
    this.udp = undefined;
    this.tcp = undefined;
    const waits: Promise<void>[] = [];
    if (udp) waits.push(closeUdp(udp));
    if (tcp) {
      tcp.stopSweeping();
      waits.push(new Promise((resolve) => tcp.close(() => resolve())));
      for (const connection of tcp.dnsConnections) connection.close();
    }
    await Promise.all(waits);
    if (waits.length) await closedHandlesGone();
  }
}
