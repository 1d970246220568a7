// Random and mutated packets over UDP and TCP: the server must never crash and
// must keep answering valid queries correctly. Seeded, so a failure replays.

import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/cluster.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { ask, buildQueryPacket } from '../support/wire-client.js';

function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [
  buildQueryPacket('kubia.default.svc.cluster.local', 'SRV', { edns: 1232 }),
  buildQueryPacket('kubia-0.kubia.default.svc.cluster.local', 'A'),
  buildQueryPacket('10.0.1.10.in-addr.arpa', 'PTR'),
  buildQueryPacket('nope.default.svc.cluster.local', 'AAAA', { edns: 4096 }),
  buildQueryPacket('example.com', 'TXT'),
];

function mutate(random: () => number, base: Buffer): Buffer {
  const out = Buffer.from(base);
  const edits = 1 + Math.floor(random() * 4);
  for (let i = 0; i < edits; i++) {
    const what = random();
    if (what < 0.5) out[Math.floor(random() * out.length)] = Math.floor(random() * 256);
    else if (what < 0.7) return out.subarray(0, Math.floor(random() * out.length));
    else if (what < 0.85) return Buffer.concat([out, Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)))]);
    else out.writeUInt16BE(Math.floor(random() * 65536), 2 * Math.floor(random() * 6));
  }
  return out;
}

function randomPacket(random: () => number): Buffer {
  return Buffer.from(Array.from({ length: Math.floor(random() * 600) }, () => Math.floor(random() * 256)));
}

async function expectHealthy(port: number): Promise<void> {
  for (const transport of ['udp', 'tcp'] as const) {
    // A UDP query can be dropped while the socket's buffer is full of garbage; resolvers retry.
    let reply;
    for (let attempt = 0; !reply; attempt++) {
      try {
        reply = await ask(port, 'kubia.default.svc.cluster.local', 'SRV', transport);
      } catch (error) {
        if (attempt >= 4) throw error;
      }
    }
    expect(reply.rcode).toBe('NOERROR');
    expect(reply.answer).toHaveLength(2);
    expect(reply.additional).toHaveLength(2);
  }
}

// npm test sends 100k UDP packets and 10k TCP frames; npm run soak sends 1M and 100k.
const UDP_PACKETS = Number(process.env.FUZZ_UDP_PACKETS ?? 100_000);
const TCP_CONNECTIONS = Number(process.env.FUZZ_TCP_CONNECTIONS ?? 100);

let cluster: StartedCluster;
beforeAll(async () => {
  cluster = await startCluster({ manifests: [KUBIA_EXAMPLE] });
});
afterAll(() => cluster.close());

describe('fuzz', () => {
  it(`survives ${UDP_PACKETS.toLocaleString('en')} random and mutated UDP packets and keeps answering`, async () => {
    const random = prng(20261122);
    const socket = createSocket('udp4');
    let replies = 0;
    let formerr = 0;
    socket.on('message', (reply) => {
      replies++;
      if ((reply.readUInt16BE(2) & 0xf) === 1) formerr++;
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    for (let i = 0; i < UDP_PACKETS; i++) {
      const packet = random() < 0.5 ? randomPacket(random) : mutate(random, SEEDS[i % SEEDS.length]!);
      socket.send(packet, cluster.dns.port, '127.0.0.1');
      // Let the server drain its socket now and then rather than overflowing the kernel buffer.
      if (i % 200 === 199) await new Promise((resolve) => setImmediate(resolve));
      if (i % 1000 === 999) await new Promise((resolve) => setTimeout(resolve, 1));
      if (i % 25_000 === 24_999) await expectHealthy(cluster.dns.port);
    }
    await expectHealthy(cluster.dns.port);
    socket.close();
    // The packets reached the parser: many got answers, some of them FORMERR.
    expect(replies).toBeGreaterThan(UDP_PACKETS / 10);
    expect(formerr).toBeGreaterThan(UDP_PACKETS / 100);
  });

  it(`survives ${(TCP_CONNECTIONS * 100).toLocaleString('en')} malformed TCP frames (wrong lengths, truncation, oversize, pipelined garbage) and keeps answering`, async () => {
    const random = prng(7);
    for (let c = 0; c < TCP_CONNECTIONS; c++) {
      const socket = connect({ port: cluster.dns.port, host: '127.0.0.1' });
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.on('connect', resolve));
      for (let i = 0; i < 100; i++) {
        const body = random() < 0.5 ? randomPacket(random) : mutate(random, SEEDS[i % SEEDS.length]!);
        const roll = random();
        // Wrong lengths (short and long), the largest length there is, or the true one.
        const declared = roll < 0.15 ? Math.floor(random() * 65536) : roll < 0.2 ? 65535 : roll < 0.25 ? Math.max(0, body.length - 3) : body.length;
        const frame = Buffer.concat([Buffer.from([declared >> 8, declared & 0xff]), body]);
        socket.write(random() < 0.1 ? frame.subarray(0, Math.floor(random() * frame.length)) : frame);
      }
      await new Promise((resolve) => setImmediate(resolve));
      socket.destroy();
    }
    await expectHealthy(cluster.dns.port);
  });
});
