// Malformed and unusual messages, as a resolver (or an attacker) might send them.

import { createServer } from 'node:net';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/cluster.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { ask, buildQueryPacket, decodeReply, tcpExchange, udpExchange } from '../support/wire-client.js';

let cluster: StartedCluster;
beforeAll(async () => {
  // UDP replies up to 4096 bytes (default 1232), so a 40-member SRV set comes whole over UDP to compare with TCP.
  cluster = await startCluster({ manifests: [KUBIA_EXAMPLE], udpMaxSize: 4096 });
});
afterAll(() => cluster.close());

const header = (id: number, flags: number, qd: number, an = 0, ns = 0, ar = 0): Buffer => {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(flags, 2);
  b.writeUInt16BE(qd, 4);
  b.writeUInt16BE(an, 6);
  b.writeUInt16BE(ns, 8);
  b.writeUInt16BE(ar, 10);
  return b;
};

const rcodeOf = (reply: Buffer): number => reply.readUInt16BE(2) & 0xf;

async function noReply(message: Buffer): Promise<boolean> {
  try {
    await udpExchange(cluster.dns.port, message, '127.0.0.1', 300);
    return false;
  } catch {
    return true;
  }
}

describe('malformed messages', () => {
  it('FORMERR for a readable header whose question is cut short, with the ID echoed', async () => {
    const reply = await udpExchange(cluster.dns.port, Buffer.concat([header(0x1234, 0x0100, 1), Buffer.from([5, 0x6b, 0x75])]));
    expect(reply.readUInt16BE(0)).toBe(0x1234);
    expect(rcodeOf(reply)).toBe(1);
    expect(reply.readUInt16BE(2) & 0x8000).toBe(0x8000);
  });

  it('FORMERR for no question, two questions, or a compressed question name', async () => {
    expect(rcodeOf(await udpExchange(cluster.dns.port, header(1, 0, 0)))).toBe(1);
    const q = buildQueryPacket('kubia.default.svc.cluster.local', 'A').subarray(12);
    expect(rcodeOf(await udpExchange(cluster.dns.port, Buffer.concat([header(2, 0, 2), q, q])))).toBe(1);
    expect(rcodeOf(await udpExchange(cluster.dns.port, Buffer.concat([header(3, 0, 1), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])])))).toBe(1);
  });

  it('NOTIMP for other opcodes, with the opcode echoed', async () => {
    const query = buildQueryPacket('kubia.default.svc.cluster.local', 'A');
    query.writeUInt16BE(2 << 11, 2);
    const reply = await udpExchange(cluster.dns.port, query);
    expect(rcodeOf(reply)).toBe(4);
    expect((reply.readUInt16BE(2) >> 11) & 0xf).toBe(2);
  });

  it('no answer at all to responses and to packets shorter than a header', async () => {
    const response = buildQueryPacket('kubia.default.svc.cluster.local', 'A');
    response.writeUInt16BE(0x8000, 2);
    expect(await noReply(response)).toBe(true);
    expect(await noReply(Buffer.from([1, 2, 3, 4, 5]))).toBe(true);
  });

  it('BADVERS for EDNS versions other than 0', async () => {
    const query = buildQueryPacket('kubia.default.svc.cluster.local', 'A', { edns: 1232 });
    query.writeUInt8(1, query.length - 11 + 6); // OPT TTL: extended rcode, then version
    const reply = decodeReply(await udpExchange(cluster.dns.port, query));
    expect(reply.header.rcode).toBe(16);
    expect(reply.answer).toEqual([]);
  });

  it('REFUSED for a class other than IN', async () => {
    const query = buildQueryPacket('kubia.default.svc.cluster.local', 'A');
    query.writeUInt16BE(3, query.length - 2); // CHAOS
    expect(rcodeOf(await udpExchange(cluster.dns.port, query))).toBe(5);
  });

  it('OPT is in the reply exactly when it was in the query', async () => {
    expect((await ask(cluster.dns.port, 'kubia.default.svc.cluster.local', 'A', 'udp', { edns: 1232 })).opt).toBe(true);
    expect((await ask(cluster.dns.port, 'kubia.default.svc.cluster.local', 'A', 'udp')).opt).toBe(false);
  });
});

