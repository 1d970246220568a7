import { afterEach, describe, expect, it, vi } from 'vitest';
import { ControllerManager } from '../../src/controllers/manager.js';
import { START_UNREADY_ANNOTATION } from '../../src/controllers/kubelet.js';
import { answer } from '../../src/dns/answer.js';
import { RCODE_NAMES, typeCode } from '../../src/dns/constants.js';
import { loadManifests } from '../../src/model/manifest.js';
import type { EndpointSlice, Pod, Service, StatefulSet } from '../../src/model/types.js';
import { RecordIndex } from '../../src/records/index.js';
import { parseCidr } from '../../src/store/allocator.js';
import { ObjectStore } from '../../src/store/store.js';
import { KUBEADM, KUBIA_EXAMPLE } from '../support/fixture.js';
import { rrSet } from '../support/zone.js';

const KUBIA = 'kubia.default.svc.cluster.local.';

function cluster(options: { startUnready?: boolean; grace?: number } = {}) {
  const store = new ObjectStore();
  const index = new RecordIndex(store, KUBEADM);
  const controllers = new ControllerManager(store, {
    podCidr: parseCidr('127.10.0.0/16')!,
    startUnready: options.startUnready ?? false,
    podGraceSeconds: options.grace ?? 0,
    log: (message) => {
      throw new Error(message);
    },
  });
  // Closed after each test: the claims' temporary directory goes with it.
  opened.push(controllers);
  const ask = (name: string, type = 'A') => {
    const result = answer({ name, type: typeCode(type)! }, index);
    if (result.kind !== 'reply') throw new Error(result.kind);
    return { rcode: RCODE_NAMES[result.rcode], answer: rrSet(result.answer) };
  };
  const sts = () => store.get('StatefulSet', 'default', 'kubia')!;
  const pod = (name: string) => store.get('Pod', 'default', name);
  const slices = () => store.list('EndpointSlice', 'default');
  const scale = (replicas: number) => store.apply([{ ...sts(), spec: { ...sts().spec, replicas } }]);
  const setReady = (name: string, ready: boolean) => {
    const current = pod(name)!;
    const conditions = (current.status?.conditions ?? []).map((c) => (c.type === 'Ready' ? { ...c, status: ready ? 'True' : 'False' } : c));
    store.apply([{ ...current, status: { ...current.status, conditions } } as Pod]);
  };
  return { store, index, controllers, ask, sts, pod, slices, scale, setReady };
}

function withKubia(c: ReturnType<typeof cluster>, edit: (objects: (Service | StatefulSet)[]) => void = () => undefined) {
  const objects = loadManifests([KUBIA_EXAMPLE]).objects.map((m) => m.object) as (Service | StatefulSet)[];
  edit(objects);
  c.store.apply(objects);
}

const opened: ControllerManager[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const controllers of opened.splice(0)) controllers.close();
});

