// A DNS client independent of our wire code: queries built and replies decoded
// with dns2's Packet, sent over plain dgram / net sockets.

import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { Packet } from 'dns2';
import type { Sections } from './zone.js';

export interface QueryOptions {
  /** Advertise EDNS(0) with this UDP size. */
  edns?: number;
  id?: number;
  recursionDesired?: boolean;
  timeoutMs?: number;
}

export function buildQueryPacket(name: string, type: string, options: QueryOptions = {}): Buffer {
  const packet = new Packet();
  packet.header.id = options.id ?? Math.floor(Math.random() * 0xffff);
  packet.header.rd = options.recursionDesired === false ? 0 : 1;
  const question = { name, type: (Packet.TYPE as Record<string, number>)[type] ?? Number(type.replace('TYPE', '')), class: Packet.CLASS.IN };
  packet.questions.push(question as unknown as (typeof packet.questions)[number]);
  if (options.edns) packet.additionals.push(Packet.Resource.EDNS([]) as never);
  const buffer = packet.toBuffer();
  if (options.edns) {
    // dns2 writes its own default payload size; set the one asked for (the OPT class field).
    buffer.writeUInt16BE(options.edns, buffer.length - 11 + 3);
  }
  return buffer;
}

export function udpExchange(port: number, message: Buffer, host = '127.0.0.1', timeoutMs = 2000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('udp timeout'));
    }, timeoutMs);
    socket.on('message', (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    });
    socket.send(message, port, host);
  });
}

export function tcpExchange(port: number, message: Buffer, host = '127.0.0.1', timeoutMs = 2000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('tcp timeout'));
    }, timeoutMs);
    socket.on('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(message.length);
      socket.write(Buffer.concat([length, message]));
    });
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(received.subarray(2, 2 + received.readUInt16BE(0)));
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

type Decoded = Record<string, unknown> & { name: string; type: number; ttl: number; class: number };

function fq(name: unknown): string {
  const text = String(name);
  return text.endsWith('.') ? text : `${text}.`;
}

/** One decoded record as zone text. */
export function recordText(r: Decoded): string {
  const type = Packet.typeName(r.type);
  const head = `${fq(r.name)} ${r.ttl} IN ${type}`;
  switch (type) {
    case 'A':
    case 'AAAA':
      return `${head} ${String(r.address)}`;
    case 'SRV':
      return `${head} ${String(r.priority)} ${String(r.weight)} ${String(r.port)} ${fq(r.target)}`;
    case 'PTR':
    case 'CNAME':
      return `${head} ${fq(r.domain)}`;
    case 'NS':
      return `${head} ${fq(r.ns)}`;
    case 'TXT':
      return `${head} ${(r.data as string[]).map((s) => JSON.stringify(s)).join(' ')}`;
    case 'SOA':
      return `${head} ${fq(r.primary)} ${fq(r.admin)} ${String(r.serial)} ${String(r.refresh)} ${String(r.retry)} ${String(r.expiration)} ${String(r.minimum)}`;
    default:
      return `${head} ?`;
  }
}

export interface DecodedReply extends Sections {
  header: { id: number; aa: number; tc: number; rd: number; ra: number; qr: number; rcode: number };
  question: { name: string; type: number }[];
  opt: boolean;
  errors: number;
}

export function decodeReply(reply: Buffer): DecodedReply {
  const packet = Packet.parse(reply);
  const records = (list: unknown[]): Decoded[] => list as Decoded[];
  const additional = records(packet.additionals);
  return {
    header: packet.header as unknown as DecodedReply['header'],
    question: packet.questions as unknown as DecodedReply['question'],
    rcode: RCODES[packet.header.rcode & 0xf] ?? String(packet.header.rcode),
    answer: records(packet.answers).map(recordText),
    authority: records(packet.authorities).map(recordText),
    additional: additional.filter((r) => r.type !== Packet.TYPE.EDNS).map(recordText),
    opt: additional.some((r) => r.type === Packet.TYPE.EDNS),
    errors: packet.errors.length,
  };
}

export async function ask(
  port: number,
  name: string,
  type: string,
  transport: 'udp' | 'tcp',
  options: QueryOptions = {},
): Promise<DecodedReply> {
  const query = buildQueryPacket(name, type, options);
  const reply = transport === 'udp' ? await udpExchange(port, query) : await tcpExchange(port, query);
  return decodeReply(reply);
}
