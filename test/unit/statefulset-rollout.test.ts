// The StatefulSet controller's update rules (lifecycle doc §2, §3), as a table:
// a set and its pods in the store → what one reconcile does (which pods it
// deletes, which it creates and at which revision). Kubernetes' own
// stateful_set_control_test.go checks the same steps.

import { describe, expect, it } from 'vitest';
import {
  StatefulSetHistory,
  controllerRevisionName,
  fnv32,
  goJson,
  hashControllerRevision,
  revisionData,
  revisionsToTruncate,
  safeEncodeString,
} from '../../src/controllers/history.js';
import { StatefulSetController, computeStatus, maxUnavailableOf } from '../../src/controllers/statefulset.js';
import { ManualClock } from '../../src/model/clock.js';
import type { ControllerRevision, OwnerReference, Pod, StatefulSet } from '../../src/model/types.js';
import { ObjectStore } from '../../src/store/store.js';

type Rev = 'old' | 'new';
interface PodState {
  rev: Rev;
  /** Default true. */
  ready?: boolean;
  terminating?: boolean;
  phase?: 'Running' | 'Failed' | 'Pending';
  /** Seconds since it became Ready (minReadySeconds); default long ago. */
  readyFor?: number;
}

interface Case {
  name: string;
  replicas?: number;
  strategy?: Record<string, unknown>;
  policy?: 'OrderedReady' | 'Parallel';
  minReadySeconds?: number;
  /** Pods by ordinal; null = missing. */
  pods: (PodState | null)[];
  deleted: string[];
  created: { name: string; rev: Rev }[];
}

const NOW = Date.parse('2026-01-01T00:10:00Z');

function template(image: string): StatefulSet['spec']['template'] {
  return { metadata: { labels: { app: 'kubia' } }, spec: { containers: [{ name: 'kubia', image }] } };
}

function setUp(c: Pick<Case, 'replicas' | 'strategy' | 'policy' | 'minReadySeconds'> & { pods: (PodState | null)[]; historyLimit?: number }) {
  const store = new ObjectStore();
  const history = new StatefulSetHistory(store);
  const base: StatefulSet = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'kubia', namespace: 'default' },
    spec: {
      replicas: c.replicas ?? c.pods.length,
      serviceName: 'kubia',
      selector: { matchLabels: { app: 'kubia' } },
      template: template('luksa/kubia-pet'),
      ...(c.strategy ? { updateStrategy: c.strategy } : {}),
      ...(c.policy ? { podManagementPolicy: c.policy } : {}),
      ...(c.minReadySeconds ? { minReadySeconds: c.minReadySeconds } : {}),
      ...(c.historyLimit !== undefined ? { revisionHistoryLimit: c.historyLimit } : {}),
    },
  };
  let [set] = store.apply([base]) as StatefulSet[];
  const refs: OwnerReference[] = [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'kubia', uid: set!.metadata.uid!, controller: true, blockOwnerDeletion: true }];
  const old = history.revisions(set!, refs).update;
  [set] = store.apply([{ ...set!, spec: { ...set!.spec, template: template('luksa/kubia-pet-peers') }, status: { currentRevision: old.metadata.name } }]) as StatefulSet[];
  const fresh = history.revisions(set!, refs).update;
  const names: Record<Rev, string> = { old: old.metadata.name, new: fresh.metadata.name };
  const at = (seconds: number) => new Date(NOW - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const pods: Pod[] = [];
  c.pods.forEach((state, ordinal) => {
    if (!state) return;
    const ready = state.ready ?? true;
    pods.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `kubia-${ordinal}`,
        namespace: 'default',
        labels: { app: 'kubia', 'controller-revision-hash': names[state.rev], 'apps.kubernetes.io/pod-index': String(ordinal) },
        ownerReferences: refs,
        ...(state.terminating ? { deletionTimestamp: at(1), deletionGracePeriodSeconds: 30 } : {}),
      },
      spec: { containers: [] },
      status: {
        phase: state.phase ?? 'Running',
        podIP: `10.1.0.${ordinal + 10}`,
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: at(state.readyFor ?? 3600) }],
      },
    });
  });
  if (pods.length) store.apply(pods);
  const deleted: string[] = [];
  const created: { name: string; rev: Rev }[] = [];
  store.subscribe((events) => {
    for (const e of events) {
      if (e.type !== 'ADDED' || e.object.kind !== 'Pod') continue;
      const label = e.object.metadata.labels?.['controller-revision-hash'];
      created.push({ name: e.object.metadata.name, rev: label === names.old ? 'old' : 'new' });
    }
  });
  const clock = new ManualClock(NOW);
  const controller = new StatefulSetController(store, { deletePod: (pod) => deleted.push(pod.metadata.name), clock });
  return { store, controller, deleted, created, names, history, refs, clock };
}

