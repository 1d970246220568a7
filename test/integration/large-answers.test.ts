// Answers larger than a DNS message, and UDP replies larger than the UDP cap.
//
// A DNS message is at most 65,535 bytes (TCP's 16-bit length). A headless
// Service of ~700 members has an SRV answer (with its glue) larger than that;
// encoding it used to throw, which stopped the rest of that change from being
// prepared: old answers kept being served, or SERVFAIL. CoreDNS cuts such a
// reply to the whole records that fit 64 KiB and sets TC, over TCP too
// (request.Scrub → miekg/dns Msg.Truncate). Over UDP the reply is cut to the
// client's EDNS size, which is itself capped at 1232 bytes by default (CoreDNS's
// bufsize plugin, DNS Flag Day 2020), so a 60-byte query cannot draw kilobytes.

import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/cluster.js';
import type { EndpointSlice, Pod, Service, StatefulSet } from '../../src/model/types.js';
import { dig, hasDig } from '../support/dig.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { type DecodedReply, buildQueryPacket, decodeReply, tcpExchange, udpExchange } from '../support/wire-client.js';

const MAX_MESSAGE = 65535;
const KUBIA = 'kubia.default.svc.cluster.local';
const TC = 0x0200;

/** A headless Service without a selector and its slices (500 endpoints each): no pods, so 5,000 members are quick to make. */
function headless(name: string, count: number): (Service | EndpointSlice)[] {
  const service: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { clusterIP: 'None', ports: [{ name: 'peer', port: 7000 }] } };
  const slices: EndpointSlice[] = [];
  for (let first = 0; first < count; first += 500) {
    slices.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-${first / 500}`, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'peer', port: 7000, protocol: 'TCP' }],
      endpoints: Array.from({ length: Math.min(500, count - first) }, (_, j) => {
        const i = first + j;
        return { addresses: [`10.3.${Math.floor(i / 250)}.${(i % 250) + 1}`], hostname: `${name}-${i}` };
      }),
    });
  }
  return [service, ...slices];
}

interface Exchange {
  bytes: Buffer;
  reply: DecodedReply;
}

async function query(port: number, name: string, type: string, transport: 'udp' | 'tcp', edns?: number): Promise<Exchange> {
  const message = buildQueryPacket(name, type, edns ? { edns } : {});
  const bytes = transport === 'udp' ? await udpExchange(port, message) : await tcpExchange(port, message, '127.0.0.1', 10_000);
  return { bytes, reply: decodeReply(bytes) };
}

const field = (record: string, index: number): string => record.split(' ')[index]!;

/** Every SRV target and every glue record is a real member (name → IP), glue only for targets in the answer, nothing twice. */
function expectConsistentSrv(reply: DecodedReply, members: Map<string, string>): void {
  const targets = reply.answer.map((rr) => field(rr, 7));
  expect(new Set(targets).size).toBe(targets.length);
  for (const target of targets) expect(members.has(target), `${target} is a member`).toBe(true);
  const inAnswer = new Set(targets);
  const glued = reply.additional.map((rr) => field(rr, 0));
  expect(new Set(glued).size).toBe(glued.length);
  for (const rr of reply.additional) {
    expect(inAnswer.has(field(rr, 0)), `glue ${rr} belongs to a target in the answer`).toBe(true);
    expect(field(rr, 4)).toBe(members.get(field(rr, 0)));
  }
}

/** Ready members of a StatefulSet as SRV target → pod IP. */
function membersOf(cluster: StartedCluster, set: string): Map<string, string> {
  const members = new Map<string, string>();
  for (const name of cluster.readyMembers(set)) {
    const pod = cluster.get('Pod', name) as Pod;
    members.set(`${name}.${set}.default.svc.cluster.local.`, pod.status!.podIP!);
  }
  return members;
}

describe('answers larger than a DNS message (5,000 and 1,000 endpoints)', () => {
  let cluster: StartedCluster;
  const logs: string[] = [];
  const huge = new Map<string, string>();
  beforeAll(async () => {
    cluster = await startCluster({ log: (line) => logs.push(line) });
    cluster.apply(headless('huge', 5000));
    cluster.apply(headless('big', 1000));
    for (let i = 0; i < 5000; i++) huge.set(`huge-${i}.huge.default.svc.cluster.local.`, `10.3.${Math.floor(i / 250)}.${(i % 250) + 1}`);
  }, 60_000);
  afterAll(() => cluster.close());

  it('over TCP, A of 5,000 members: NOERROR, TC, as many whole records as fit 65,535 bytes, each a member', async () => {
    for (const edns of [undefined, 4096]) {
      const { bytes, reply } = await query(cluster.dns.port, 'huge.default.svc.cluster.local', 'A', 'tcp', edns);
      expect(reply.rcode).toBe('NOERROR');
      expect(reply.errors).toBe(0);
      expect(reply.header.tc).toBe(1);
      expect(bytes.length).toBeLessThanOrEqual(MAX_MESSAGE);
      // Each A record is 16 bytes (owner compressed to the question): one more would not fit.
      expect(MAX_MESSAGE - bytes.length).toBeLessThan(16);
      const addresses = new Set(huge.values());
      for (const rr of reply.answer) expect(addresses.has(field(rr, 4))).toBe(true);
      expect(new Set(reply.answer).size).toBe(reply.answer.length);
      expect(reply.answer.length).toBeGreaterThan(4000);
    }
  });

  it('over TCP, SRV of 5,000 members: the SRV records that fit and no glue (answer section first)', async () => {
    const { bytes, reply } = await query(cluster.dns.port, 'huge.default.svc.cluster.local', 'SRV', 'tcp');
    expect(reply.rcode).toBe('NOERROR');
    expect(reply.header.tc).toBe(1);
    expect(bytes.length).toBeLessThanOrEqual(MAX_MESSAGE);
    // An SRV record here is 2 + 10 + 6 + its target (41-44 bytes, never compressed): no room for another.
    expect(MAX_MESSAGE - bytes.length).toBeLessThan(2 + 10 + 6 + 41);
    expect(reply.answer.length).toBeGreaterThan(1000);
    expect(reply.additional).toEqual([]);
    expectConsistentSrv(reply, huge);
  });

  it('over TCP, SRV of 1,000 members: every SRV record, then the glue that fits, consistent with them', async () => {
    const members = new Map<string, string>();
    for (let i = 0; i < 1000; i++) members.set(`big-${i}.big.default.svc.cluster.local.`, `10.3.${Math.floor(i / 250)}.${(i % 250) + 1}`);
    const { bytes, reply } = await query(cluster.dns.port, '_peer._tcp.big.default.svc.cluster.local', 'SRV', 'tcp');
    expect(reply.rcode).toBe('NOERROR');
    expect(reply.header.tc).toBe(1);
    expect(reply.answer).toHaveLength(1000);
    expect(reply.additional.length).toBeGreaterThan(0);
    expect(reply.additional.length).toBeLessThan(1000);
    expect(bytes.length).toBeLessThanOrEqual(MAX_MESSAGE);
    // The next glue record (owner at most 42 bytes + 14) would not fit.
    expect(MAX_MESSAGE - bytes.length).toBeLessThan(42 + 14);
    expectConsistentSrv(reply, members);
  });

  it('over UDP, even asking for 65,535 bytes: a prefix within the 1,232-byte cap, TC set, NOERROR', async () => {
    for (const type of ['A', 'SRV']) {
      const { bytes, reply } = await query(cluster.dns.port, 'huge.default.svc.cluster.local', type, 'udp', 65535);
      expect(reply.rcode).toBe('NOERROR');
      expect(reply.header.tc).toBe(1);
      expect(bytes.length).toBeLessThanOrEqual(1232);
      expect(reply.answer.length).toBeGreaterThan(0);
      if (type === 'SRV') expectConsistentSrv(reply, huge);
    }
  });

  it('member names and PTR of the 5,000 are answered', async () => {
    const member = await query(cluster.dns.port, 'huge-4999.huge.default.svc.cluster.local', 'A', 'udp');
    expect(member.reply.answer).toEqual(['huge-4999.huge.default.svc.cluster.local. 30 IN A 10.3.19.250']);
    const ptr = await query(cluster.dns.port, '250.19.3.10.in-addr.arpa', 'PTR', 'udp');
    expect(ptr.reply.answer).toEqual(['250.19.3.10.in-addr.arpa. 30 IN PTR huge-4999.huge.default.svc.cluster.local.']);
  });

  it('nothing failed to prepare', () => {
    expect(logs.filter((line) => line.includes('could not prepare'))).toEqual([]);
  });

  it('Node\'s resolver (UDP, TC, then TCP) takes the cut answer', async () => {
    const addresses = await cluster.resolver({ timeout: 5000 }).resolve4('huge.default.svc.cluster.local');
    expect(addresses.length).toBeGreaterThan(4000);
    expect(addresses.every((ip) => ip.startsWith('10.3.'))).toBe(true);
  });

  it.runIf(hasDig)('dig +tcp gets the same cut answer as the wire client', async () => {
    const viaDig = await dig(cluster.dns.port, 'huge.default.svc.cluster.local', 'A', ['+tcp']);
    const { reply } = await query(cluster.dns.port, 'huge.default.svc.cluster.local', 'A', 'tcp', 1232);
    expect(viaDig.rcode).toBe('NOERROR');
    expect(viaDig.flags).toContain('tc');
    // dig's query carries a cookie, echoed in our OPT: a record or so fewer may fit.
    expect(Math.abs(viaDig.answer.length - reply.answer.length)).toBeLessThanOrEqual(2);
    const srv = await dig(cluster.dns.port, '_peer._tcp.big.default.svc.cluster.local', 'SRV', ['+tcp']);
    expect(srv.rcode).toBe('NOERROR');
    expect(srv.answer).toHaveLength(1000);
  });
});

describe('a StatefulSet scaled past 64 KiB of answer', () => {
  let cluster: StartedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ manifests: [KUBIA_EXAMPLE] });
  });
  afterAll(() => cluster.close());

  it('scaling 2 → 700 updates A, SRV and member names, and a deleted member leaves A, SRV and PTR', async () => {
    const before = await query(cluster.dns.port, KUBIA, 'SRV', 'tcp');
    expect(before.reply.answer).toHaveLength(2);

    cluster.scale('kubia', 700);
    await cluster.waitForReadyMembers('kubia', 700);
    let members = membersOf(cluster, 'kubia');
    expect(members.size).toBe(700);
    const a = await query(cluster.dns.port, KUBIA, 'A', 'tcp');
    expect(a.reply.header.tc).toBe(0);
    expect(a.reply.answer.map((rr) => field(rr, 4)).sort()).toEqual([...members.values()].sort());
    const srv = await query(cluster.dns.port, KUBIA, 'SRV', 'tcp');
    expect(srv.reply.rcode).toBe('NOERROR');
    // 700 SRV records fit; their glue does not all fit too.
    expect(srv.reply.answer).toHaveLength(700);
    expect(srv.reply.header.tc).toBe(1);
    expect(srv.bytes.length).toBeLessThanOrEqual(MAX_MESSAGE);
    expectConsistentSrv(srv.reply, members);
    expect((await query(cluster.dns.port, `kubia-699.${KUBIA}`, 'A', 'udp')).reply.answer).toHaveLength(1);

    // Replaced under the same name with a new IP: the old IP is gone from A and PTR, the glue has the new one.
    const oldIp = members.get(`kubia-3.${KUBIA}.`)!;
    cluster.deletePod('kubia-3');
    await cluster.waitForReadyMembers('kubia', 700);
    members = membersOf(cluster, 'kubia');
    const newIp = members.get(`kubia-3.${KUBIA}.`)!;
    expect(newIp).not.toBe(oldIp);
    const afterA = (await query(cluster.dns.port, KUBIA, 'A', 'tcp')).reply.answer.map((rr) => field(rr, 4));
    expect(afterA).not.toContain(oldIp);
    expect(afterA).toContain(newIp);
    expect((await query(cluster.dns.port, `kubia-3.${KUBIA}`, 'A', 'udp')).reply.answer).toEqual([`kubia-3.${KUBIA}. 30 IN A ${newIp}`]);
    const reversed = (ip: string): string => `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
    expect((await query(cluster.dns.port, reversed(oldIp), 'PTR', 'udp')).reply.rcode).toBe('NXDOMAIN');
    expect((await query(cluster.dns.port, reversed(newIp), 'PTR', 'udp')).reply.answer).toEqual([`${reversed(newIp)}. 30 IN PTR kubia-3.${KUBIA}.`]);
    const afterSrv = await query(cluster.dns.port, KUBIA, 'SRV', 'tcp');
    expectConsistentSrv(afterSrv.reply, members);

    // Terminating (a grace period): out of SRV, A and PTR at once.
    const leaving = members.get(`kubia-5.${KUBIA}.`)!;
    cluster.deletePod('kubia-5', { gracePeriodSeconds: 600 });
    const srvWhileLeaving = await query(cluster.dns.port, KUBIA, 'SRV', 'tcp');
    expect(srvWhileLeaving.reply.answer).toHaveLength(699);
    expect(srvWhileLeaving.reply.answer.map((rr) => field(rr, 7))).not.toContain(`kubia-5.${KUBIA}.`);
    expect((await query(cluster.dns.port, KUBIA, 'A', 'tcp')).reply.answer.map((rr) => field(rr, 4))).not.toContain(leaving);
    expect((await query(cluster.dns.port, reversed(leaving), 'PTR', 'udp')).reply.rcode).toBe('NXDOMAIN');
  });
});

