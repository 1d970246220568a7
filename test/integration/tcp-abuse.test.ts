// TCP abuse: a thousand idle connections and slow writers must not delay UDP or
// new TCP clients, and idle connections are closed after the idle timeout.

import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/index.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { ask, buildQueryPacket } from '../support/wire-client.js';

const IDLE_MS = 1500;

describe('TCP abuse', () => {
  let cluster: StartedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ manifests: [KUBIA_EXAMPLE], tcpIdleTimeoutMs: IDLE_MS });
  });
  afterAll(() => cluster.close());

  it('1000 idle connections and 50 slow writers do not delay UDP or new TCP clients; idle ones are closed', async () => {
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = connect({ port: cluster.dns.port, host: '127.0.0.1' });
        socket.on('connect', () => resolve(socket));
        socket.on('error', reject);
      });
    const idle: Socket[] = [];
    for (let i = 0; i < 1000; i++) idle.push(await open());
    let closedByServer = 0;
    for (const socket of idle) socket.on('close', () => closedByServer++);

    const frame = buildQueryPacket('kubia.default.svc.cluster.local', 'SRV');
    const framed = Buffer.concat([Buffer.from([frame.length >> 8, frame.length & 255]), frame]);
    const slow = await Promise.all(Array.from({ length: 50 }, () => open()));
    let slowAnswers = 0;
    for (const socket of slow) socket.on('data', () => slowAnswers++);
    let offset = 0;
    const dribble = setInterval(() => {
      for (const socket of slow) if (offset < framed.length) socket.write(framed.subarray(offset, offset + 1));
      offset++;
    }, 20);

    const started = Date.now();
    for (let i = 0; i < 200; i++) {
      const reply = await ask(cluster.dns.port, 'kubia.default.svc.cluster.local', 'SRV', 'udp');
      expect(reply.answer).toHaveLength(2);
    }
    const udpMs = Date.now() - started;
    const fresh = await ask(cluster.dns.port, 'kubia-0.kubia.default.svc.cluster.local', 'A', 'tcp');
    expect(fresh.answer).toEqual(['kubia-0.kubia.default.svc.cluster.local. 30 IN A 127.10.0.1']);
    // 200 sequential UDP round trips on loopback, with 1050 TCP connections held open.
    expect(udpMs).toBeLessThan(IDLE_MS);

    await new Promise((resolve) => setTimeout(resolve, IDLE_MS + 1000));
    clearInterval(dribble);
    expect(closedByServer).toBe(1000);
    expect(slowAnswers).toBe(50);
    for (const socket of slow) socket.destroy();
  });
});
