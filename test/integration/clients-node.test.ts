// The official JavaScript client (@kubernetes/client-node 1.x) against the API:
// typed calls, paging, Watch and an informer, from the kubeconfig the cluster
// writes (HTTPS with its CA).

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  type V1Pod,
  Watch,
  makeInformer,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/cluster.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';

const NS = 'default';

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('@kubernetes/client-node 1.x', () => {
  let cluster: StartedCluster;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  const scaleTo = (replicas: number) =>
    apps.patchNamespacedStatefulSetScale({ name: 'kubia', namespace: NS, body: { spec: { replicas } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));

  beforeAll(async () => {
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'hdns-client-node-')), 'config');
    // client-node 1.x refuses a plain-HTTP server unless TLS checks are off
    // (insecure-skip-tls-verify); over HTTPS it trusts the CA the kubeconfig carries, as with a cluster.
    cluster = await startCluster({ manifests: [KUBIA_EXAMPLE], kubeconfig, tls: true });
    kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
  });
  afterAll(() => cluster.close());

  it('typed reads and writes: list, read, create a Service, patch the scale', async () => {
    const pods = await core.listNamespacedPod({ namespace: NS });
    expect(pods.items.map((p) => p.metadata!.name)).toEqual(['kubia-0', 'kubia-1']);
    expect(pods.metadata!.resourceVersion).toMatch(/^\d+$/);
    const pod = await core.readNamespacedPod({ name: 'kubia-0', namespace: NS });
    expect(pod.spec!.hostname).toBe('kubia-0');
    expect(pod.status!.podIP).toMatch(/^127\./);

    const created = await core.createNamespacedService({
      namespace: NS,
      body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubia-public' }, spec: { selector: { app: 'kubia' }, ports: [{ port: 80, targetPort: 8080 }] } },
    });
    expect(created.spec!.clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect((await cluster.resolver().resolve4('kubia-public.default.svc.cluster.local'))).toEqual([created.spec!.clusterIP]);

    const scale = await scaleTo(3);
    expect(scale.spec!.replicas).toBe(3);
    expect((await core.listNamespacedPod({ namespace: NS })).items).toHaveLength(3);
    // Paging through the typed API: limit and _continue.
    const first = await core.listNamespacedPod({ namespace: NS, limit: 2 });
    expect(first.items.map((p) => p.metadata!.name)).toEqual(['kubia-0', 'kubia-1']);
    expect(first.metadata!.remainingItemCount).toBe(1);
    const next = await core.listNamespacedPod({ namespace: NS, limit: 2, _continue: first.metadata!._continue! });
    expect(next.items.map((p) => p.metadata!.name)).toEqual(['kubia-2']);
    expect(next.metadata!._continue).toBeUndefined();
    await scaleTo(2);
  });

  it('Watch sees ADDED, MODIFIED and DELETED as the set scales', async () => {
    const list = await core.listNamespacedPod({ namespace: NS });
    const events: string[] = [];
    let ended: unknown = 'open';
    const request = await new Watch(kc).watch(
      `/api/v1/namespaces/${NS}/pods`,
      { resourceVersion: list.metadata!.resourceVersion, allowWatchBookmarks: true },
      (type: string, pod: V1Pod) => events.push(`${type} ${pod.metadata?.name ?? ''}`),
      (error: unknown) => void (ended = error),
    );
    await scaleTo(3);
    await until('kubia-2 to be added', () => events.includes('ADDED kubia-2'));
    await scaleTo(2);
    await until('kubia-2 to be deleted', () => events.includes('DELETED kubia-2'));
    expect(events).toContain('MODIFIED kubia-2');
    // Nothing before the list's resourceVersion comes again.
    expect(events.filter((e) => e === 'ADDED kubia-0')).toEqual([]);
    request.abort();
    await until('the watch to end', () => ended !== 'open');
  });

  it('an informer sees a scale up as adds and a pod delete as delete and add', async () => {
    const informer = makeInformer(kc, `/api/v1/namespaces/${NS}/pods`, () => core.listNamespacedPod({ namespace: NS }));
    const events: string[] = [];
    informer.on('add', (pod: V1Pod) => events.push(`add ${pod.metadata!.name}`));
    informer.on('delete', (pod: V1Pod) => events.push(`delete ${pod.metadata!.name}`));
    informer.on('error', (error: unknown) => events.push(`error ${String(error)}`));
    await informer.start();
    expect(events.sort()).toEqual(['add kubia-0', 'add kubia-1']);
    events.length = 0;

    await scaleTo(4);
    await until('kubia-2 and kubia-3 to be added', () => events.includes('add kubia-3'));
    expect(events).toEqual(['add kubia-2', 'add kubia-3']);

    events.length = 0;
    const before = informer.get('kubia-1', NS)!.metadata!.uid;
    await core.deleteNamespacedPod({ name: 'kubia-1', namespace: NS, gracePeriodSeconds: 0 });
    await until('kubia-1 to come back', () => events.includes('add kubia-1'));
    expect(events).toEqual(['delete kubia-1', 'add kubia-1']);
    expect(informer.get('kubia-1', NS)!.metadata!.uid).not.toBe(before);
    expect(informer.list(NS).map((p) => p.metadata!.name).sort()).toEqual(['kubia-0', 'kubia-1', 'kubia-2', 'kubia-3']);
    await informer.stop();
    await scaleTo(2);
  });
});