describe('StatefulSet controller', () => {
  it('creates <set>-<ordinal> pods with the identity a cluster gives them', () => {
    const c = cluster();
    withKubia(c);
    const pod = c.pod('kubia-0')!;
    expect(pod.spec).toMatchObject({ hostname: 'kubia-0', subdomain: 'kubia' });
    expect(pod.metadata.labels).toMatchObject({ app: 'kubia', 'statefulset.kubernetes.io/pod-name': 'kubia-0', 'apps.kubernetes.io/pod-index': '0' });
    expect(pod.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'StatefulSet', name: 'kubia', uid: c.sts().metadata.uid, controller: true })]);
    expect(pod.status).toMatchObject({ phase: 'Running', podIP: '127.10.0.1' });
    expect(c.pod('kubia-1')!.status?.podIP).toBe('127.10.0.2');
    expect(c.sts().status).toMatchObject({ replicas: 2, readyReplicas: 2, currentReplicas: 2, availableReplicas: 2, observedGeneration: 1 });
  });

  it('derives the slice a cluster would: hostname, target port, managed-by', () => {
    const c = cluster();
    withKubia(c);
    const [slice] = c.slices() as EndpointSlice[];
    expect(slice!.metadata.labels).toMatchObject({ 'kubernetes.io/service-name': 'kubia', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
    expect(slice!.ports).toEqual([{ name: 'http', protocol: 'TCP', port: 80 }]);
    expect(slice!.endpoints.map((e) => [e.hostname, e.addresses[0], e.conditions?.ready, e.targetRef?.name])).toEqual([
      ['kubia-0', '127.10.0.1', true, 'kubia-0'],
      ['kubia-1', '127.10.0.2', true, 'kubia-1'],
    ]);
    expect(c.ask(KUBIA, 'SRV').answer).toEqual([
      `${KUBIA} 30 IN SRV 0 50 80 kubia-0.${KUBIA}`,
      `${KUBIA} 30 IN SRV 0 50 80 kubia-1.${KUBIA}`,
    ]);
  });

  it('scales up in order and down from the highest ordinal', () => {
    const c = cluster();
    withKubia(c);
    c.scale(3);
    expect(c.ask(`kubia-2.${KUBIA}`).answer).toEqual([`kubia-2.${KUBIA} 30 IN A 127.10.0.3`]);
    expect(c.sts().status).toMatchObject({ replicas: 3, readyReplicas: 3, observedGeneration: 2 });
    c.scale(1);
    expect(c.ask(`kubia-1.${KUBIA}`).rcode).toBe('NXDOMAIN');
    expect(c.ask(`kubia-2.${KUBIA}`).rcode).toBe('NXDOMAIN');
    expect(c.ask(KUBIA, 'SRV').answer).toEqual([`${KUBIA} 30 IN SRV 0 100 80 kubia-0.${KUBIA}`]);
    expect(c.store.list('Pod').map((p) => p.metadata.name)).toEqual(['kubia-0']);
  });

  it('recreates a deleted member under the same name with a new IP; the PTR moves', () => {
    const c = cluster();
    withKubia(c);
    const before = c.pod('kubia-0')!;
    c.controllers.terminator.delete(before);
    const after = c.pod('kubia-0')!;
    expect(after.metadata.uid).not.toBe(before.metadata.uid);
    expect(after.status?.podIP).not.toBe(before.status?.podIP);
    expect(after.spec).toMatchObject({ hostname: 'kubia-0', subdomain: 'kubia' });
    expect(c.ask(`kubia-0.${KUBIA}`).answer).toEqual([`kubia-0.${KUBIA} 30 IN A ${after.status!.podIP}`]);
    expect(c.ask('1.0.10.127.in-addr.arpa.', 'PTR').rcode).toBe('NXDOMAIN');
    expect(c.ask(`${after.status!.podIP!.split('.').reverse().join('.')}.in-addr.arpa.`, 'PTR').answer).toEqual([
      `${after.status!.podIP!.split('.').reverse().join('.')}.in-addr.arpa. 30 IN PTR kubia-0.${KUBIA}`,
    ]);
  });

  it('an unready pod leaves DNS and comes back when ready', () => {
    const c = cluster();
    withKubia(c);
    c.setReady('kubia-1', false);
    expect(c.ask(`kubia-1.${KUBIA}`).rcode).toBe('NXDOMAIN');
    expect(c.ask(KUBIA).answer).toEqual([`${KUBIA} 30 IN A 127.10.0.1`]);
    expect(c.sts().status).toMatchObject({ readyReplicas: 1 });
    c.setReady('kubia-1', true);
    expect(c.ask(`kubia-1.${KUBIA}`).answer).toHaveLength(1);
  });

  it('with publishNotReadyAddresses an unready pod stays', () => {
    const c = cluster();
    withKubia(c, (objects) => {
      const service = objects.find((o) => o.kind === 'Service') as Service;
      service.spec.publishNotReadyAddresses = true;
    });
    c.setReady('kubia-1', false);
    expect(c.ask(`kubia-1.${KUBIA}`).answer).toHaveLength(1);
    expect(c.ask(KUBIA, 'SRV').answer).toHaveLength(2);
  });

  it('OrderedReady with start-unready stops at kubia-0 until it is ready', () => {
    const c = cluster({ startUnready: true });
    withKubia(c);
    expect(c.store.list('Pod').map((p) => p.metadata.name)).toEqual(['kubia-0']);
    expect(c.ask(`kubia-0.${KUBIA}`).rcode).toBe('NXDOMAIN');
    c.setReady('kubia-0', true);
    expect(c.store.list('Pod').map((p) => p.metadata.name)).toEqual(['kubia-0', 'kubia-1']);
    expect(c.ask(`kubia-1.${KUBIA}`).rcode).toBe('NXDOMAIN');
  });

  it('Parallel creates every member at once, and the annotation starts them unready', () => {
    const c = cluster();
    withKubia(c, (objects) => {
      const set = objects.find((o) => o.kind === 'StatefulSet') as StatefulSet;
      set.spec.podManagementPolicy = 'Parallel';
      set.spec.replicas = 3;
      set.metadata.annotations = { [START_UNREADY_ANNOTATION]: 'true' };
    });
    expect(c.store.list('Pod')).toHaveLength(3);
    expect(c.ask(KUBIA).rcode).toBe('NXDOMAIN');
  });

  it('honours ordinals.start', () => {
    const c = cluster();
    withKubia(c, (objects) => {
      (objects.find((o) => o.kind === 'StatefulSet') as StatefulSet).spec.ordinals = { start: 5 };
    });
    expect(c.store.list('Pod').map((p) => p.metadata.name)).toEqual(['kubia-5', 'kubia-6']);
  });

  it('deleting the StatefulSet deletes its pods, and DNS empties', () => {
    const c = cluster();
    withKubia(c);
    c.store.delete('StatefulSet', 'default', 'kubia');
    expect(c.store.list('Pod')).toEqual([]);
    expect(c.ask(KUBIA).rcode).toBe('NXDOMAIN');
    expect((c.slices()[0] as EndpointSlice).endpoints).toEqual([]);
  });

  it('a grace period keeps a deleted pod terminating (out of DNS) until it ends, then it is replaced', () => {
    vi.useFakeTimers();
    const c = cluster({ grace: 5 });
    withKubia(c);
    const before = c.pod('kubia-1')!;
    c.controllers.terminator.delete(before);
    expect(c.pod('kubia-1')!.metadata.deletionTimestamp).toBeDefined();
    expect(c.ask(`kubia-1.${KUBIA}`).rcode).toBe('NXDOMAIN');
    const [slice] = c.slices() as EndpointSlice[];
    expect(slice!.endpoints.find((e) => e.hostname === 'kubia-1')?.conditions).toEqual({ ready: false, serving: true, terminating: true });
    vi.advanceTimersByTime(5000);
    const after = c.pod('kubia-1')!;
    expect(after.metadata.uid).not.toBe(before.metadata.uid);
    expect(c.ask(`kubia-1.${KUBIA}`).answer).toHaveLength(1);
    c.controllers.close();
  });
});

