// The storage rules (lifecycle doc §4), as tables of state → result, then the
// controllers that apply them, driven through a store as the cluster drives them.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ControllerManager } from '../../src/controllers/manager.js';
import { MemoryEventRecorder } from '../../src/controllers/events.js';
import {
  type RetentionPolicy,
  accessModesText,
  claimOwnerRefs,
  claimOwnerUpToDate,
  claimOrdinal,
  claimsForMember,
  memberVolumes,
  podClaimIsStale,
  VolumeController,
} from '../../src/controllers/volumes.js';
import { canonicalQuantity } from '../../src/model/quantity.js';
import { validateObject } from '../../src/model/validate.js';
import type { KubeObject, OwnerReference, PersistentVolume, PersistentVolumeClaim, Pod, StatefulSet } from '../../src/model/types.js';
import { parseCidr } from '../../src/store/allocator.js';
import { ObjectStore } from '../../src/store/store.js';

function statefulSet(options: { replicas?: number; policy?: Partial<RetentionPolicy>; templates?: unknown[]; uid?: string } = {}): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'kubia', namespace: 'default', ...(options.uid ? { uid: options.uid } : {}) },
    spec: {
      replicas: options.replicas ?? 2,
      serviceName: 'kubia',
      selector: { matchLabels: { app: 'kubia' } },
      template: { metadata: { labels: { app: 'kubia' } }, spec: { containers: [{ name: 'kubia', image: 'luksa/kubia-pet' }] } },
      volumeClaimTemplates: (options.templates ?? [{ metadata: { name: 'data' }, spec: { resources: { requests: { storage: '1Mi' } }, accessModes: ['ReadWriteOnce'] } }]) as StatefulSet['spec']['volumeClaimTemplates'],
      ...(options.policy ? { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain', ...options.policy } } : {}),
    },
  };
}

const SET_REF: OwnerReference = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'kubia', uid: 'set-uid', controller: true, blockOwnerDeletion: true };
const POD_REF: OwnerReference = { apiVersion: 'v1', kind: 'Pod', name: 'kubia-2', uid: 'pod-uid', controller: true, blockOwnerDeletion: true };
const pod2 = { metadata: { name: 'kubia-2', uid: 'pod-uid' } };
const claimWith = (refs: OwnerReference[]): PersistentVolumeClaim => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: 'data-kubia-2', namespace: 'default', ...(refs.length ? { ownerReferences: refs } : {}) },
  spec: {},
});

