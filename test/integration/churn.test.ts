// Load with churn: queries at full speed while the StatefulSet scales and its
// pods flip readiness and get replaced. Every answer must be a state that
// existed (SRV targets and their glue agree with one moment of the registry),
// and every query must be answered.

import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/index.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { buildQueryPacket, decodeReply } from '../support/wire-client.js';

const KUBIA = 'kubia.default.svc.cluster.local';
const SECONDS = Number(process.env.CHURN_SECONDS ?? 3);

function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

/** The registry's view of the members at one moment: "name=ip" of every ready member. */
function stateOf(cluster: StartedCluster): string {
  return cluster
    .readyMembers('kubia')
    .map((name) => `${name}=${cluster.get('Pod', name)!.status!.podIP}`)
    .join(',');
}

describe('load with churn', () => {
  let cluster: StartedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ manifests: [KUBIA_EXAMPLE] });
  });
  afterAll(() => cluster.close());

  it('every answer is a state that existed, and nothing goes unanswered', async () => {
    const states = new Set<string>([stateOf(cluster)]);
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const pending = new Map<number, string>();
    const seen: string[] = [];
    let sent = 0;
    let received = 0;
    socket.on('message', (reply) => {
      const id = reply.readUInt16BE(0);
      if (!pending.has(id)) return;
      pending.delete(id);
      received++;
      const decoded = decodeReply(reply);
      if (decoded.header.tc) return;
      const glue = new Map(decoded.additional.map((line) => {
        const parts = line.split(' ');
        return [parts[0]!, parts[4]!];
      }));
      const targets = decoded.answer.map((line) => line.split(' ').at(-1)!).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
      seen.push(targets.map((t) => `${t.split('.')[0]}=${glue.get(t) ?? '?'}`).join(','));
    });

    // Like dnsperf: at full speed, but at most 100 queries outstanding.
    let nextId = 1;
    const deadline = Date.now() + SECONDS * 1000;
    const ask = (): void => {
      if (Date.now() >= deadline) return;
      const id = nextId++ & 0xffff;
      pending.set(id, KUBIA);
      socket.send(buildQueryPacket(KUBIA, 'SRV', { id }), cluster.dns.port, '127.0.0.1');
      sent++;
    };
    socket.on('message', () => ask());
    for (let i = 0; i < 100; i++) ask();
    const querying = new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
    const random = prng(42);
    let operations = 0;
    const churning = (async () => {
      while (Date.now() < deadline) {
        const members = cluster.list('Pod', { labelSelector: 'app=kubia' }).map((p) => p.metadata.name);
        const pick = members[Math.floor(random() * members.length)];
        const what = random();
        if (what < 0.3) cluster.scale('kubia', 1 + Math.floor(random() * 5));
        else if (what < 0.7 && pick) cluster.setReady(pick, random() < 0.5);
        else if (pick) cluster.deletePod(pick);
        operations++;
        states.add(stateOf(cluster));
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await Promise.all([querying, churning]);
    for (let waited = 0; pending.size > 0 && waited < 2000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    socket.close();

    expect(operations).toBeGreaterThan(50);
    expect(sent).toBeGreaterThan(1000);
    expect(received).toBe(sent);
    const impossible = seen.filter((s) => !states.has(s));
    expect(impossible).toEqual([]);
    expect(new Set(seen).size).toBeGreaterThan(5);
  });
});
