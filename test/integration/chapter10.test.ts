// Kubernetes in Action, chapter 10 (StatefulSets), walked through with real
// kubectl against the book's kubia manifests (examples/kubia: a headless
// Service and a StatefulSet with a volumeClaimTemplate), on two nodes. After
// every step DNS (Node's resolver against the cluster) must agree with the
// store: the SRV set, the headless A set and each Ready member's own name.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/cluster.js';
import { isPodReady } from '../../src/model/pods.js';
import type { Pod } from '../../src/model/types.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { hasKubectl, kubectlFor } from '../support/kubectl.js';

const KUBIA = 'kubia.default.svc.cluster.local';
const member = (name: string): string => `${name}.${KUBIA}`;
const HASH = 'controller-revision-hash';
const empty = (error: unknown): boolean => ['ENOTFOUND', 'ENODATA'].includes((error as { code?: string }).code ?? '');

async function orEmpty<T>(lookup: Promise<T[]>): Promise<T[]> {
  try {
    return await lookup;
  } catch (error) {
    if (empty(error)) return [];
    throw error;
  }
}

describe.runIf(hasKubectl)('Kubernetes in Action, chapter 10, through kubectl', () => {
  let cluster: StartedCluster;
  let kubectl: (...args: string[]) => Promise<string>;
  /** stdout and stderr together (kubectl warns on stderr when force-deleting). */
  let kubectlAll: (...args: string[]) => Promise<string>;
  /** Pod DELETED events, in the order a watcher of the store sees them. */
  const deleted: string[] = [];

  const pods = (): Pod[] =>
    cluster.list('Pod', { labelSelector: 'app=kubia' }).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name, 'en', { numeric: true }));
  const pod = (name: string): Pod => cluster.get('Pod', name)!;
  const hashes = (): (string | undefined)[] => pods().map((p) => p.metadata.labels?.[HASH]);
  const uids = (): (string | undefined)[] => pods().map((p) => p.metadata.uid);
  const revisions = () => cluster.get('StatefulSet', 'kubia')!.status as { currentRevision: string; updateRevision: string };

  /** DNS agrees with the store's Ready, not terminating members. */
  async function dnsAgrees(expected?: string[]): Promise<void> {
    const ready = pods().filter((p) => isPodReady(p) && !p.metadata.deletionTimestamp);
    if (expected) expect(ready.map((p) => p.metadata.name)).toEqual(expected);
    const resolver = cluster.resolver();
    expect((await orEmpty(resolver.resolveSrv(KUBIA))).map((s) => s.name).sort()).toEqual(ready.map((p) => member(p.metadata.name)).sort());
    expect((await orEmpty(resolver.resolve4(KUBIA))).sort()).toEqual(ready.map((p) => p.status!.podIP!).sort());
    for (const p of ready) expect(await resolver.resolve4(member(p.metadata.name))).toEqual([p.status!.podIP]);
  }

  beforeAll(async () => {
    // Two nodes (minikube's names); a pod leaves a failed node after 1 s instead of 300 s.
    cluster = await startCluster({ nodes: 2, podEvictionSeconds: 1 });
    kubectl = kubectlFor(cluster.api.url);
    kubectlAll = kubectlFor(cluster.api.url, { withStderr: true });
    cluster.onEvent((event) => {
      if (event.type === 'DELETED' && event.object.kind === 'Pod') deleted.push(event.object.metadata.name);
    });
  });
  afterAll(() => cluster?.close());

  it('10.3.2: creating the Service and the StatefulSet makes kubia-0 and kubia-1, each with its claim Bound', async () => {
    expect(await kubectl('apply', '-f', KUBIA_EXAMPLE)).toMatch(/service\/kubia created\nstatefulset\.apps\/kubia created\n/);
    expect(await kubectl('get', 'pods')).toMatch(/kubia-0\s+1\/1\s+Running\s+0\s[\s\S]*kubia-1\s+1\/1\s+Running\s+0\s/);
    const claims = await kubectl('get', 'pvc');
    expect(claims).toMatch(/^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s/);
    expect(claims).toMatch(/\ndata-kubia-0\s+Bound\s+pvc-\S+\s+1Mi\s+RWO\s+standard\s/);
    expect(claims).toMatch(/\ndata-kubia-1\s+Bound\s+pvc-\S+\s+1Mi\s+RWO\s+standard\s/);
    expect(pod('kubia-0').spec.volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: 'data-kubia-0' } });
    await dnsAgrees(['kubia-0', 'kubia-1']);
  });

  it('10.3.3: a deleted pod comes back with the same name, a new IP and the same claim', async () => {
    const before = pod('kubia-0');
    const claim = cluster.get('PersistentVolumeClaim', 'data-kubia-0')!.metadata.uid;
    expect(await kubectl('delete', 'po', 'kubia-0')).toBe('pod "kubia-0" deleted\n');
    const after = pod('kubia-0');
    expect(after.metadata.uid).not.toBe(before.metadata.uid);
    expect(after.status?.podIP).not.toBe(before.status?.podIP);
    expect(cluster.get('PersistentVolumeClaim', 'data-kubia-0')!.metadata.uid).toBe(claim);
    await dnsAgrees(['kubia-0', 'kubia-1']);
  });

  it('10.3.4 and 10.4.2: scaling down keeps the claim; scaling up again reuses it', async () => {
    await kubectl('scale', 'sts', 'kubia', '--replicas=3');
    await dnsAgrees(['kubia-0', 'kubia-1', 'kubia-2']);
    const claim = cluster.get('PersistentVolumeClaim', 'data-kubia-2')!.metadata.uid;
    deleted.length = 0;
    await kubectl('scale', 'sts', 'kubia', '--replicas=2');
    expect(deleted).toEqual(['kubia-2']);
    await dnsAgrees(['kubia-0', 'kubia-1']);
    expect(await kubectl('get', 'pvc', 'data-kubia-2')).toMatch(/data-kubia-2\s+Bound\s/);
    await kubectl('scale', 'sts', 'kubia', '--replicas=3');
    expect(cluster.get('PersistentVolumeClaim', 'data-kubia-2')!.metadata.uid).toBe(claim);
    expect(pod('kubia-2').spec.volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: 'data-kubia-2' } });
    await dnsAgrees(['kubia-0', 'kubia-1', 'kubia-2']);
  });

  it('10.4.2: set image rolls kubia-2, kubia-1, kubia-0, each back with a new IP; rollout status waits; history has 2 revisions', async () => {
    const ips = Object.fromEntries(pods().map((p) => [p.metadata.name, p.status!.podIP]));
    deleted.length = 0;
    expect(await kubectl('set', 'image', 'sts/kubia', 'kubia=luksa/kubia-pet-peers')).toBe('statefulset.apps/kubia image updated\n');
    expect(await kubectl('rollout', 'status', 'sts/kubia')).toBe('partitioned roll out complete: 3 new pods have been updated...\n');
    expect(deleted).toEqual(['kubia-2', 'kubia-1', 'kubia-0']);
    for (const p of pods()) expect(p.status!.podIP).not.toBe(ips[p.metadata.name]);
    expect(pods().map((p) => p.spec.containers[0]!.image)).toEqual(Array(3).fill('luksa/kubia-pet-peers'));
    const { currentRevision, updateRevision } = revisions();
    expect(currentRevision).toBe(updateRevision);
    expect(hashes()).toEqual(Array(3).fill(updateRevision));
    expect(await kubectl('rollout', 'history', 'sts/kubia')).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
    await dnsAgrees(['kubia-0', 'kubia-1', 'kubia-2']);
  });

  it('rollout undo goes back to the first template', async () => {
    expect(await kubectl('rollout', 'undo', 'sts/kubia')).toBe('statefulset.apps/kubia rolled back\n');
    expect(await kubectl('rollout', 'status', 'sts/kubia')).toContain('3 new pods have been updated');
    expect(pods().map((p) => p.spec.containers[0]!.image)).toEqual(Array(3).fill('luksa/kubia-pet'));
    await dnsAgrees(['kubia-0', 'kubia-1', 'kubia-2']);
  });

  it('a partition of 2 updates only kubia-2', async () => {
    await kubectl('patch', 'sts', 'kubia', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}');
    const old = revisions().currentRevision;
    const [uid0, uid1] = uids();
    await kubectl('set', 'image', 'sts/kubia', 'kubia=luksa/kubia-pet:v3');
    expect(await kubectl('rollout', 'status', 'sts/kubia')).toBe('partitioned roll out complete: 1 new pods have been updated...\n');
    expect(hashes()).toEqual([old, old, revisions().updateRevision]);
    expect(uids().slice(0, 2)).toEqual([uid0, uid1]);
    await dnsAgrees(['kubia-0', 'kubia-1', 'kubia-2']);
    await kubectl('patch', 'sts', 'kubia', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}');
    expect(await kubectl('rollout', 'status', 'sts/kubia')).toContain('3 new pods have been updated');
    await dnsAgrees(['kubia-0', 'kubia-1', 'kubia-2']);
  });

  it('the book\'s OnDelete: a new template reaches only the pod that is deleted', async () => {
    await kubectl('patch', 'sts', 'kubia', '--type=merge', '-p', '{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}');
    const before = uids();
    const old = revisions().currentRevision;
    await kubectl('set', 'image', 'sts/kubia', 'kubia=luksa/kubia-pet:v4');
    expect(uids()).toEqual(before);
    await dnsAgrees(['kubia-0', 'kubia-1', 'kubia-2']);
    await kubectl('delete', 'po', 'kubia-0');
    expect(hashes()).toEqual([revisions().updateRevision, old, old]);
    expect(uids().slice(1)).toEqual(before.slice(1));
    expect(pod('kubia-0').spec.containers[0]!.image).toBe('luksa/kubia-pet:v4');
    await dnsAgrees(['kubia-0', 'kubia-1', 'kubia-2']);
    await kubectl('patch', 'sts', 'kubia', '--type=merge', '-p', '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":0}}}}');
    expect(await kubectl('rollout', 'status', 'sts/kubia')).toContain('3 new pods have been updated');
    await dnsAgrees(['kubia-0', 'kubia-1', 'kubia-2']);
  });

  it('rollout restart replaces every member, highest ordinal first', async () => {
    const before = uids();
    deleted.length = 0;
    expect(await kubectl('rollout', 'restart', 'sts/kubia')).toBe('statefulset.apps/kubia restarted\n');
    expect(await kubectl('rollout', 'status', 'sts/kubia')).toBe('partitioned roll out complete: 3 new pods have been updated...\n');
    expect(deleted).toEqual(['kubia-2', 'kubia-1', 'kubia-0']);
    for (const [i, uid] of uids().entries()) expect(uid).not.toBe(before[i]);
    await dnsAgrees(['kubia-0', 'kubia-1', 'kubia-2']);
  });

  it('10.5: a node fails: its member leaves DNS, is evicted and stays Terminating until force-deleted, then comes back elsewhere with its claim', async () => {
    const victim = pods().find((p) => p.spec.nodeName === 'headless-dns-m02')!;
    const name = victim.metadata.name;
    const others = pods().map((p) => p.metadata.name).filter((n) => n !== name);
    // The book stops the node's network; here its kubelet stops reporting.
    await kubectl('patch', 'node', 'headless-dns-m02', '--subresource=status', '--type=merge', '-p', '{"status":{"conditions":[{"type":"Ready","status":"Unknown"}]}}');
    expect(await kubectl('get', 'nodes')).toMatch(/headless-dns-m02\s+NotReady\s/);
    await dnsAgrees(others);
    await cluster.waitFor(() => pod(name).metadata.deletionTimestamp !== undefined, { timeoutMs: 5000 });
    expect(await kubectl('get', 'po', name)).toMatch(new RegExp(`${name}\\s+0/1\\s+Terminating\\s`));
    expect(pod(name).metadata.uid).toBe(victim.metadata.uid);
    await dnsAgrees(others);
    expect(await kubectlAll('delete', 'po', name, '--grace-period=0', '--force')).toMatch(new RegExp(`pod "${name}" force deleted`));
    const back = pod(name);
    expect(back.metadata.uid).not.toBe(victim.metadata.uid);
    expect(back.spec.nodeName).toBe('headless-dns');
    expect(back.spec.volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: `data-${name}` } });
    await dnsAgrees(['kubia-0', 'kubia-1', 'kubia-2']);
  });
});
