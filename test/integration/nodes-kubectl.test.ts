// Nodes and node failure through real kubectl (lifecycle doc §5; Kubernetes in
// Action 10.5): get nodes, a node that stops reporting, its member leaving DNS,
// evicted and left Terminating until force-deleted, then cordon and drain.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/cluster.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { hasKubectl, kubectlFor } from '../support/kubectl.js';

const KUBIA = 'kubia.default.svc.cluster.local';
const member = (i: number): string => `kubia-${i}.${KUBIA}`;

async function srvTargets(cluster: StartedCluster): Promise<string[]> {
  try {
    return (await cluster.resolver().resolveSrv(KUBIA)).map((s) => s.name).sort();
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOTFOUND') return [];
    throw error;
  }
}

describe.runIf(hasKubectl)('nodes and node failure through kubectl', () => {
  let cluster: StartedCluster;
  let kubectl: (...args: string[]) => Promise<string>;
  /** kubectl's stdout and stderr together (force deletion warns on stderr). */
  let kubectlAll: (...args: string[]) => Promise<string>;
  beforeAll(async () => {
    // Three nodes; pods leave a failed node after 1 s instead of 300 s.
    cluster = await startCluster({ nodes: 3, podEvictionSeconds: 1 });
    kubectl = kubectlFor(cluster.api.url);
    kubectlAll = kubectlFor(cluster.api.url, { withStderr: true });
    await kubectl('apply', '-f', KUBIA_EXAMPLE);
  });
  afterAll(() => cluster?.close());

  const pod = (name: string) => cluster.get('Pod', name)!;

  it('kubectl get nodes lists them as a cluster does, and pods are spread over them', async () => {
    const nodes = await kubectl('get', 'nodes');
    expect(nodes).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\n/);
    expect(nodes).toMatch(/\nheadless-dns\s+Ready\s+control-plane\s+\d+s\s+v1\.32\.0\n/);
    expect(nodes).toMatch(/\nheadless-dns-m02\s+Ready\s+<none>\s+\d+s\s+v1\.32\.0\n/);
    expect(nodes).toMatch(/\nheadless-dns-m03\s+Ready\s+<none>/);
    const wide = await kubectl('get', 'nodes', '-o', 'wide');
    expect(wide).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME\n/);
    expect(wide).toMatch(/headless-dns-m02\s+Ready\s+<none>\s+\d+s\s+v1\.32\.0\s+127\.0\.0\.1\s+<none>\s+/);
    expect(await kubectl('get', 'pods', '-o', 'wide')).toMatch(/kubia-0\s+1\/1\s+Running\s+0\s+\S+\s+127\.10\.0\.\d+\s+headless-dns\s[\s\S]*kubia-1\s+1\/1\s+Running\s+0\s+\S+\s+127\.10\.0\.\d+\s+headless-dns-m02\s/);
    expect(await kubectl('get', 'pods', '--field-selector', 'spec.nodeName=headless-dns-m02', '-o', 'name')).toBe('pod/kubia-1\n');
    const yaml = await kubectl('get', 'pod', 'kubia-0', '-o', 'jsonpath={.spec.tolerations}');
    expect(JSON.parse(yaml)).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 },
    ]);
    expect(await kubectl('get', 'pod', 'kubia-0', '-o', 'jsonpath={.status.hostIP}')).toBe('127.0.0.1');
  });

  it('a failed node: its pod leaves DNS at once, is evicted, stays Terminating, and is replaced only when force-deleted', async () => {
    const before = pod('kubia-1');
    expect(await srvTargets(cluster)).toEqual([member(0), member(1)]);
    await kubectl('patch', 'node', 'headless-dns-m02', '--subresource=status', '--type=merge', '-p', '{"status":{"conditions":[{"type":"Ready","status":"Unknown"}]}}');
    expect(await kubectl('get', 'node', 'headless-dns-m02')).toMatch(/headless-dns-m02\s+NotReady\s+<none>/);
    // Not Ready at once: out of SRV before the command returned.
    expect(await srvTargets(cluster)).toEqual([member(0)]);
    expect(await kubectl('get', 'node', 'headless-dns-m02', '-o', 'jsonpath={.spec.taints[*].key}')).toBe('node.kubernetes.io/unreachable node.kubernetes.io/unreachable');

    // Evicted after its toleration (1 s here), and left Terminating: no kubelet confirms.
    await cluster.waitFor(() => pod('kubia-1').metadata.deletionTimestamp !== undefined, { timeoutMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(pod('kubia-1').metadata.uid).toBe(before.metadata.uid);
    expect(await kubectl('get', 'pod', 'kubia-1')).toMatch(/kubia-1\s+0\/1\s+Terminating\s/);
    expect(await srvTargets(cluster)).toEqual([member(0)]);
    const events = await kubectl('get', 'events', '--field-selector', 'involvedObject.name=kubia-1');
    expect(events).toMatch(/TaintManagerEviction\s+pod\/kubia-1\s+Marking for deletion Pod default\/kubia-1/);

    expect(await kubectlAll('delete', 'pod', 'kubia-1', '--grace-period=0', '--force')).toMatch(/pod "kubia-1" force deleted/);
    const after = pod('kubia-1');
    expect(after.metadata.uid).not.toBe(before.metadata.uid);
    // The least loaded healthy node: m03 (headless-dns has kubia-0).
    expect(after.spec.nodeName).toBe('headless-dns-m03');
    expect(after.status?.podIP).not.toBe(before.status?.podIP);
    expect(await srvTargets(cluster)).toEqual([member(0), member(1)]);
    expect((await cluster.resolver().resolve4(member(1)))).toEqual([after.status!.podIP]);

    await kubectl('patch', 'node', 'headless-dns-m02', '--subresource=status', '--type=merge', '-p', '{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady"}]}}');
    expect(await kubectl('get', 'node', 'headless-dns-m02')).toMatch(/headless-dns-m02\s+Ready\s+<none>/);
    expect(await kubectl('get', 'node', 'headless-dns-m02', '-o', 'jsonpath={.spec.taints}')).toBe('');
  });

  it('cordon and uncordon', async () => {
    expect(await kubectl('cordon', 'headless-dns-m02')).toBe('node/headless-dns-m02 cordoned\n');
    expect(await kubectl('get', 'node', 'headless-dns-m02')).toMatch(/headless-dns-m02\s+Ready,SchedulingDisabled\s+<none>/);
    expect(await kubectl('uncordon', 'headless-dns-m02')).toBe('node/headless-dns-m02 uncordoned\n');
    expect(await kubectl('get', 'node', 'headless-dns-m02')).toMatch(/headless-dns-m02\s+Ready\s+<none>/);
  });

  it('drain evicts the node\'s pods (policy/v1 Eviction); the set makes them again on another node', async () => {
    const before = pod('kubia-1');
    expect(before.spec.nodeName).toBe('headless-dns-m03');
    const out = await kubectlAll('drain', 'headless-dns-m03', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=20s');
    expect(out).toMatch(/node\/headless-dns-m03 cordoned/);
    expect(out).toMatch(/evicting pod default\/kubia-1/);
    expect(out).toMatch(/pod\/kubia-1 evicted/);
    expect(out).toMatch(/node\/headless-dns-m03 drained/);
    const after = pod('kubia-1');
    expect(after.metadata.uid).not.toBe(before.metadata.uid);
    expect(after.spec.nodeName).toBe('headless-dns-m02');
    expect(await srvTargets(cluster)).toEqual([member(0), member(1)]);
    expect(await kubectl('get', 'node', 'headless-dns-m03')).toMatch(/Ready,SchedulingDisabled/);
    await kubectl('uncordon', 'headless-dns-m03');
  });

  it('the Eviction subresource answers as the API server does', async () => {
    const url = `${cluster.api.url}/api/v1/namespaces/default/pods/kubia-0/eviction`;
    const wrong = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'kubia-1' } }) });
    expect(wrong.status).toBe(400);
    expect(await fetch(url)).toMatchObject({ status: 405 });
    const uid = pod('kubia-0').metadata.uid;
    const ok = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'kubia-0', namespace: 'default' } }) });
    expect(ok.status).toBe(201);
    expect(await ok.json()).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    expect(pod('kubia-0').metadata.uid).not.toBe(uid);
  });

  it('the fixture fails and restores nodes too', async () => {
    const node = pod('kubia-0').spec.nodeName as string;
    expect(cluster.failNode(node).status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('Unknown');
    expect(await srvTargets(cluster)).toEqual([member(1)]);
    cluster.restoreNode(node);
    expect(await srvTargets(cluster)).toEqual([member(0), member(1)]);
  });
});
