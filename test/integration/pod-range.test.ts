// A pod range with no address left (issue 10: 70,000 replicas in a /16 only
// logged a line): the pods that get none stay Pending, containers being
// created, with the kubelet's FailedCreatePodSandBox event, and start as soon
// as an address frees up.

import { afterEach, describe, expect, it } from 'vitest';
import { type DnsCluster, startCluster } from '../../src/index.js';
import type { KubeObject, Pod } from '../../src/model/types.js';

let cluster: DnsCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const set = (replicas: number): KubeObject[] =>
  [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] } },
    { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web', namespace: 'default' }, spec: { serviceName: 'web', replicas, podManagementPolicy: 'Parallel', selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'x' }] } } } },
  ] as KubeObject[];

describe('a pod range that runs out', () => {
  it('leaves the pods it cannot address Pending with FailedCreatePodSandBox, and starts them when addresses free up', async () => {
    // 127.10.0.0/29: the network and broadcast addresses are kept, so 6 pods get an address.
    cluster = await startCluster({ podCidr: '127.10.0.0/29', api: false });
    cluster.apply(set(9));
    const pods = cluster.list('Pod') as Pod[];
    const waiting = pods.filter((p) => !p.status?.podIP);
    expect(pods).toHaveLength(9);
    expect(waiting).toHaveLength(3);
    for (const pod of waiting) {
      expect(pod.status).toMatchObject({ phase: 'Pending', reason: 'NoPodAddress' });
      expect((pod.status?.containerStatuses as { state: unknown }[])[0]!.state).toEqual({ waiting: { reason: 'ContainerCreating' } });
    }
    const events = cluster.list('Event').filter((e) => (e as { reason?: string }).reason === 'FailedCreatePodSandBox');
    expect(events).toHaveLength(waiting.length);
    expect((events[0] as { message?: string }).message).toMatch(/^Failed to create pod sandbox: failed to set up the pod network: failed to allocate for range 0: no free address left in 127\.10\.0\.0\/29$/);
    // A member goes: its address goes to a pod that waited, and its own replacement waits.
    cluster.deletePod('web-0', { gracePeriodSeconds: 0 });
    expect((cluster.list('Pod') as Pod[]).filter((p) => !p.status?.podIP).map((p) => p.metadata.name).sort()).toEqual(['web-0', 'web-7', 'web-8']);
    // Scaled to 6, web-6's address frees up for web-0.
    cluster.scale('web', 6);
    const after = cluster.list('Pod') as Pod[];
    expect(after).toHaveLength(6);
    expect(after.map((p) => [p.metadata.name, p.status?.podIP, p.status?.phase, p.status?.reason])).toEqual(after.map((p) => [p.metadata.name, expect.any(String), 'Running', undefined]));
  });
});
