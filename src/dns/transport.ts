// UDP and TCP on one port, on dns2's server classes. This is the one file that
// knows dns2's quirks (design.md): we take its sockets but do our own framing,
// because its handlers parse every packet into objects, drop unparsable
// packets without FORMERR, answer responses, cut oversized UDP answers to the
// question alone, and its close() waits out idle TCP clients. Port 0 binds
// UDP first and then TCP on the same number, retrying if that one is taken.

import type { RemoteInfo } from 'node:dgram';
import type { AddressInfo, Socket } from 'node:net';
import { TCPServer, UDPServer } from 'dns2';
import { HeadlessDnsError } from '../errors.js';
import { ipFamily } from '../model/ip.js';
import type { Transport } from './responder.js';
import type { ReplyParts } from './wire.js';

export type MessageHandler = (msg: Buffer, transport: Transport) => Buffer | ReplyParts | undefined | Promise<Buffer | undefined>;

export interface TransportOptions {
  /** Idle TCP connections are closed after this long (RFC 7766 §6.2.3). */
  tcpIdleTimeoutMs?: number;
  log?: (message: string) => void;
}

const DEFAULT_TCP_IDLE_MS = 10_000;
const PORT_RETRIES = 20;

class UdpFrontEnd extends UDPServer {
  private readonly onMessage: MessageHandler;

  constructor(family: 4 | 6, onMessage: MessageHandler, log: (message: string) => void) {
    super({ type: family === 6 ? 'udp6' : 'udp4' });
    this.onMessage = onMessage;
    this.on('error', (error: Error) => log(`dns udp: ${error.message}`));
  }

  override handle(data: Buffer, rinfo: RemoteInfo): void {
    const reply = this.onMessage(data, 'udp');
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

class TcpFrontEnd extends TCPServer {
  readonly clients = new Set<Socket>();
  private readonly onMessage: MessageHandler;
  private readonly idleMs: number;

  constructor(onMessage: MessageHandler, idleMs: number, log: (message: string) => void) {
    super();
    this.onMessage = onMessage;
    this.idleMs = idleMs;
    this.on('error', (error: Error) => log(`dns tcp: ${error.message}`));
  }

  /** Replaces dns2's connection handler: RFC 7766 framing, pipelining, FORMERR, idle timeout. */
  handle(socket: Socket): void {
    this.clients.add(socket);
    socket.on('close', () => this.clients.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setNoDelay(true);
    socket.setTimeout(this.idleMs, () => socket.destroy());
    let pending: Buffer = Buffer.alloc(0);
    let inFlight = 0;
    let peerEnded = false;
    const send = (reply: Buffer | ReplyParts | undefined): void => {
      inFlight--;
      if (reply && !socket.destroyed && socket.writable) {
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
      }
      if (peerEnded && inFlight === 0) socket.end();
    };
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      // Replies to pipelined queries of one chunk leave in one write (writev), not one syscall each.
      socket.cork();
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (pending.length < 2 + length) break;
        const msg = pending.subarray(2, 2 + length);
        pending = pending.subarray(2 + length);
        inFlight++;
        const reply = this.onMessage(msg, 'tcp');
        if (reply instanceof Promise) void reply.then(send);
        else send(reply);
      }
      socket.uncork();
    });
    socket.on('end', () => {
      peerEnded = true;
      if (inFlight === 0) socket.end();
    });
  }
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

  constructor(
    private readonly onMessage: MessageHandler,
    private readonly options: TransportOptions = {},
  ) {
    this.log = options.log ?? (() => undefined);
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
      const tcp = new TcpFrontEnd(this.onMessage, this.options.tcpIdleTimeoutMs ?? DEFAULT_TCP_IDLE_MS, this.log);
      try {
        await listenTcp(tcp, host, bound);
        this.udp = udp;
        this.tcp = tcp;
        return { host, port: (tcp.address() as AddressInfo).port };
      } catch (error) {
        lastError = error as Error;
        await closeUdp(udp);
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
      waits.push(new Promise((resolve) => tcp.close(() => resolve())));
      for (const socket of tcp.clients) socket.destroy();
    }
    await Promise.all(waits);
  }
}
