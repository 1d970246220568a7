// The --state rule: once the state file holds a state it is the truth, so
// manifests are applied on the first start only and what the user deleted
// stays deleted across restarts; `reapply` applies them again on purpose.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster } from '../../src/cluster.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function stateFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'headless-dns-state-rule-'));
  dirs.push(dir);
  return join(dir, 'state.jsonl');
}

async function start(state: string, reapply = false): Promise<{ cluster: Awaited<ReturnType<typeof startCluster>>; log: string[] }> {
  const log: string[] = [];
  const cluster = await startCluster({ dnsPort: 0, apiPort: 0, manifests: [KUBIA_EXAMPLE], state, reapply, log: (line) => log.push(line) });
  return { cluster, log };
}

describe('--state: the saved state is the truth', () => {
  it('a StatefulSet deleted through the API stays deleted after a restart with the same manifests', async () => {
    const state = stateFile();
    const first = await start(state);
    expect(first.cluster.readyMembers('kubia')).toEqual(['kubia-0', 'kubia-1']);
    const url = `${first.cluster.api.url}/apis/apps/v1/namespaces/default/statefulsets/kubia`;
    expect((await fetch(url, { method: 'DELETE' })).status).toBe(200);
    await first.cluster.close();

    const second = await start(state);
    try {
      expect(second.cluster.get('StatefulSet', 'kubia')).toBeUndefined();
      expect(second.cluster.list('Pod')).toEqual([]);
      // The Service was not deleted, and the state keeps it as it was.
      expect(second.cluster.get('Service', 'kubia')).toBeDefined();
      expect(second.log.join('\n')).toMatch(/the saved state is the truth; \d+ manifest objects not applied/);
      await expect(second.cluster.resolver().resolveSrv('kubia.default.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    } finally {
      await second.cluster.close();
    }
  });

  it('a scale through the API survives a restart (the manifest says 2 replicas)', async () => {
    const state = stateFile();
    const first = await start(state);
    first.cluster.scale('kubia', 3);
    await first.cluster.close();
    const second = await start(state);
    try {
      expect(second.cluster.readyMembers('kubia')).toEqual(['kubia-0', 'kubia-1', 'kubia-2']);
    } finally {
      await second.cluster.close();
    }
  });

  it('reapply applies the manifests again over the saved state', async () => {
    const state = stateFile();
    const first = await start(state);
    first.cluster.scale('kubia', 3);
    await first.cluster.close();
    const second = await start(state, true);
    try {
      expect(second.cluster.readyMembers('kubia')).toEqual(['kubia-0', 'kubia-1']);
      expect(second.log.join('\n')).toMatch(/applying \d+ manifest objects again over the saved state/);
    } finally {
      await second.cluster.close();
    }
  });

  it('an empty state file is a first start: the manifests are applied', async () => {
    const state = stateFile();
    writeFileSync(state, '');
    const { cluster } = await start(state);
    try {
      expect(cluster.readyMembers('kubia')).toEqual(['kubia-0', 'kubia-1']);
    } finally {
      await cluster.close();
    }
  });
});