describe('TCP', () => {
  it('answers pipelined queries on one connection, and FORMERR without dropping it', async () => {
    const frames = [
      buildQueryPacket('kubia-0.kubia.default.svc.cluster.local', 'A', { id: 1 }),
      Buffer.concat([header(2, 0, 1), Buffer.from([9, 9])]),
      buildQueryPacket('kubia-1.kubia.default.svc.cluster.local', 'A', { id: 3 }),
    ].map((m) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m]));
    const replies = await new Promise<Buffer[]>((resolve, reject) => {
      const socket = connect({ port: cluster.dns.port, host: '127.0.0.1' });
      let data = Buffer.alloc(0);
      const out: Buffer[] = [];
      socket.on('connect', () => socket.write(Buffer.concat(frames)));
      socket.on('error', reject);
      socket.on('data', (chunk) => {
        data = Buffer.concat([data, chunk]);
        while (data.length >= 2 && data.length >= 2 + data.readUInt16BE(0)) {
          out.push(data.subarray(2, 2 + data.readUInt16BE(0)));
          data = data.subarray(2 + data.readUInt16BE(0));
        }
        if (out.length === 3) {
          socket.destroy();
          resolve(out);
        }
      });
    });
    const byId = new Map(replies.map((r) => [r.readUInt16BE(0), r]));
    expect(decodeReply(byId.get(1)!).answer).toEqual(['kubia-0.kubia.default.svc.cluster.local. 30 IN A 127.10.0.1']);
    expect(rcodeOf(byId.get(2)!)).toBe(1);
    expect(decodeReply(byId.get(3)!).answer).toEqual(['kubia-1.kubia.default.svc.cluster.local. 30 IN A 127.10.0.2']);
  });

  it('close() does not wait for an idle client, and the port can be bound again at once', async () => {
    const own = await startCluster({ manifests: [KUBIA_EXAMPLE] });
    const client = connect({ port: own.dns.port, host: '127.0.0.1' });
    await new Promise((resolve) => client.on('connect', resolve));
    const started = Date.now();
    await own.close();
    await own.close();
    // Far below the 10 s idle timeout dns2's own close() would wait for.
    expect(Date.now() - started).toBeLessThan(5000);
    client.destroy();
    const again = await startCluster({ dnsPort: own.dns.port });
    expect((await tcpExchange(again.dns.port, buildQueryPacket('cluster.local', 'SOA'))).length).toBeGreaterThan(12);
    await again.close();
  });

  it('port 0 gives UDP and TCP the same port', async () => {
    const own = await startCluster({});
    const probe = createServer();
    await expect(new Promise((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(own.dns.port, '127.0.0.1', () => resolve(undefined));
    })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect((await ask(own.dns.port, 'cluster.local', 'SOA', 'udp')).rcode).toBe('NOERROR');
    expect((await ask(own.dns.port, 'cluster.local', 'SOA', 'tcp')).rcode).toBe('NOERROR');
    await own.close();
  });

  it('a taken port is a clear LISTEN_FAILED error', async () => {
    await expect(startCluster({ dnsPort: cluster.dns.port })).rejects.toMatchObject({ code: 'LISTEN_FAILED' });
  });
});

describe('large answers over TCP (records written from where they were prepared)', () => {
  // Each query alone, then all of them pipelined in one write: replies must be
  // the bytes UDP gives for a size limit the whole answer fits.
  const tcpReplies = (port: number, messages: Buffer[]): Promise<Buffer[]> =>
    new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' });
      const replies: Buffer[] = [];
      let received = Buffer.alloc(0);
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        while (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
          replies.push(received.subarray(2, 2 + received.readUInt16BE(0)));
          received = received.subarray(2 + received.readUInt16BE(0));
        }
        if (replies.length === messages.length) {
          socket.destroy();
          resolve(replies);
        }
      });
      const framed = messages.map((m) => {
        const prefix = Buffer.alloc(2);
        prefix.writeUInt16BE(m.length, 0);
        return Buffer.concat([prefix, m]);
      });
      socket.write(Buffer.concat(framed));
    });

  it('are the same bytes as over UDP, in any spelling, with and without EDNS, one at a time and pipelined', async () => {
    cluster.scale('kubia', 40);
    const names = ['kubia.default.svc.cluster.local', '_http._tcp.kubia.default.svc.cluster.local', 'KUBIA.Default.SVC.Cluster.LOCAL'];
    const queries = names.flatMap((name, i) => [
      buildQueryPacket(name, 'SRV', { id: 100 + i }),
      buildQueryPacket(name, 'SRV', { id: 200 + i, edns: 4096 }),
    ]);
    // Over UDP the answer is whole only with EDNS and enough room: compare those with TCP's.
    for (const query of queries.filter((_, i) => i % 2 === 1)) {
      const viaUdp = await udpExchange(cluster.dns.port, query);
      expect(viaUdp.readUInt16BE(2) & 0x0200, 'UDP reply not truncated').toBe(0);
      expect(viaUdp.readUInt16BE(6)).toBe(40);
      const [viaTcp] = await tcpReplies(cluster.dns.port, [query]);
      expect(viaTcp!.equals(viaUdp)).toBe(true);
    }
    const pipelined = await tcpReplies(cluster.dns.port, queries);
    for (let i = 0; i < queries.length; i++) {
      const [alone] = await tcpReplies(cluster.dns.port, [queries[i]!]);
      expect(pipelined[i]!.equals(alone!)).toBe(true);
      const decoded = decodeReply(pipelined[i]!);
      expect(decoded.errors).toBe(0);
      expect(decoded.answer.filter((rr) => rr.includes(' IN SRV '))).toHaveLength(40);
      expect(decoded.additional.filter((rr) => rr.includes(' IN A '))).toHaveLength(40);
    }
    // The query's spelling of the zone is in the SRV targets (semantics §8).
    expect(decodeReply(pipelined[4]!).answer[0]).toMatch(/\.Cluster\.LOCAL\.$/);
    cluster.scale('kubia', 2);
  });
});
