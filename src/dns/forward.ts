// Asking an upstream server: relaying out-of-zone queries (--upstream), and
// resolving ExternalName targets outside the zone, as CoreDNS's forward plugin
// would. One socket per exchange keeps IDs from colliding between clients.

import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { ipFamily } from '../model/ip.js';

export interface Upstream {
  host: string;
  port: number;
}

export const UPSTREAM_TIMEOUT_MS = 2000;

export function exchangeUdp(upstream: Upstream, query: Buffer, timeoutMs = UPSTREAM_TIMEOUT_MS): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(ipFamily(upstream.host) === 6 ? 'udp6' : 'udp4');
    const id = query.readUInt16BE(0);
    const done = (error: Error | undefined, reply?: Buffer): void => {
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(reply!);
    };
    const timer = setTimeout(() => done(new Error(`upstream ${upstream.host}:${upstream.port} timed out`)), timeoutMs);
    socket.on('error', (error) => done(error));
    socket.on('message', (reply) => {
      if (reply.length >= 2 && reply.readUInt16BE(0) === id) done(undefined, reply);
    });
    socket.send(query, upstream.port, upstream.host);
  });
}

export function exchangeTcp(upstream: Upstream, query: Buffer, timeoutMs = UPSTREAM_TIMEOUT_MS): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: upstream.host, port: upstream.port });
    let received = Buffer.alloc(0);
    const done = (error: Error | undefined, reply?: Buffer): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(reply!);
    };
    const timer = setTimeout(() => done(new Error(`upstream ${upstream.host}:${upstream.port} timed out`)), timeoutMs);
    socket.on('error', (error) => done(error));
    socket.on('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(query.length);
      socket.write(Buffer.concat([length, query]));
    });
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        done(undefined, received.subarray(2, 2 + received.readUInt16BE(0)));
      }
    });
    socket.on('end', () => done(new Error('upstream closed the connection')));
  });
}