describe('claims of a member (getPersistentVolumeClaims, updateStorage)', () => {
  it.each([
    { what: 'the book: data-kubia-1 with the selector labels', templates: undefined, ordinal: 1, names: ['data-kubia-1'], labels: [{ app: 'kubia' }] },
    {
      what: 'two templates, labels of the template kept, the selector wins a clash',
      templates: [
        { metadata: { name: 'data', labels: { tier: 'db', app: 'other' } }, spec: {} },
        { metadata: { name: 'logs' }, spec: {} },
      ],
      ordinal: 0,
      names: ['data-kubia-0', 'logs-kubia-0'],
      labels: [{ tier: 'db', app: 'kubia' }, { app: 'kubia' }],
    },
  ])('$what', ({ templates, ordinal, names, labels }) => {
    const claims = claimsForMember(statefulSet(templates ? { templates } : {}), ordinal);
    expect(claims.map((c) => c.metadata.name)).toEqual(names);
    expect(claims.map((c) => c.metadata.labels)).toEqual(labels);
    expect(claims.every((c) => c.metadata.namespace === 'default')).toBe(true);
  });

  it('the template spec is the claim spec', () => {
    expect(claimsForMember(statefulSet(), 0)[0]!.spec).toEqual({ resources: { requests: { storage: '1Mi' } }, accessModes: ['ReadWriteOnce'] });
  });

  it.each([
    { what: 'no volumes: one per template', current: [], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-kubia-3' } }] },
    {
      what: 'a template volume of the same name is replaced, others kept after',
      current: [{ name: 'data', emptyDir: {} }, { name: 'config', configMap: { name: 'c' } }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-kubia-3' } }, { name: 'config', configMap: { name: 'c' } }],
    },
  ])('memberVolumes: $what', ({ current, volumes }) => {
    expect(memberVolumes(statefulSet(), 3, current)).toEqual(volumes);
  });

  it.each([
    ['data-kubia-0', 0],
    ['data-kubia-17', 17],
    ['data-kubia-01', undefined],
    ['data-kubia-', undefined],
    ['logs-kubia-0', undefined],
    ['data-kubiax-0', undefined],
  ] as const)('claimOrdinal(%s) = %s', (name, ordinal) => {
    expect(claimOrdinal(statefulSet(), name)).toBe(ordinal);
  });
});

describe('owner references per persistentVolumeClaimRetentionPolicy (updateClaimOwnerRefForSetAndPod)', () => {
  const set = statefulSet({ uid: 'set-uid', replicas: 2 });
  const withPolicy = (policy: Partial<RetentionPolicy>): StatefulSet => ({ ...set, spec: { ...set.spec, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain', ...policy } } });
  it.each([
    { policy: {}, inRange: true, refs: [] },
    { policy: {}, inRange: false, refs: [] },
    { policy: { whenDeleted: 'Delete' }, inRange: true, refs: [SET_REF] },
    { policy: { whenDeleted: 'Delete' }, inRange: false, refs: [SET_REF] },
    { policy: { whenScaled: 'Delete' }, inRange: true, refs: [] },
    { policy: { whenScaled: 'Delete' }, inRange: false, refs: [POD_REF] },
    { policy: { whenScaled: 'Delete', whenDeleted: 'Delete' }, inRange: true, refs: [SET_REF] },
    { policy: { whenScaled: 'Delete', whenDeleted: 'Delete' }, inRange: false, refs: [POD_REF] },
  ] as const)('$policy, in range $inRange → $refs.length refs', ({ policy, inRange, refs }) => {
    const s = withPolicy(policy);
    const fresh = claimWith([]);
    expect(claimOwnerRefs(fresh, s, pod2, inRange)).toEqual(refs);
    expect(claimOwnerUpToDate(fresh, s, pod2, inRange)).toBe(refs.length === 0);
    // Applying the result leaves it up to date.
    expect(claimOwnerUpToDate(claimWith([...refs]), s, pod2, inRange)).toBe(true);
  });

  it.each([
    { what: 'a ref that is not a controller ref is redone', refs: [{ ...SET_REF, controller: false }], policy: { whenDeleted: 'Delete' }, upToDate: false, after: [SET_REF] },
    { what: 'a stale ref (an earlier set of the name) is left alone', refs: [{ ...SET_REF, uid: 'old' }], policy: { whenDeleted: 'Delete' }, upToDate: true, after: undefined },
    {
      what: 'another controller: our refs are scrubbed, none added',
      refs: [SET_REF, { apiVersion: 'example.com/v1', kind: 'Db', name: 'x', uid: 'db', controller: true }],
      policy: { whenDeleted: 'Delete' },
      upToDate: false,
      after: [{ apiVersion: 'example.com/v1', kind: 'Db', name: 'x', uid: 'db', controller: true }],
    },
    { what: 'Retain/Retain takes our refs away', refs: [SET_REF], policy: {}, upToDate: false, after: [] },
  ] as const)('$what', ({ refs, policy, upToDate, after }) => {
    const s = withPolicy(policy);
    const claim = claimWith([...refs] as OwnerReference[]);
    expect(claimOwnerUpToDate(claim, s, pod2, true)).toBe(upToDate);
    if (after) expect(claimOwnerRefs(claim, s, pod2, true)).toEqual(after);
  });

  it.each([
    { policy: { whenScaled: 'Delete' }, refs: [POD_REF], pod: { metadata: { name: 'kubia-2' } }, stale: true },
    { policy: { whenScaled: 'Delete' }, refs: [POD_REF], pod: pod2, stale: false },
    { policy: { whenScaled: 'Delete' }, refs: [], pod: { metadata: { name: 'kubia-2' } }, stale: false },
    { policy: {}, refs: [POD_REF], pod: { metadata: { name: 'kubia-2' } }, stale: false },
  ] as const)('PodClaimIsStale $policy with $refs.length refs, pod uid $pod.metadata.uid → $stale', ({ policy, refs, pod, stale }) => {
    expect(podClaimIsStale(claimWith([...refs]), withPolicy(policy), pod)).toBe(stale);
  });
});

describe('printing helpers', () => {
  it.each([
    ['1Mi', '1Mi'],
    ['1024Mi', '1Gi'],
    ['1.5Gi', '1536Mi'],
    ['0.5Ki', '512'],
    ['1000M', '1G'],
    ['1500M', '1500M'],
    ['0.5', '500m'],
    ['100', '100'],
    ['1e3', '1e3'],
    ['junk', 'junk'],
  ])('quantity %s → %s', (text, canonical) => {
    expect(canonicalQuantity(text)).toBe(canonical);
  });

  it.each([
    [['ReadWriteOnce'], 'RWO'],
    [['ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOnce'], 'RWO,RWX'],
    [['ReadWriteOncePod', 'ReadOnlyMany'], 'ROX,RWOP'],
    [[], ''],
  ])('access modes %j → %s', (modes, text) => {
    expect(accessModesText(modes)).toBe(text);
  });
});

describe('finalizers in the store (the API server delete path)', () => {
  const claim = (finalizers?: string[]): KubeObject => ({ ...claimWith([]), metadata: { name: 'c', ...(finalizers ? { finalizers } : {}) } });
  it('a delete of an object with finalizers marks it; removing the last finalizer deletes it', () => {
    const store = new ObjectStore();
    const events: string[] = [];
    store.subscribe((batch) => batch.forEach((e) => events.push(`${e.type} ${e.object.metadata.deletionTimestamp ? 'terminating' : 'live'}`)));
    store.apply([claim(['example.com/hold'])]);
    const marked = store.delete('PersistentVolumeClaim', 'default', 'c');
    expect(marked.metadata.deletionTimestamp).toBeDefined();
    expect(marked.metadata.deletionGracePeriodSeconds).toBe(0);
    expect(marked.metadata.generation).toBe(2);
    // A second delete changes nothing and answers the object.
    expect(store.delete('PersistentVolumeClaim', 'default', 'c').metadata.resourceVersion).toBe(marked.metadata.resourceVersion);
    const current = store.get('PersistentVolumeClaim', 'default', 'c')!;
    store.apply([{ ...current, metadata: { ...current.metadata, finalizers: [] } }], 'update');
    expect(store.get('PersistentVolumeClaim', 'default', 'c')).toBeUndefined();
    expect(events).toEqual(['ADDED live', 'MODIFIED terminating', 'DELETED terminating']);
  });

  it('without finalizers a delete removes at once; a dry run plans the mark', () => {
    const store = new ObjectStore();
    store.apply([claim(), { ...claim(['x']), metadata: { name: 'd', finalizers: ['x'] } }]);
    store.delete('PersistentVolumeClaim', 'default', 'c');
    expect(store.get('PersistentVolumeClaim', 'default', 'c')).toBeUndefined();
    const [planned] = store.plan([{ op: 'delete', kind: 'PersistentVolumeClaim', namespace: 'default', name: 'd' }]);
    expect(planned?.type).toBe('MODIFIED');
    expect(store.get('PersistentVolumeClaim', 'default', 'd')!.metadata.deletionTimestamp).toBeUndefined();
  });

  it('a terminating pod without finalizers is not deleted by a status update', () => {
    const store = new ObjectStore();
    const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', deletionTimestamp: '2026-01-01T00:00:00Z' }, spec: { containers: [{ name: 'c' }] } };
    store.apply([pod]);
    store.apply([{ ...store.get('Pod', 'default', 'p')!, status: { phase: 'Running' } }]);
    expect(store.get('Pod', 'default', 'p')?.status?.phase).toBe('Running');
  });
});

describe('CreateStatefulPod: claims in the write, before their pod', () => {
  it('records SuccessfulCreate on the set, adopts an existing claim, holds a pod whose claim is being deleted', () => {
    const store = new ObjectStore();
    const recorder = new MemoryEventRecorder();
    const volumes = new VolumeController(store, { log: () => undefined, recorder });
    const set = { ...statefulSet({ policy: { whenDeleted: 'Delete' } }), metadata: { name: 'kubia', namespace: 'default', uid: 'set-uid' } };
    const pod = (ordinal: number): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `kubia-${ordinal}`, namespace: 'default', labels: { 'apps.kubernetes.io/pod-index': String(ordinal) } }, spec: { containers: [{ name: 'kubia' }] } });
    store.apply([
      { ...claimsForMember(set, 1)[0]!, metadata: { ...claimsForMember(set, 1)[0]!.metadata } },
      { ...claimsForMember(set, 2)[0]!, metadata: { ...claimsForMember(set, 2)[0]!.metadata, finalizers: ['kubernetes.io/pvc-protection'] } },
    ]);
    store.delete('PersistentVolumeClaim', 'default', 'data-kubia-2');
    const changes = volumes.withClaims(set, [pod(0), pod(1), pod(2)]);
    const summary = changes.map((c) => (c.op === 'put' ? `${c.mode} ${c.object.kind}/${c.object.metadata.name}` : 'delete'));
    expect(summary).toEqual(['update PersistentVolumeClaim/data-kubia-1', 'create PersistentVolumeClaim/data-kubia-0', 'create Pod/kubia-0', 'create Pod/kubia-1']);
    const adopted = changes[0]!.op === 'put' ? changes[0]!.object : undefined;
    expect(adopted?.metadata.ownerReferences).toEqual([SET_REF]);
    expect(recorder.events.map((e) => `${e.type} ${e.reason} ${e.involved.kind}/${e.involved.name}: ${e.message}`)).toEqual([
      'Normal SuccessfulCreate StatefulSet/kubia: create Claim data-kubia-0 Pod kubia-0 in StatefulSet kubia success',
    ]);
    volumes.close();
  });
});

describe('the storage controllers on a store', () => {
  const roots: string[] = [];
  const managers: ControllerManager[] = [];
  afterEach(() => {
    for (const m of managers.splice(0)) m.close();
    for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
  });

  function cluster(options: { root?: string; store?: ObjectStore } = {}) {
    const store = options.store ?? new ObjectStore();
    const manager = new ControllerManager(store, {
      podCidr: parseCidr('127.10.0.0/16')!,
      startUnready: false,
      podGraceSeconds: 0,
      log: (message) => {
        throw new Error(message);
      },
      ...(options.root ? { volumeRoot: options.root } : {}),
    });
    managers.push(manager);
    const claim = (name: string) => store.get('PersistentVolumeClaim', 'default', name);
    const volumeOf = (name: string) => store.get('PersistentVolume', undefined, claim(name)?.spec.volumeName ?? '');
    const dirOf = (name: string) => volumeOf(name)!.spec.hostPath!.path;
    const sts = () => store.get('StatefulSet', 'default', 'kubia')!;
    const scale = (replicas: number) => store.apply([{ ...sts(), spec: { ...sts().spec, replicas } }]);
    const claims = () => store.list('PersistentVolumeClaim', 'default').map((c) => c.metadata.name).sort();
    return { store, manager, claim, volumeOf, dirOf, scale, claims, sts };
  }

  it('claims are made before their pods, bound to pvc-<uid> on a directory, and kept over a scale down', () => {
    const c = cluster();
    const order: string[] = [];
    c.store.subscribe((batch) => batch.forEach((e) => e.type === 'ADDED' && order.push(`${e.object.kind}/${e.object.metadata.name}`)));
    c.store.apply([statefulSet()]);
    expect(order.filter((o) => /^(StatefulSet|PersistentVolumeClaim|Pod)\//.test(o))).toEqual(['StatefulSet/kubia', 'PersistentVolumeClaim/data-kubia-0', 'Pod/kubia-0', 'PersistentVolumeClaim/data-kubia-1', 'Pod/kubia-1']);
    const claim = c.claim('data-kubia-0')!;
    expect(claim.status).toEqual({ phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Mi' } });
    expect(claim.spec.volumeName).toBe(`pvc-${claim.metadata.uid}`);
    expect(claim.spec.storageClassName).toBe('standard');
    expect(claim.metadata.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    const volume = c.volumeOf('data-kubia-0')!;
    expect(volume.spec).toMatchObject({ persistentVolumeReclaimPolicy: 'Delete', storageClassName: 'standard', capacity: { storage: '1Mi' }, claimRef: { name: 'data-kubia-0', uid: claim.metadata.uid } });
    expect(volume.status?.phase).toBe('Bound');
    expect(existsSync(c.dirOf('data-kubia-0'))).toBe(true);
    expect(c.store.get('Pod', 'default', 'kubia-0')!.spec.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'data-kubia-0' } }]);

    c.scale(3);
    const uid = c.claim('data-kubia-2')!.metadata.uid;
    writeFileSync(join(c.dirOf('data-kubia-2'), 'state'), 'kept');
    c.scale(2);
    expect(c.store.get('Pod', 'default', 'kubia-2')).toBeUndefined();
    expect(c.claim('data-kubia-2')?.metadata.uid).toBe(uid);
    c.scale(3);
    expect(c.claim('data-kubia-2')?.metadata.uid).toBe(uid);
    expect(readFileSync(join(c.dirOf('data-kubia-2'), 'state'), 'utf8')).toBe('kept');
  });

  it('whenScaled: Delete hands a condemned member its claims, which go with it (directory too)', () => {
    const c = cluster();
    c.store.apply([statefulSet({ replicas: 3, policy: { whenScaled: 'Delete' } })]);
    expect(c.claim('data-kubia-2')!.metadata.ownerReferences).toBeUndefined();
    const dir = c.dirOf('data-kubia-2');
    c.scale(2);
    expect(c.claims()).toEqual(['data-kubia-0', 'data-kubia-1']);
    expect(existsSync(dir)).toBe(false);
    expect(c.store.list('PersistentVolume')).toHaveLength(2);
    c.scale(3);
    expect(c.claim('data-kubia-2')?.status?.phase).toBe('Bound');
  });

  it('whenDeleted: Delete: claims owned by the set go when it is deleted; Retain keeps them', () => {
    const c = cluster();
    c.store.apply([statefulSet({ policy: { whenDeleted: 'Delete' } })]);
    const set = c.sts();
    expect(c.claim('data-kubia-0')!.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'kubia', uid: set.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    c.store.delete('StatefulSet', 'default', 'kubia');
    expect(c.claims()).toEqual([]);
    expect(c.store.list('PersistentVolume')).toEqual([]);

    c.store.apply([statefulSet()]);
    c.store.delete('StatefulSet', 'default', 'kubia');
    expect(c.claims()).toEqual(['data-kubia-0', 'data-kubia-1']);
  });

  it('a policy changed later moves the owner references of existing claims', () => {
    const c = cluster();
    c.store.apply([statefulSet()]);
    expect(c.claim('data-kubia-1')!.metadata.ownerReferences).toBeUndefined();
    c.store.apply([{ ...c.sts(), spec: { ...c.sts().spec, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' } } }]);
    expect(c.claim('data-kubia-1')!.metadata.ownerReferences?.map((r) => r.kind)).toEqual(['StatefulSet']);
  });

  it('pvc-protection: a claim a pod uses stays Terminating until the pod is gone; then the set makes a new one', () => {
    const c = cluster();
    c.store.apply([statefulSet({ replicas: 1 })]);
    const before = c.claim('data-kubia-0')!;
    const dir = c.dirOf('data-kubia-0');
    c.store.delete('PersistentVolumeClaim', 'default', 'data-kubia-0');
    expect(c.claim('data-kubia-0')!.metadata.deletionTimestamp).toBeDefined();
    expect(existsSync(dir)).toBe(true);
    c.manager.terminator.delete(c.store.get('Pod', 'default', 'kubia-0')!, 0);
    const after = c.claim('data-kubia-0')!;
    expect(after.metadata.uid).not.toBe(before.metadata.uid);
    expect(after.metadata.deletionTimestamp).toBeUndefined();
    expect(existsSync(dir)).toBe(false);
    expect(c.store.get('Pod', 'default', 'kubia-0')?.status?.phase).toBe('Running');
  });

  it('reclaim Retain: the volume is Released and keeps its directory', () => {
    const c = cluster();
    c.store.apply([statefulSet({ replicas: 1 })]);
    const volume = c.volumeOf('data-kubia-0')!;
    c.store.apply([{ ...volume, spec: { ...volume.spec, persistentVolumeReclaimPolicy: 'Retain' } } as PersistentVolume]);
    c.store.delete('StatefulSet', 'default', 'kubia');
    c.store.delete('PersistentVolumeClaim', 'default', 'data-kubia-0');
    const released = c.store.get('PersistentVolume', undefined, volume.metadata.name)!;
    expect(released.status?.phase).toBe('Released');
    expect(existsSync(released.spec.hostPath!.path)).toBe(true);
    // Deleting it is held by pv-protection only while Bound: now it goes, with its directory.
    c.store.delete('PersistentVolume', undefined, volume.metadata.name);
    expect(c.store.get('PersistentVolume', undefined, volume.metadata.name)).toBeUndefined();
    expect(existsSync(released.spec.hostPath!.path)).toBe(false);
  });

  it('a claim that names a volume is bound to it (static provisioning); an empty class is not provisioned', () => {
    const c = cluster();
    c.store.apply([
      { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'mongodb-pv' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/mongodb' }, persistentVolumeReclaimPolicy: 'Retain' } },
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'mongodb-pvc' }, spec: { volumeName: 'mongodb-pv', storageClassName: '', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'waiting' }, spec: { storageClassName: '', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
    ] as KubeObject[]);
    expect(c.claim('mongodb-pvc')!.status).toMatchObject({ phase: 'Bound', capacity: { storage: '1Gi' } });
    expect(c.store.get('PersistentVolume', undefined, 'mongodb-pv')!.spec.claimRef).toMatchObject({ name: 'mongodb-pvc', namespace: 'default' });
    expect(c.store.get('PersistentVolume', undefined, 'mongodb-pv')!.metadata.finalizers).toEqual(['kubernetes.io/pv-protection']);
    expect(c.claim('waiting')!.status?.phase).toBe('Pending');
    expect(c.claim('waiting')!.spec.volumeName).toBeUndefined();
  });

  it('the temporary root goes on close; a given root (--state) stays, and a restart finds the same claims', () => {
    const c = cluster();
    c.store.apply([statefulSet({ replicas: 1 })]);
    const dir = c.dirOf('data-kubia-0');
    c.manager.close();
    expect(existsSync(dir)).toBe(false);

    const root = mkdtempSync(join(tmpdir(), 'hdns-volumes-test-'));
    roots.push(root);
    const first = cluster({ root });
    first.store.apply([statefulSet({ replicas: 1 })]);
    const kept = first.dirOf('data-kubia-0');
    expect(kept.startsWith(join(root, 'default', 'data-kubia-0-'))).toBe(true);
    first.manager.close();
    expect(existsSync(kept)).toBe(true);
    // A restart: the saved objects, a directory someone removed comes back (DirectoryOrCreate).
    rmSync(kept, { recursive: true });
    const restored = new ObjectStore();
    restored.restore(first.store.all(), Number(first.store.currentResourceVersion));
    const second = cluster({ root, store: restored });
    expect(second.claim('data-kubia-0')!.metadata.uid).toBe(first.claim('data-kubia-0')!.metadata.uid);
    expect(second.dirOf('data-kubia-0')).toBe(kept);
    expect(existsSync(kept)).toBe(true);
  });
});

describe('validation of claims and volumes (ValidatePersistentVolumeClaim, ValidatePersistentVolume)', () => {
  const claim = (spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'c' }, spec });
  const volume = (spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'v' }, spec });
  const good = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } };
  const goodVolume = { accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' }, hostPath: { path: '/tmp/x' } };
  it.each([
    { what: 'a good claim', object: claim(good), causes: [] },
    { what: 'no access mode', object: claim({ ...good, accessModes: [] }), causes: ['spec.accessModes: Required value: at least 1 access mode is required'] },
    { what: 'an unknown access mode', object: claim({ ...good, accessModes: ['ReadWriteSometimes'] }), causes: ['spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"'] },
    { what: 'ReadWriteOncePod with another', object: claim({ ...good, accessModes: ['ReadWriteOncePod', 'ReadWriteOnce'] }), causes: ['spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes'] },
    { what: 'no storage request', object: claim({ accessModes: ['ReadWriteOnce'] }), causes: ['spec.resources[storage]: Required value'] },
    { what: 'a zero request', object: claim({ ...good, resources: { requests: { storage: '0' } } }), causes: ['spec.resources[storage]: Invalid value: "0": must be greater than zero'] },
    { what: 'a good volume', object: volume(goodVolume), causes: [] },
    { what: 'a volume without capacity', object: volume({ ...goodVolume, capacity: undefined }), causes: ['spec.capacity: Required value'] },
    { what: 'a volume with no source', object: volume({ ...goodVolume, hostPath: undefined }), causes: ['spec: Required value: must specify a volume type'] },
    { what: 'a volume with two sources', object: volume({ ...goodVolume, nfs: { server: 'x', path: '/' } }), causes: ['spec.nfs: Forbidden: may not specify more than 1 volume type'] },
    { what: 'an unknown reclaim policy', object: volume({ ...goodVolume, persistentVolumeReclaimPolicy: 'Shred' }), causes: ['spec.persistentVolumeReclaimPolicy: Unsupported value: "Shred": supported values: "Delete", "Recycle", "Retain"'] },
  ])('$what', ({ object, causes }) => {
    expect(validateObject(object).causes.map((c) => `${c.field}: ${c.message}`)).toEqual(causes);
  });

  it('defaults: volumeMode Filesystem, a volume Retains by default', () => {
    expect((validateObject(claim(good)).object as PersistentVolumeClaim).spec.volumeMode).toBe('Filesystem');
    expect((validateObject(volume(goodVolume)).object as PersistentVolume).spec.persistentVolumeReclaimPolicy).toBe('Retain');
  });

  it('a claim spec is immutable but for what binding fills in once and the request', () => {
    const store = new ObjectStore();
    store.apply([claim(good) as KubeObject]);
    const stored = store.get('PersistentVolumeClaim', 'default', 'c')!;
    store.apply([{ ...stored, spec: { ...stored.spec, volumeName: 'pvc-1', storageClassName: 'standard', resources: { requests: { storage: '2Mi' } } } }]);
    const bound = store.get('PersistentVolumeClaim', 'default', 'c')!;
    expect(() => store.apply([{ ...bound, spec: { ...bound.spec, accessModes: ['ReadWriteMany'] } }])).toThrow(/spec: Forbidden: spec is immutable after creation/);
    expect(() => store.apply([{ ...bound, spec: { ...bound.spec, volumeName: 'pvc-2' } }])).toThrow(/immutable/);
  });
});