describe('EndpointSlice controller', () => {
  it('resolves named target ports per pod, and leaves selector-less slices alone', () => {
    const c = cluster();
    const pod = (name: string, port: number): Pod => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default', labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'web', ports: [{ name: 'http', containerPort: port }] }] },
      status: { phase: 'Running', podIP: `10.5.0.${port % 100}`, conditions: [{ type: 'Ready', status: 'True' }] },
    });
    c.store.apply([
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
      pod('web-a', 8081),
      pod('web-b', 8082),
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual', namespace: 'default' }, spec: { clusterIP: 'None', ports: [{ name: 'x', port: 1 }] } },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'manual-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'manual' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.6.0.1'] }],
        ports: [{ name: 'x', port: 1 }],
      },
    ]);
    expect(c.ask('web.default.svc.cluster.local.', 'SRV').answer).toEqual([
      'web.default.svc.cluster.local. 30 IN SRV 0 50 8081 10-5-0-81.web.default.svc.cluster.local.',
      'web.default.svc.cluster.local. 30 IN SRV 0 50 8082 10-5-0-82.web.default.svc.cluster.local.',
    ]);
    expect(c.store.get('EndpointSlice', 'default', 'manual-1')!.endpoints).toHaveLength(1);
    expect(c.ask('manual.default.svc.cluster.local.').answer).toHaveLength(1);
  });
});