describe('replicas: 700 from a manifest', () => {
  let dir: string;
  let cluster: StartedCluster;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'large-answers-'));
    const set: StatefulSet = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'wide-ring' },
      spec: {
        serviceName: 'wide-ring',
        replicas: 700,
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: { app: 'wide' } },
        template: { metadata: { labels: { app: 'wide' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
      },
    };
    // With 9-letter names, 700 SRV records and their glue take more than 64 KiB.
    const service: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'wide-ring' }, spec: { clusterIP: 'None', selector: { app: 'wide' }, ports: [{ name: 'http', port: 80 }] } };
    writeFileSync(join(dir, 'wide.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [service, set] }));
    cluster = await startCluster({ manifests: [dir] });
  });
  afterAll(async () => {
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers NOERROR with the members over UDP and TCP, not SERVFAIL', async () => {
    const members = membersOf(cluster, 'wide-ring');
    expect(members.size).toBe(700);
    for (const transport of ['udp', 'tcp'] as const) {
      const srv = await query(cluster.dns.port, 'wide-ring.default.svc.cluster.local', 'SRV', transport, 1232);
      expect(srv.reply.rcode).toBe('NOERROR');
      expect(srv.reply.header.tc).toBe(1);
      expectConsistentSrv(srv.reply, members);
      if (transport === 'tcp') expect(srv.reply.answer).toHaveLength(700);
    }
  });
});