const CASES: Case[] = [
  { name: 'RollingUpdate: the highest ordinal goes first', pods: [{ rev: 'old' }, { rev: 'old' }, { rev: 'old' }], deleted: ['kubia-2'], created: [] },
  { name: 'RollingUpdate: then the next one down', pods: [{ rev: 'old' }, { rev: 'old' }, { rev: 'new' }], deleted: ['kubia-1'], created: [] },
  { name: 'RollingUpdate: a member deleted for the update comes back at the update revision', pods: [{ rev: 'old' }, { rev: 'old' }, null], deleted: [], created: [{ name: 'kubia-2', rev: 'new' }] },
  { name: 'RollingUpdate: waits for the new member to be Ready', pods: [{ rev: 'old' }, { rev: 'old' }, { rev: 'new', ready: false }], deleted: [], created: [] },
  { name: 'RollingUpdate: waits for the new member to be available (minReadySeconds)', minReadySeconds: 10, pods: [{ rev: 'old' }, { rev: 'old' }, { rev: 'new', readyFor: 5 }], deleted: [], created: [] },
  { name: 'RollingUpdate: goes on once it is available', minReadySeconds: 10, pods: [{ rev: 'old' }, { rev: 'old' }, { rev: 'new', readyFor: 11 }], deleted: ['kubia-1'], created: [] },
  { name: 'RollingUpdate: an unhealthy member anywhere stalls it', pods: [{ rev: 'old', ready: false }, { rev: 'old' }, { rev: 'old' }], deleted: [], created: [] },
  { name: 'RollingUpdate: a terminating member is waited for, not replaced twice', pods: [{ rev: 'old' }, { rev: 'old' }, { rev: 'old', terminating: true }], deleted: [], created: [] },
  { name: 'RollingUpdate: done when every member is at the update revision', pods: [{ rev: 'new' }, { rev: 'new' }, { rev: 'new' }], deleted: [], created: [] },
  { name: 'partition 2: only ordinals >= 2 are replaced', strategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } }, pods: [{ rev: 'old' }, { rev: 'old' }, { rev: 'old' }], deleted: ['kubia-2'], created: [] },
  { name: 'partition 2: nothing more once kubia-2 is updated', strategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } }, pods: [{ rev: 'old' }, { rev: 'old' }, { rev: 'new' }], deleted: [], created: [] },
  { name: 'partition 2: a member below it that is deleted comes back at the OLD revision', strategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } }, pods: [{ rev: 'old' }, null, { rev: 'new' }], deleted: [], created: [{ name: 'kubia-1', rev: 'old' }] },
  { name: 'partition 2: one at or above it comes back at the new revision', strategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } }, pods: [{ rev: 'old' }, { rev: 'old' }, null], deleted: [], created: [{ name: 'kubia-2', rev: 'new' }] },
  { name: 'partition beyond replicas: nothing is replaced', strategy: { type: 'RollingUpdate', rollingUpdate: { partition: 5 } }, pods: [{ rev: 'old' }, { rev: 'old' }, { rev: 'old' }], deleted: [], created: [] },
  { name: 'maxUnavailable 2: two at once, highest first', strategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 2 } }, pods: [{ rev: 'old' }, { rev: 'old' }, { rev: 'old' }], deleted: ['kubia-2', 'kubia-1'], created: [] },
  { name: 'maxUnavailable 50% of 4: two at once', replicas: 4, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '50%' } }, pods: [{ rev: 'old' }, { rev: 'old' }, { rev: 'old' }, { rev: 'old' }], deleted: ['kubia-3', 'kubia-2'], created: [] },
  { name: 'maxUnavailable 2, Parallel: an unavailable member counts against it', policy: 'Parallel', strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2 } }, pods: [{ rev: 'old' }, { rev: 'old' }, { rev: 'new', ready: false }], deleted: ['kubia-1'], created: [] },
  { name: 'maxUnavailable 1, Parallel: an unavailable member stalls it', policy: 'Parallel', pods: [{ rev: 'old' }, { rev: 'old' }, { rev: 'new', ready: false }], deleted: [], created: [] },
  { name: 'Parallel: still highest ordinal first', policy: 'Parallel', pods: [{ rev: 'old' }, { rev: 'old' }, { rev: 'old' }], deleted: ['kubia-2'], created: [] },
  { name: 'OnDelete: nothing is replaced', strategy: { type: 'OnDelete' }, pods: [{ rev: 'old' }, { rev: 'old' }, { rev: 'old' }], deleted: [], created: [] },
  { name: 'OnDelete: a deleted member comes back at the update revision', strategy: { type: 'OnDelete' }, pods: [{ rev: 'old' }, null, { rev: 'old' }], deleted: [], created: [{ name: 'kubia-1', rev: 'new' }] },
  { name: 'a Failed member is deleted, to be made again', pods: [{ rev: 'new' }, { rev: 'new', phase: 'Failed', ready: false }, { rev: 'new' }], deleted: ['kubia-1'], created: [] },
  { name: 'scaling comes before updating: the condemned member goes first', replicas: 2, pods: [{ rev: 'old' }, { rev: 'old' }, { rev: 'old' }], deleted: ['kubia-2'], created: [] },
];

