// Stable storage across a restart of the whole cluster (issue 13 item 5): with
// `state`, a member's claim directory is kept beside the state file, so after
// close() and a new start on the same state, the member process that comes back
// finds the data it wrote.

import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { examples, startCluster, type StartedCluster } from '../../src/index.js';
import type { Pod } from '../../src/model/types.js';

const dir = mkdtempSync(join(tmpdir(), 'hdns-local-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function http(host: string, method: string, path: string, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port: 8080, method, path, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function readyIp(cluster: StartedCluster, name: string): Promise<string> {
  const end = Date.now() + 15_000;
  for (;;) {
    const pod = cluster.get('Pod', name) as Pod | undefined;
    const statuses = (pod?.status?.containerStatuses as { ready?: boolean; state?: { running?: unknown } }[] | undefined) ?? [];
    if (pod?.status?.podIP && statuses[0]?.ready && statuses[0].state?.running) return pod.status.podIP;
    if (Date.now() > end) throw new Error(`${name} not ready`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('local members with state', () => {
  it('a member finds its data again after the whole cluster restarts on the same state', async () => {
    const state = join(dir, 'state.jsonl');
    const first = await startCluster({ manifests: [examples.kubiaLocal], state });
    let ip: string;
    try {
      ip = await readyIp(first, 'kubia-0');
      expect(await http(ip, 'POST', '/', 'kept across restarts')).toBe('Data stored on pod kubia-0\n');
    } finally {
      await first.close();
    }
    const second = await startCluster({ manifests: [examples.kubiaLocal], state });
    try {
      const again = await readyIp(second, 'kubia-0');
      // The saved state is the truth: the same pod, the same IP, a new process.
      expect(again).toBe(ip);
      expect(await http(again, 'GET', '/data')).toBe('kept across restarts');
      expect(second.logs('kubia-0')).toContain('Kubia server starting...');
    } finally {
      await second.close();
    }
  }, 60_000);
});