describe('UDP replies are capped (amplification)', () => {
  let cluster: StartedCluster;
  let roomy: StartedCluster;
  const BIG = 'big.default.svc.cluster.local';
  beforeAll(async () => {
    cluster = await startCluster({});
    cluster.apply(headless('big', 100));
    roomy = await startCluster({ udpMaxSize: 4096 });
    roomy.apply(headless('big', 100));
  });
  afterAll(async () => {
    await cluster.close();
    await roomy.close();
  });

  it('an EDNS 65535 query for a 100-member SRV gets at most 1,232 bytes with TC, and an OPT advertising 1232', async () => {
    const query = buildQueryPacket(BIG, 'SRV', { edns: 65535 });
    const reply = await udpExchange(cluster.dns.port, query);
    // Before the cap: 7,650 bytes for this 60-odd byte query.
    expect(reply.length).toBeLessThanOrEqual(1232);
    expect(reply.readUInt16BE(2) & TC).toBe(TC);
    const decoded = decodeReply(reply);
    expect(decoded.opt).toBe(true);
    expect(decoded.answer.length).toBeGreaterThan(0);
    // The OPT record (no options) is the last 11 bytes; its class is the advertised size.
    expect(reply.readUInt16BE(reply.length - 11 + 3)).toBe(1232);
    // A smaller advertised size is kept, and echoed.
    const small = await udpExchange(cluster.dns.port, buildQueryPacket(BIG, 'SRV', { edns: 800 }));
    expect(small.length).toBeLessThanOrEqual(800);
    expect(small.readUInt16BE(small.length - 11 + 3)).toBe(800);
  });

  it('the same query over TCP gets the whole answer', async () => {
    const { reply } = await query(cluster.dns.port, BIG, 'SRV', 'tcp', 65535);
    expect(reply.header.tc).toBe(0);
    expect(reply.answer).toHaveLength(100);
    expect(reply.additional).toHaveLength(100);
  });

  it('udpMaxSize raises the cap up to what the query asked', async () => {
    const reply = await udpExchange(roomy.dns.port, buildQueryPacket(BIG, 'SRV', { edns: 65535 }));
    expect(reply.length).toBeLessThanOrEqual(4096);
    expect(reply.length).toBeGreaterThan(1232);
    expect(reply.readUInt16BE(2) & TC).toBe(TC);
    expect(reply.readUInt16BE(reply.length - 11 + 3)).toBe(4096);
  });

  // dig 9.18 sends its default 1232 for +bufsize of 32768 or more (the wire client above asks for 65535): 32767 is the most it asks.
  it.runIf(hasDig)('dig +bufsize=32767 gets TC over UDP, retries over TCP and gets the whole answer', async () => {
    const result = await dig(cluster.dns.port, BIG, 'SRV', ['+bufsize=32767']);
    expect(result.raw).toContain('Truncated, retrying in TCP mode');
    expect(result.rcode).toBe('NOERROR');
    expect(result.answer).toHaveLength(100);
    expect(result.additional).toHaveLength(100);
    const udpOnly = await dig(cluster.dns.port, BIG, 'SRV', ['+bufsize=32767', '+ignore', '+qr']);
    expect(udpOnly.raw).toContain('udp: 32767');
    expect(udpOnly.flags).toContain('tc');
    const received = /MSG SIZE {2}rcvd: (\d+)/.exec(udpOnly.raw);
    expect(Number(received?.[1])).toBeLessThanOrEqual(1232);
    // The reply's OPT advertises our size, not the query's.
    expect(udpOnly.raw.split(';; Got answer:')[1]).toContain('udp: 1232');
  });
});

