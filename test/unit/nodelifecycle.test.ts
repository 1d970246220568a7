// Nodes and node failure (lifecycle doc §5): the rules as tables (state →
// actions), then the whole scenario of the book's chapter 10.5 on a ManualClock.

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/model/clock.js';
import { MemoryEventRecorder } from '../../src/controllers/events.js';
import { ControllerManager } from '../../src/controllers/manager.js';
import {
  TAINT_NOT_READY,
  TAINT_UNREACHABLE,
  type Taint,
  type Toleration,
  admitPodTolerations,
  chooseNode,
  desiredTaints,
  healthyConditions,
  newNode,
  nodeNames,
  planNodePods,
  podAdmission,
  tolerationSeconds,
  unknownConditions,
} from '../../src/controllers/nodelifecycle.js';
import { loadManifests } from '../../src/model/manifest.js';
import { isPodReady } from '../../src/model/pods.js';
import type { Node, Pod } from '../../src/model/types.js';
import { RecordIndex } from '../../src/records/index.js';
import { parseCidr } from '../../src/store/allocator.js';
import { ObjectStore } from '../../src/store/store.js';
import { KUBEADM, KUBIA_EXAMPLE } from '../support/fixture.js';

const AT = '2026-01-01T00:00:00Z';
const T0 = Date.parse(AT);

function node(name: string, ready: 'True' | 'False' | 'Unknown', spec: Node['spec'] = {}): Node {
  const base = newNode(name, false, AT);
  const conditions = ready === 'True' ? healthyConditions(AT) : ready === 'Unknown' ? unknownConditions(healthyConditions(AT), AT) : healthyConditions(AT).map((c) => (c.type === 'Ready' ? { ...c, status: 'False' as const, reason: 'KubeletNotReady' } : c));
  return { ...base, spec, status: { ...base.status, conditions } };
}

function pod(name: string, extra: { tolerations?: Toleration[]; ready?: boolean; containersReady?: boolean; terminating?: boolean; phase?: string; nodeName?: string } = {}): Pod {
  const ready = extra.ready ?? true;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, ...(extra.terminating ? { deletionTimestamp: AT, deletionGracePeriodSeconds: 30 } : {}) },
    spec: { containers: [{ name: 'c' }], nodeName: extra.nodeName ?? 'n1', ...(extra.tolerations ? { tolerations: extra.tolerations } : {}) },
    status: {
      phase: (extra.phase ?? 'Running') as 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [{ name: 'c', ready: extra.containersReady ?? ready }],
    },
  };
}

const DEFAULT_TOLERATIONS = admitPodTolerations(pod('x')).spec.tolerations as Toleration[];