describe('StatefulSet rolling update: state → actions', () => {
  it.each(CASES)('$name', (c) => {
    const { controller, deleted, created } = setUp(c);
    controller.reconcile('default', 'kubia');
    expect({ deleted, created }).toEqual({ deleted: c.deleted, created: c.created });
  });

  it('minReadySeconds: the set is looked at again when the member becomes available', () => {
    const { controller, deleted, clock } = setUp({ minReadySeconds: 10, pods: [{ rev: 'old' }, { rev: 'old' }, { rev: 'new', readyFor: 5 }] });
    controller.reconcile('default', 'kubia');
    expect(deleted).toEqual([]);
    // Ready 5 s ago, whole seconds, strictly more than 10 s: due in 5.001 s.
    clock.advance(5_000);
    expect(deleted).toEqual([]);
    clock.advance(1);
    expect(deleted).toEqual(['kubia-1']);
  });
});

describe('StatefulSet status', () => {
  const rows: { name: string; strategy?: Record<string, unknown>; pods: PodState[]; expected: Record<string, unknown> }[] = [
    { name: 'mid-rollout', pods: [{ rev: 'old' }, { rev: 'old' }, { rev: 'new' }], expected: { replicas: 3, readyReplicas: 3, currentReplicas: 2, updatedReplicas: 1, current: 'old', update: 'new' } },
    { name: 'complete: the update revision becomes current', pods: [{ rev: 'new' }, { rev: 'new' }, { rev: 'new' }], expected: { currentReplicas: 3, updatedReplicas: 3, current: 'new' } },
    { name: 'all updated but one not ready: not complete yet', pods: [{ rev: 'new' }, { rev: 'new' }, { rev: 'new', ready: false }], expected: { readyReplicas: 2, currentReplicas: 0, current: 'old' } },
    { name: 'OnDelete never completes (as in Kubernetes)', strategy: { type: 'OnDelete' }, pods: [{ rev: 'new' }, { rev: 'new' }], expected: { currentReplicas: 0, updatedReplicas: 2, current: 'old' } },
    { name: 'a terminating pod counts as ready but at no revision', pods: [{ rev: 'old' }, { rev: 'old', terminating: true }], expected: { replicas: 2, readyReplicas: 2, currentReplicas: 1 } },
  ];
  it.each(rows)('$name', (row) => {
    const { store, names } = setUp({ ...(row.strategy ? { strategy: row.strategy } : {}), pods: row.pods });
    const set = store.get('StatefulSet', 'default', 'kubia')!;
    const status = computeStatus(set, store.list('Pod', 'default'), { current: names.old, update: names.new, collisionCount: 0 }, 0, NOW);
    const { current, update, ...counts } = row.expected;
    expect(status).toMatchObject(counts);
    if (current) expect(status.currentRevision).toBe(names[current as Rev]);
    if (update) expect(status.updateRevision).toBe(names[update as Rev]);
  });

  it('the reconcile writes it, with observedGeneration', () => {
    const { store, controller, names } = setUp({ pods: [{ rev: 'new' }, { rev: 'new' }, { rev: 'new' }] });
    controller.reconcile('default', 'kubia');
    const set = store.get('StatefulSet', 'default', 'kubia')!;
    expect(set.status).toMatchObject({ observedGeneration: 2, replicas: 3, updatedReplicas: 3, currentRevision: names.new, updateRevision: names.new, availableReplicas: 3, collisionCount: 0 });
  });

  it('maxUnavailable: numbers, percentages rounded down, at least 1', () => {
    expect([maxUnavailableOf(2, 5), maxUnavailableOf('50%', 5), maxUnavailableOf('10%', 5), maxUnavailableOf(0, 5), maxUnavailableOf('100%', 3)]).toEqual([2, 2, 1, 1, 3]);
  });
});

