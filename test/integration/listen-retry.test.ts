// Port 0 gives UDP and TCP one port: UDP takes a free one, and when its TCP
// twin is taken the pair is tried again elsewhere. In a network namespace made
// for this test, the system hands out only ports 40000 and 40001, and 40000 is
// held for TCP, so every UDP bind to 40000 (about one in two) must be retried.
// Once startCluster resolves, and again once close() has, no socket of a lost
// try or of the closed cluster is left: the process holds only what it owns.

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cannotIsolate } from '../support/netns.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const reason = cannotIsolate(['--net']);
if (reason) console.warn(`listen-retry: skipped: ${reason}`);

const RUNS = 20;

/** Starts and closes RUNS DNS-only clusters and prints, for each, its port and the servers the process holds. */
const SCRIPT = `
  const net = require('node:net');
  const { startCluster } = require('headless-dns');
  const held = (except) => process._getActiveHandles().filter((h) => h instanceof net.Server && h !== except).map((s) => s.address()?.port ?? null);
  const blocker = net.createServer().listen({ port: 40000, host: '127.0.0.1' }, async () => {
    const runs = [];
    for (let i = 0; i < ${RUNS}; i++) {
      const cluster = await startCluster({ api: false });
      const whileUp = held(blocker);
      await cluster.close();
      runs.push({ port: cluster.dns.port, whileUp, afterClose: held(blocker) });
    }
    blocker.close();
    console.log(JSON.stringify(runs));
  });`;

describe.skipIf(reason !== undefined)('port 0 when the TCP twin of a UDP port is taken', () => {
  it('retries on another port and leaves no socket of the lost try or of a closed cluster', () => {
    const shell = `ip link set lo up && echo '40000 40001' > /proc/sys/net/ipv4/ip_local_port_range && exec node -e "$0"`;
    const out = execFileSync('unshare', ['--net', 'sh', '-c', shell, SCRIPT], { cwd: ROOT, timeout: 30_000 }).toString();
    const runs = JSON.parse(out) as Array<{ port: number; whileUp: Array<number | null>; afterClose: Array<number | null> }>;
    expect(runs).toHaveLength(RUNS);
    // 40000's TCP is held, so only 40001 can be had by both; one in two UDP binds got 40000 first (2^-20 that none did).
    for (const run of runs) expect(run).toEqual({ port: 40001, whileUp: [40001], afterClose: [] });
  });
});