describe('node rules', () => {
  it('names nodes as minikube does', () => {
    expect(nodeNames(3)).toEqual(['headless-dns', 'headless-dns-m02', 'headless-dns-m03']);
  });

  it.each<[string, Node, Taint[]]>([
    ['Ready: no taints', node('n1', 'True'), []],
    ['Unknown: unreachable NoSchedule + NoExecute', node('n1', 'Unknown'), [{ key: TAINT_UNREACHABLE, effect: 'NoSchedule' }, { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: AT }]],
    ['False: not-ready NoSchedule + NoExecute', node('n1', 'False'), [{ key: TAINT_NOT_READY, effect: 'NoSchedule' }, { key: TAINT_NOT_READY, effect: 'NoExecute', timeAdded: AT }]],
    ['cordoned: unschedulable NoSchedule', node('n1', 'True', { unschedulable: true }), [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]],
    ['a user taint stays', node('n1', 'True', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }), [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]],
    [
      'back to Ready: our taints go',
      node('n1', 'True', { taints: [{ key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: AT }, { key: TAINT_UNREACHABLE, effect: 'NoSchedule' }] }),
      [],
    ],
    [
      'an existing taint keeps its timeAdded',
      node('n1', 'Unknown', { taints: [{ key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: '2025-12-31T23:00:00Z' }] }),
      [{ key: TAINT_UNREACHABLE, effect: 'NoSchedule' }, { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: '2025-12-31T23:00:00Z' }],
    ],
  ])('taints: %s', (_name, input, taints) => {
    expect(desiredTaints(input, AT)).toEqual(taints);
  });

  it('admission adds the two NoExecute tolerations of 300 s, as DefaultTolerationSeconds does', () => {
    expect(DEFAULT_TOLERATIONS).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
    const own = { key: TAINT_UNREACHABLE, operator: 'Exists' as const, effect: 'NoExecute' as const, tolerationSeconds: 5 };
    expect(admitPodTolerations(pod('x', { tolerations: [own] })).spec.tolerations).toEqual([own, DEFAULT_TOLERATIONS[0]]);
    // A toleration of every taint covers both: nothing is added.
    const all = pod('x', { tolerations: [{ operator: 'Exists' }] });
    expect(admitPodTolerations(all)).toBe(all);
    expect(podAdmission(10)(pod('x')).kind === 'Pod' && (podAdmission(10)(pod('x')) as Pod).spec.tolerations).toEqual(DEFAULT_TOLERATIONS.map((t) => ({ ...t, tolerationSeconds: 10 })));
  });

  const unreachable: Taint[] = [{ key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: AT }];
  it.each<[string, Toleration[] | undefined, Taint[], number | null]>([
    ['default tolerations: 300 s', DEFAULT_TOLERATIONS, unreachable, 300],
    ['no toleration: evicted at once', undefined, unreachable, 0],
    ['a toleration without seconds: never', [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute' }], unreachable, null],
    ['the shortest matching wins', [...DEFAULT_TOLERATIONS, { operator: 'Exists', tolerationSeconds: 20 }], unreachable, 20],
    ['no NoExecute taint: stays', undefined, [{ key: TAINT_UNREACHABLE, effect: 'NoSchedule' }], null],
  ])('toleration: %s', (_name, tolerations, taints, seconds) => {
    expect(tolerationSeconds(pod('p', tolerations ? { tolerations } : {}), taints)).toBe(seconds);
  });

  it.each<[string, Node[], number[], string]>([
    ['the least loaded Ready node', [node('n1', 'True'), node('n2', 'True')], [1, 0], 'n2'],
    ['ties go to the first', [node('n1', 'True'), node('n2', 'True')], [0, 0], 'n1'],
    ['a failed node takes nothing', [node('n1', 'Unknown', { taints: desiredTaints(node('n1', 'Unknown'), AT) }), node('n2', 'True')], [0, 5], 'n2'],
    ['a cordoned node takes nothing', [node('n1', 'True', { unschedulable: true }), node('n2', 'True')], [0, 5], 'n2'],
  ])('scheduling: %s', (_name, nodes, loads, chosen) => {
    expect(chooseNode(pod('p'), nodes, (name) => loads[nodes.findIndex((n) => n.metadata.name === name)]!)).toEqual({ node: chosen });
  });

  it('a pod no node takes is unschedulable, with the scheduler\'s message', () => {
    const failed = node('n1', 'Unknown');
    const result = chooseNode(pod('p'), [{ ...failed, spec: { taints: desiredTaints(failed, AT) } }, node('n2', 'True', { unschedulable: true })], () => 0);
    expect(result).toEqual({
      unschedulable:
        '0/2 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 1 node(s) were unschedulable. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    });
  });

  const failedNode = (): Node => {
    const n = node('n1', 'Unknown');
    return { ...n, spec: { taints: desiredTaints(n, AT) } };
  };
  const names = (pods: Pod[]): string[] => pods.map((p) => p.metadata.name);
  it.each<[string, Node, Pod[], number, { markNotReady?: string[]; markReady?: string[]; evict?: string[]; resume?: string[]; nextEvictionAt?: number }]>([
    ['failed: Ready pods marked not Ready at once; eviction in 300 s', failedNode(), [pod('a', { tolerations: DEFAULT_TOLERATIONS }), pod('b', { ready: false, tolerations: DEFAULT_TOLERATIONS })], T0, { markNotReady: ['a'], nextEvictionAt: T0 + 300_000 }],
    ['failed, 300 s later: evicted', failedNode(), [pod('a', { ready: false, tolerations: DEFAULT_TOLERATIONS })], T0 + 300_000, { evict: ['a'] }],
    ['failed, no toleration: evicted at once', failedNode(), [pod('a')], T0, { markNotReady: ['a'], evict: ['a'] }],
    ['failed: a terminating pod is not evicted again', failedNode(), [pod('a', { ready: false, terminating: true })], T0 + 400_000, {}],
    ['failed: a finished pod is left alone', failedNode(), [pod('a', { phase: 'Succeeded', ready: false })], T0 + 400_000, {}],
    ['back: pods whose containers are ready are Ready again', node('n1', 'True'), [pod('a', { ready: false, containersReady: true }), pod('b', { ready: false, containersReady: false })], T0, { markReady: ['a'] }],
    ['back: terminating pods finish', node('n1', 'True'), [pod('a', { terminating: true, ready: false })], T0, { resume: ['a'] }],
  ])('pods on a node: %s', (_name, n, pods, now, expected) => {
    const plan = planNodePods(n, pods, now, T0);
    expect({ markNotReady: names(plan.markNotReady), markReady: names(plan.markReady), evict: names(plan.evict), resume: names(plan.resume), nextEvictionAt: plan.nextEvictionAt }).toEqual({
      markNotReady: [],
      markReady: [],
      evict: [],
      resume: [],
      nextEvictionAt: undefined,
      ...expected,
    });
  });
});

function cluster(nodes: number) {
  const clock = new ManualClock();
  const recorder = new MemoryEventRecorder();
  const store = new ObjectStore({ admit: podAdmission() });
  const index = new RecordIndex(store, KUBEADM);
  const controllers = new ControllerManager(store, {
    podCidr: parseCidr('127.10.0.0/16')!,
    startUnready: false,
    podGraceSeconds: 0,
    nodes,
    clock,
    recorder,
    log: (message) => {
      throw new Error(message);
    },
  });
  store.apply(loadManifests([KUBIA_EXAMPLE]).objects.map((m) => m.object));
  const get = (name: string) => store.get('Pod', 'default', name);
  const setNodeReady = (name: string, status: 'True' | 'Unknown') => {
    const n = store.get('Node', undefined, name)!;
    const conditions = status === 'True' ? healthyConditions(AT) : unknownConditions(n.status!.conditions!, AT);
    store.apply([{ ...n, status: { ...n.status, conditions } }]);
  };
  const endpoints = () => store.list('EndpointSlice', 'default').flatMap((s) => s.endpoints.filter((e) => e.conditions?.ready).map((e) => e.targetRef?.name));
  return { clock, recorder, store, index, controllers, get, setNodeReady, endpoints };
}

describe('node failure (lifecycle doc §5, Kubernetes in Action 10.5)', () => {
  it('registers the nodes, spreads the members over them and binds them there', () => {
    const c = cluster(2);
    expect(c.store.list('Node').map((n) => n.metadata.name)).toEqual(['headless-dns', 'headless-dns-m02']);
    expect(c.get('kubia-0')!.spec.nodeName).toBe('headless-dns');
    expect(c.get('kubia-1')!.spec.nodeName).toBe('headless-dns-m02');
    expect(c.get('kubia-0')!.status).toMatchObject({ hostIP: '127.0.0.1', hostIPs: [{ ip: '127.0.0.1' }] });
    expect(c.get('kubia-0')!.spec.tolerations).toEqual(DEFAULT_TOLERATIONS);
    expect(c.recorder.events.filter((e) => e.reason === 'Scheduled').map((e) => e.message)).toEqual([
      'Successfully assigned default/kubia-0 to headless-dns',
      'Successfully assigned default/kubia-1 to headless-dns-m02',
    ]);
  });

  it('fail → not Ready at once → evicted after 300 s → Terminating, not replaced → force delete → recreated on a Ready node', () => {
    const c = cluster(2);
    const before = c.get('kubia-1')!;
    c.setNodeReady('headless-dns-m02', 'Unknown');
    // At once: tainted, the pod not Ready, out of the slice's ready endpoints.
    expect(c.store.get('Node', undefined, 'headless-dns-m02')!.spec!.taints!.map((t) => `${t.key}:${t.effect}`)).toEqual([`${TAINT_UNREACHABLE}:NoSchedule`, `${TAINT_UNREACHABLE}:NoExecute`]);
    expect(isPodReady(c.get('kubia-1')!)).toBe(false);
    expect(c.endpoints()).toEqual(['kubia-0']);
    expect(c.get('kubia-1')!.metadata.deletionTimestamp).toBeUndefined();

    c.clock.advance(299_000);
    expect(c.get('kubia-1')!.metadata.deletionTimestamp).toBeUndefined();
    c.clock.advance(1_000);
    // Evicted: deleted gracefully, but no kubelet confirms: it stays, and nothing replaces it.
    const evicted = c.get('kubia-1')!;
    expect(evicted.metadata.uid).toBe(before.metadata.uid);
    expect(evicted.metadata.deletionTimestamp).toBeDefined();
    expect(evicted.metadata.deletionGracePeriodSeconds).toBe(30);
    expect(evicted.status!.conditions!.find((x) => x.type === 'DisruptionTarget')).toMatchObject({ status: 'True', reason: 'DeletionByTaintManager' });
    expect(c.recorder.events.find((e) => e.reason === 'TaintManagerEviction')).toMatchObject({ message: 'Marking for deletion Pod default/kubia-1', involved: { name: 'kubia-1' } });
    expect(c.recorder.events.find((e) => e.reason === 'NodeNotReady' && e.involved.kind === 'Pod')).toMatchObject({ type: 'Warning', message: 'Node is not ready' });
    c.clock.advance(3_600_000);
    expect(c.get('kubia-1')!.metadata.uid).toBe(before.metadata.uid);

    // kubectl delete pod kubia-1 --grace-period=0 --force
    c.controllers.terminator.delete(c.get('kubia-1')!, 0);
    const replaced = c.get('kubia-1')!;
    expect(replaced.metadata.uid).not.toBe(before.metadata.uid);
    expect(replaced.spec.nodeName).toBe('headless-dns');
    expect(isPodReady(replaced)).toBe(true);
    expect(replaced.status!.podIP).not.toBe(before.status!.podIP);
    expect(c.endpoints().sort()).toEqual(['kubia-0', 'kubia-1']);
    c.controllers.close();
  });

  it('restored before the toleration runs out: the pods are Ready again and nothing is evicted', () => {
    const c = cluster(1);
    const uid = c.get('kubia-0')!.metadata.uid;
    c.setNodeReady('headless-dns', 'Unknown');
    expect(c.endpoints()).toEqual([]);
    c.clock.advance(120_000);
    c.setNodeReady('headless-dns', 'True');
    expect(c.store.get('Node', undefined, 'headless-dns')!.spec!.taints).toBeUndefined();
    expect(c.endpoints().sort()).toEqual(['kubia-0', 'kubia-1']);
    c.clock.advance(600_000);
    expect(c.get('kubia-0')!.metadata).toMatchObject({ uid });
    expect(c.get('kubia-0')!.metadata.deletionTimestamp).toBeUndefined();
    expect(c.clock.pending).toBe(0);
    c.controllers.close();
  });

  it('with every node down a new member stays Pending, Unschedulable, until a node is back', () => {
    const c = cluster(1);
    c.setNodeReady('headless-dns', 'Unknown');
    c.controllers.terminator.delete(c.get('kubia-0')!, 0);
    const pending = c.get('kubia-0')!;
    expect(pending.status).toMatchObject({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] });
    expect(pending.spec.nodeName).toBeUndefined();
    c.setNodeReady('headless-dns', 'True');
    expect(c.get('kubia-0')!.spec.nodeName).toBe('headless-dns');
    expect(isPodReady(c.get('kubia-0')!)).toBe(true);
    c.controllers.close();
  });
});