describe('relayed queries keep to the UDP cap', () => {
  let cluster: StartedCluster;
  const upstream = createSocket('udp4');
  const advertised: number[] = [];
  beforeAll(async () => {
    // An upstream that answers every query with 3,000 bytes, whatever size was asked (as a careless one might).
    upstream.on('message', (query, peer) => {
      advertised.push(query.readUInt16BE(query.length - 11 + 3));
      const reply = Buffer.concat([query, Buffer.alloc(3000)]);
      reply.writeUInt16BE(query.readUInt16BE(2) | 0x8000, 2);
      upstream.send(reply, peer.port, peer.address);
    });
    await new Promise<void>((resolve) => upstream.bind(0, '127.0.0.1', resolve));
    cluster = await startCluster({ upstream: `127.0.0.1:${upstream.address().port}` });
  });
  afterAll(async () => {
    await cluster.close();
    upstream.close();
  });

  it('asks the upstream with the capped size, and sends a too-large reply back as TC alone', async () => {
    const reply = await udpExchange(cluster.dns.port, buildQueryPacket('example.com', 'A', { edns: 65535 }));
    expect(advertised).toEqual([1232]);
    expect(reply.length).toBeLessThanOrEqual(1232);
    expect(reply.readUInt16BE(2) & TC).toBe(TC);
    expect(decodeReply(reply).answer).toEqual([]);
  });
});
