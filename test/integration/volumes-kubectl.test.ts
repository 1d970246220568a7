// The book's kubia StatefulSet keeps its storage (Kubernetes in Action, chapter
// 10), through real kubectl: claims data-kubia-N Bound to volumes on
// directories of this machine, kept over scale down and up, honouring
// persistentVolumeClaimRetentionPolicy, protected while used; DNS checked as it goes.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/cluster.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { hasKubectl, kubectlFor } from '../support/kubectl.js';

const KUBIA = 'kubia.default.svc.cluster.local';

async function srvTargets(cluster: StartedCluster): Promise<string[]> {
  try {
    return (await cluster.resolver().resolveSrv(KUBIA)).map((s) => s.name.replace(`.${KUBIA}`, '')).sort();
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOTFOUND') return [];
    throw error;
  }
}

const claimUid = (cluster: StartedCluster, name: string): string | undefined => cluster.get('PersistentVolumeClaim', name)?.metadata.uid;
const directoryOf = (cluster: StartedCluster, claim: string): string => {
  const volume = cluster.get('PersistentVolumeClaim', claim)?.spec.volumeName;
  return cluster.get('PersistentVolume', volume ?? '')!.spec.hostPath!.path;
};

describe.runIf(hasKubectl)('kubia keeps its storage, through kubectl', () => {
  let cluster: StartedCluster;
  let kubectl: (...args: string[]) => Promise<string>;
  beforeAll(async () => {
    cluster = await startCluster({});
    kubectl = kubectlFor(cluster.api.url);
  });
  afterAll(() => cluster.close());

  it('apply → data-kubia-0 and data-kubia-1 Bound, each to pvc-<uid> on a directory', async () => {
    await kubectl('apply', '-f', KUBIA_EXAMPLE);
    expect(await srvTargets(cluster)).toEqual(['kubia-0', 'kubia-1']);
    const pvc = await kubectl('get', 'pvc');
    expect(pvc.split('\n')[0]).toMatch(/^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE$/);
    for (const i of [0, 1]) {
      const uid = claimUid(cluster, `data-kubia-${i}`)!;
      expect(pvc).toMatch(new RegExp(`data-kubia-${i}\\s+Bound\\s+pvc-${uid}\\s+1Mi\\s+RWO\\s+standard\\s+<unset>\\s+\\d+s`));
    }
    expect(await kubectl('get', 'pvc', '-o', 'wide')).toMatch(/VOLUMEMODE\n[\s\S]*data-kubia-0\s+Bound[\s\S]*Filesystem/);
    const pv = await kubectl('get', 'pv');
    expect(pv.split('\n')[0]).toMatch(/^NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+REASON\s+AGE$/);
    expect(pv).toMatch(new RegExp(`pvc-${claimUid(cluster, 'data-kubia-0')}\\s+1Mi\\s+RWO\\s+Delete\\s+Bound\\s+default/data-kubia-0\\s+standard\\s+<unset>\\s+\\d+s`));
    expect(await kubectl('get', 'pod', 'kubia-0', '-o', 'jsonpath={.spec.volumes[0].persistentVolumeClaim.claimName}')).toBe('data-kubia-0');
    expect(existsSync(directoryOf(cluster, 'data-kubia-0'))).toBe(true);
    expect(await kubectl('get', 'pvc', 'data-kubia-0', '-o', 'jsonpath={.metadata.finalizers}')).toBe('["kubernetes.io/pvc-protection"]');
  });

  it('scale 3 → 2 keeps data-kubia-2 (same uid, same data); 3 again reuses it; a deleted pod finds its data', async () => {
    await kubectl('scale', 'sts', 'kubia', '--replicas=3');
    expect(await srvTargets(cluster)).toEqual(['kubia-0', 'kubia-1', 'kubia-2']);
    const uid = claimUid(cluster, 'data-kubia-2')!;
    writeFileSync(join(directoryOf(cluster, 'data-kubia-2'), 'kubia.txt'), 'written by kubia-2');
    writeFileSync(join(directoryOf(cluster, 'data-kubia-0'), 'kubia.txt'), 'written by kubia-0');
    await kubectl('scale', 'sts', 'kubia', '--replicas=2');
    expect(await srvTargets(cluster)).toEqual(['kubia-0', 'kubia-1']);
    expect(await kubectl('get', 'pvc', 'data-kubia-2')).toMatch(/data-kubia-2\s+Bound/);
    expect(claimUid(cluster, 'data-kubia-2')).toBe(uid);
    await kubectl('scale', 'sts', 'kubia', '--replicas=3');
    expect(await srvTargets(cluster)).toEqual(['kubia-0', 'kubia-1', 'kubia-2']);
    expect(claimUid(cluster, 'data-kubia-2')).toBe(uid);
    expect(readFileSync(join(directoryOf(cluster, 'data-kubia-2'), 'kubia.txt'), 'utf8')).toBe('written by kubia-2');
    expect(await kubectl('delete', 'pod', 'kubia-0')).toContain('pod "kubia-0" deleted');
    expect(await srvTargets(cluster)).toEqual(['kubia-0', 'kubia-1', 'kubia-2']);
    expect(readFileSync(join(directoryOf(cluster, 'data-kubia-0'), 'kubia.txt'), 'utf8')).toBe('written by kubia-0');
  });

  it('delete pvc data-kubia-0 while kubia-0 runs → Terminating until the pod is gone, then a new claim', async () => {
    const before = claimUid(cluster, 'data-kubia-0');
    const dir = directoryOf(cluster, 'data-kubia-0');
    expect(await kubectl('delete', 'pvc', 'data-kubia-0', '--wait=false')).toContain('persistentvolumeclaim "data-kubia-0" deleted');
    expect(await kubectl('get', 'pvc', 'data-kubia-0')).toMatch(/data-kubia-0\s+Terminating\s+pvc-/);
    expect(existsSync(dir)).toBe(true);
    expect(await srvTargets(cluster)).toEqual(['kubia-0', 'kubia-1', 'kubia-2']);
    await kubectl('delete', 'pod', 'kubia-0');
    // The old claim went with the pod, its volume and directory with it; the set made kubia-0 a new claim.
    expect(claimUid(cluster, 'data-kubia-0')).not.toBe(before);
    expect(await kubectl('get', 'pvc', 'data-kubia-0')).toMatch(/data-kubia-0\s+Bound/);
    expect(existsSync(dir)).toBe(false);
    expect(await srvTargets(cluster)).toEqual(['kubia-0', 'kubia-1', 'kubia-2']);
  });

  it('whenScaled: Delete removes data-kubia-2 (and its directory) on scale down', async () => {
    await kubectl('patch', 'sts', 'kubia', '--type=merge', '-p', JSON.stringify({ spec: { persistentVolumeClaimRetentionPolicy: { whenScaled: 'Delete' } } }));
    const dir = directoryOf(cluster, 'data-kubia-2');
    await kubectl('scale', 'sts', 'kubia', '--replicas=2');
    expect(await srvTargets(cluster)).toEqual(['kubia-0', 'kubia-1']);
    expect((await kubectl('get', 'pvc', '-o', 'name')).trim().split('\n')).toEqual(['persistentvolumeclaim/data-kubia-0', 'persistentvolumeclaim/data-kubia-1']);
    expect(existsSync(dir)).toBe(false);
  });

  it('whenDeleted: Delete removes every claim with the set', async () => {
    await kubectl('patch', 'sts', 'kubia', '--type=merge', '-p', JSON.stringify({ spec: { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' } } }));
    expect(await kubectl('get', 'pvc', 'data-kubia-1', '-o', 'jsonpath={.metadata.ownerReferences[0].kind}')).toBe('StatefulSet');
    await kubectl('delete', 'sts', 'kubia');
    expect(await srvTargets(cluster)).toEqual([]);
    expect(cluster.list('PersistentVolumeClaim')).toEqual([]);
    expect(cluster.list('PersistentVolume')).toEqual([]);
  });

  it('a bad claim gets a Status naming the field', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hdns-pvc-')), 'pvc.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: bad\nspec:\n  accessModes: [ReadWriteSometimes]\n  resources:\n    requests:\n      storage: 0\n');
    const error = await kubectl('create', '-f', file).then(
      () => '',
      (e: { stderr?: string }) => e.stderr ?? '',
    );
    expect(error).toContain('spec.accessModes: Unsupported value: "ReadWriteSometimes"');
    expect(error).toContain('spec.resources[storage]: Invalid value: 0: must be greater than zero');
  });
});

describe('claims directories and the cluster lifetime', () => {
  it('without --state the directories live in a temporary directory removed on close', async () => {
    const cluster = await startCluster({ manifests: [KUBIA_EXAMPLE] });
    const dir = directoryOf(cluster, 'data-kubia-0');
    const root = dirname(dirname(dir));
    expect(existsSync(dir)).toBe(true);
    await cluster.close();
    expect(existsSync(root)).toBe(false);
  });

  it('with --state the directories survive a restart, and the same claims are found', async () => {
    const where = mkdtempSync(join(tmpdir(), 'hdns-state-'));
    const state = join(where, 'cluster.state');
    try {
      const first = await startCluster({ manifests: [KUBIA_EXAMPLE], state });
      const uid = claimUid(first, 'data-kubia-1');
      const dir = directoryOf(first, 'data-kubia-1');
      expect(dir.startsWith(join(where, 'cluster.state.volumes', 'default', 'data-kubia-1-'))).toBe(true);
      writeFileSync(join(dir, 'kubia.txt'), 'kept');
      await first.close();
      expect(existsSync(dir)).toBe(true);

      const second = await startCluster({ manifests: [KUBIA_EXAMPLE], state });
      try {
        expect(claimUid(second, 'data-kubia-1')).toBe(uid);
        expect(directoryOf(second, 'data-kubia-1')).toBe(dir);
        expect(readFileSync(join(dir, 'kubia.txt'), 'utf8')).toBe('kept');
        expect(second.list('PersistentVolume')).toHaveLength(2);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(where, { recursive: true, force: true });
    }
  });
});