describe('ControllerRevisions (controller_history.go)', () => {
  it('FNV-1 32 (Go hash/fnv New32), not FNV-1a, and SafeEncodeString', () => {
    expect(fnv32(Buffer.from(''))).toBe(0x811c9dc5);
    expect(fnv32(Buffer.from('a'))).toBe(0x050c5d7e);
    expect(fnv32(Buffer.from('foobar'))).toBe(0x31f0b262);
    // rand.SafeEncodeString maps each byte b to "bcdfghjklmnpqrstvwxz2456789"[b % 27]: '0' (48) → '4'.
    expect(safeEncodeString('0123')).toBe('4567');
    expect(hashControllerRevision('x', 0)).toBe(safeEncodeString(String(fnv32(Buffer.from('x0')))));
    expect(controllerRevisionName('a'.repeat(300), 'h')).toHaveLength(225);
  });

  it("data is the template under spec.template with $patch: replace, serialised as Go's json.Marshal does", () => {
    const { raw } = revisionData({ metadata: { labels: { app: 'kubia' } }, spec: { containers: [{ name: 'kubia', image: 'a<b' }] } });
    expect(raw).toBe('{"spec":{"template":{"$patch":"replace","metadata":{"creationTimestamp":null,"labels":{"app":"kubia"}},"spec":{"containers":[{"image":"a\\u003cb","name":"kubia"}]}}}}');
    expect(goJson({ b: 1, a: [true, null] })).toBe('{"a":[true,null],"b":1}');
  });

  it('one revision per distinct template, numbered, owned, labelled; a template that returns is renumbered, not copied', () => {
    const { store, history, refs, names } = setUp({ pods: [] });
    const list = () => history.list(store.get('StatefulSet', 'default', 'kubia')!).map((r) => [r.metadata.name, r.revision]);
    expect(list()).toEqual([
      [names.old, 1],
      [names.new, 2],
    ]);
    const revision = store.get('ControllerRevision', 'default', names.old)!;
    expect(revision.metadata.ownerReferences).toEqual(refs);
    expect(revision.metadata.labels).toMatchObject({ app: 'kubia', 'controller.kubernetes.io/hash': names.old.slice('kubia-'.length) });
    expect(names.old).toBe(`kubia-${hashControllerRevision(revisionData(template('luksa/kubia-pet')).raw, 0)}`);
    // Back to the first template (rollout undo): revision 1 becomes revision 3.
    const set = store.get('StatefulSet', 'default', 'kubia')!;
    const [back] = store.apply([{ ...set, spec: { ...set.spec, template: template('luksa/kubia-pet') } }]) as StatefulSet[];
    expect(history.revisions(back!, refs).update.metadata.name).toBe(names.old);
    expect(list()).toEqual([
      [names.new, 2],
      [names.old, 3],
    ]);
  });

  it('a name taken by other data bumps the collision count', () => {
    const { store, history, refs } = setUp({ pods: [] });
    const set = store.get('StatefulSet', 'default', 'kubia')!;
    const raw = revisionData(template('third')).raw;
    // Someone holds the name the third template would get, with other data.
    store.apply([{ apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: controllerRevisionName('kubia', hashControllerRevision(raw, 0)), namespace: 'default' }, data: { other: true }, revision: 9 } as ControllerRevision]);
    const [third] = store.apply([{ ...set, spec: { ...set.spec, template: template('third') } }]) as StatefulSet[];
    const result = history.revisions(third!, refs);
    expect(result.collisionCount).toBe(1);
    expect(result.update.metadata.name).toBe(controllerRevisionName('kubia', hashControllerRevision(raw, 1)));
  });

  it('truncation keeps revisionHistoryLimit beyond the live ones, oldest deleted first', () => {
    const revision = (name: string, n: number) => ({ metadata: { name }, revision: n }) as ControllerRevision;
    const all = [revision('r1', 1), revision('r2', 2), revision('r3', 3), revision('r4', 4), revision('r5', 5)];
    const doomed = (live: string[], limit: number) => revisionsToTruncate(all, new Set(live), limit).map((r) => r.metadata.name);
    expect(doomed(['r5'], 2)).toEqual(['r1', 'r2']);
    expect(doomed(['r5', 'r1'], 2)).toEqual(['r2']);
    expect(doomed(['r5', 'r4'], 0)).toEqual(['r1', 'r2', 'r3']);
    expect(doomed(['r5'], 10)).toEqual([]);
  });

  it('the controller truncates the history of a set past its limit', () => {
    const { store, controller, history, refs } = setUp({ pods: [{ rev: 'new' }], historyLimit: 1 });
    for (const image of ['v3', 'v4', 'v5']) {
      const set = store.get('StatefulSet', 'default', 'kubia')!;
      const [next] = store.apply([{ ...set, spec: { ...set.spec, template: template(image) } }]) as StatefulSet[];
      history.revisions(next!, refs);
    }
    controller.reconcile('default', 'kubia');
    const left = history.list(store.get('StatefulSet', 'default', 'kubia')!).map((r) => r.revision);
    // Live: the current (revision 1, from status), the update (5) and the pod's (2); one more is kept (4).
    expect(left).toEqual([1, 2, 4, 5]);
  });
});
