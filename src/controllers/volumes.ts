// Storage for StatefulSet members, as three Kubernetes controllers do it:
// - the StatefulSet controller's claim part (stateful_pod_control.go,
//   stateful_set_utils.go): claims <template>-<set>-<ordinal> made before their
//   pod, the pod's volumes pointing at them, owner references that follow
//   persistentVolumeClaimRetentionPolicy;
// - the PV controller with a dynamic provisioner (pv_controller.go, and the
//   in-tree kubernetes.io/host-path provisioner): every claim of a class is
//   Bound to a PersistentVolume pvc-<claim uid> backed by a directory on this
//   machine, which lives exactly as long as the volume; reclaim Delete or Retain;
// - the protection controllers (pvc_protection_controller.go,
//   pv_protection_controller.go) and the garbage collector for claims: a claim a
//   pod uses stays Terminating until no pod does, a claim whose owners are all
//   gone is deleted.
// The rules are pure functions (claimsForMember, memberVolumes, claimOwnerRefs,
// claimOwnerUpToDate, podClaimIsStale); VolumeController applies them to the store.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, isAbsolute, sep } from 'node:path';
import { nowTimestamp } from '../model/pods.js';
import { canonicalQuantity } from '../model/quantity.js';
import { storageClassOf } from '../model/storage.js';

export { accessModesText, storageClassOf } from '../model/storage.js';
import type { KubeObject, OwnerReference, PersistentVolume, PersistentVolumeClaim, Pod, StatefulSet } from '../model/types.js';
import type { ObjectStore, StoreChange } from '../store/store.js';
import type { EventRecorder } from './events.js';

export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';
/** The class claims without one get, as kind's default StorageClass is called. */
export const DEFAULT_STORAGE_CLASS = 'standard';
/** The in-tree provisioner whose volumes are directories on the node. */
export const HOST_PATH_PROVISIONER = 'kubernetes.io/host-path';
/** On a PV: the directory on this machine that holds the volume (also `spec.hostPath.path`). */
export const VOLUME_DIRECTORY_ANNOTATION = 'headless-dns.io/volume-directory';

export type RetentionPolicyType = 'Retain' | 'Delete';
export interface RetentionPolicy {
  whenDeleted: RetentionPolicyType;
  whenScaled: RetentionPolicyType;
}

/** One entry of a StatefulSet's spec.volumeClaimTemplates. */
export interface ClaimTemplate {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [field: string]: unknown };
  spec?: PersistentVolumeClaim['spec'];
}

export interface PodVolume {
  name: string;
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  [field: string]: unknown;
}

export function claimTemplates(set: StatefulSet): ClaimTemplate[] {
  const templates = set.spec.volumeClaimTemplates;
  return Array.isArray(templates) ? (templates as ClaimTemplate[]) : [];
}

/** getPersistentVolumeClaimRetentionPolicy: Retain/Retain when the set says nothing. */
export function retentionPolicy(set: StatefulSet): RetentionPolicy {
  const policy = set.spec.persistentVolumeClaimRetentionPolicy as Partial<RetentionPolicy> | undefined;
  return { whenDeleted: policy?.whenDeleted === 'Delete' ? 'Delete' : 'Retain', whenScaled: policy?.whenScaled === 'Delete' ? 'Delete' : 'Retain' };
}

/** getPersistentVolumeClaimName: `<template>-<set>-<ordinal>` (the book's data-kubia-0). */
export function claimName(template: ClaimTemplate, set: StatefulSet, ordinal: number): string {
  return `${template.metadata?.name ?? ''}-${set.metadata.name}-${ordinal}`;
}

/** The ordinal of a set's claim, from its name, or undefined when it is not one of the set's claims. */
export function claimOrdinal(set: StatefulSet, name: string): number | undefined {
  for (const template of claimTemplates(set)) {
    const prefix = `${template.metadata?.name ?? ''}-${set.metadata.name}-`;
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    if (/^(0|[1-9]\d*)$/.test(rest)) return Number(rest);
  }
  return undefined;
}

/** The claims a member needs (getPersistentVolumeClaims): each template's spec, the set's selector labels over the template's. */
export function claimsForMember(set: StatefulSet, ordinal: number): PersistentVolumeClaim[] {
  const namespace = set.metadata.namespace ?? 'default';
  return claimTemplates(set).map((template) => {
    const metadata = template.metadata ?? {};
    const labels = { ...(metadata.labels ?? {}), ...(set.spec.selector.matchLabels ?? {}) };
    return {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: claimName(template, set, ordinal),
        namespace,
        ...(Object.keys(labels).length ? { labels } : {}),
        ...(metadata.annotations ? { annotations: { ...metadata.annotations } } : {}),
      },
      spec: { ...(template.spec ?? {}) },
    };
  });
}

/**
 * updateStorage: the member's volumes, one per claim template (named after the
 * template, pointing at the member's claim), then the template's other
 * volumes; a template volume of the same name is replaced.
 */
export function memberVolumes(set: StatefulSet, ordinal: number, current: readonly PodVolume[] = []): PodVolume[] {
  const templates = claimTemplates(set);
  const names = new Set(templates.map((t) => t.metadata?.name ?? ''));
  return [
    ...templates.map((template) => ({ name: template.metadata?.name ?? '', persistentVolumeClaim: { claimName: claimName(template, set, ordinal) } })),
    ...current.filter((volume) => !names.has(volume.name)),
  ];
}

interface Owner {
  apiVersion: string;
  kind: 'StatefulSet' | 'Pod';
  name: string;
  uid?: string;
}

const setOwner = (set: StatefulSet): Owner => ({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata.name, ...(set.metadata.uid ? { uid: set.metadata.uid } : {}) });
const podOwner = (pod: Pick<Pod, 'metadata'>): Owner => ({ apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) });

/** matchesRef: the same kind, group and name (any uid). */
const matchesRef = (ref: OwnerReference, owner: Owner): boolean => ref.apiVersion === owner.apiVersion && ref.kind === owner.kind && ref.name === owner.name;
const hasOwnerRef = (claim: PersistentVolumeClaim, owner: Owner): boolean => !!owner.uid && (claim.metadata.ownerReferences ?? []).some((r) => r.uid === owner.uid);
/** hasStaleOwnerRef: a reference to an object of this name whose uid is another one (an earlier pod or set). */
const hasStaleOwnerRef = (claim: PersistentVolumeClaim, owner: Owner): boolean => {
  const ref = (claim.metadata.ownerReferences ?? []).find((r) => matchesRef(r, owner));
  return ref !== undefined && ref.uid !== owner.uid;
};

/** hasUnexpectedController: another object controls the claim (only matters when a policy deletes). */
function hasUnexpectedController(claim: PersistentVolumeClaim, set: Owner, pod: Owner, policy: RetentionPolicy): boolean {
  if (policy.whenScaled === 'Retain' && policy.whenDeleted === 'Retain') return false;
  for (const ref of claim.metadata.ownerReferences ?? []) {
    if (matchesRef(ref, set)) {
      if (ref.uid !== set.uid) return true;
      continue;
    }
    if (matchesRef(ref, pod)) {
      if (ref.uid !== pod.uid) return true;
      continue;
    }
    if (ref.controller) return true;
  }
  return false;
}

const controllerRef = (owner: Owner): OwnerReference => ({ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid ?? '', controller: true, blockOwnerDeletion: true });

/**
 * isClaimOwnerUpToDate: whether the claim's owner references follow the policy.
 *   Retain/Retain: none; whenDeleted Delete: the set; whenScaled Delete: the pod
 *   once it is scaled away (and then not the set).
 * A claim with stale references (an earlier set or pod of the same name) is left alone.
 */
export function claimOwnerUpToDate(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pick<Pod, 'metadata'>, inRange: boolean): boolean {
  const s = setOwner(set);
  const p = podOwner(pod);
  const policy = retentionPolicy(set);
  if (hasStaleOwnerRef(claim, s) || hasStaleOwnerRef(claim, p)) return true;
  if (hasUnexpectedController(claim, s, p, policy)) return !(hasOwnerRef(claim, s) || hasOwnerRef(claim, p));
  // hasNonControllerOwner: our reference without controller: true is redone.
  if ((claim.metadata.ownerReferences ?? []).some((r) => (r.uid === s.uid || r.uid === p.uid) && !r.controller)) return false;
  const wantSet = policy.whenDeleted === 'Delete' && (policy.whenScaled === 'Retain' || inRange);
  const wantPod = policy.whenScaled === 'Delete' && !inRange;
  return hasOwnerRef(claim, s) === wantSet && hasOwnerRef(claim, p) === wantPod;
}

/** updateClaimOwnerRefForSetAndPod: our references scrubbed, then the ones the policy wants, as controller references. */
export function claimOwnerRefs(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pick<Pod, 'metadata'>, inRange: boolean): OwnerReference[] {
  const s = setOwner(set);
  const p = podOwner(pod);
  const policy = retentionPolicy(set);
  const unexpected = hasUnexpectedController(claim, s, p, policy);
  const refs = (claim.metadata.ownerReferences ?? []).filter((r) => !matchesRef(r, s) && !matchesRef(r, p));
  if (unexpected) return refs;
  if (policy.whenDeleted === 'Delete' && (policy.whenScaled === 'Retain' || inRange) && s.uid) refs.push(controllerRef(s));
  if (policy.whenScaled === 'Delete' && !inRange && p.uid) refs.push(controllerRef(p));
  return refs;
}

/**
 * PodClaimIsStale: under whenScaled Delete, a claim that still names an
 * earlier pod of this name (one scaled away, not yet collected) blocks the
 * new pod, which would otherwise take over storage about to be deleted.
 */
export function podClaimIsStale(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pick<Pod, 'metadata'>): boolean {
  if (retentionPolicy(set).whenScaled === 'Retain') return false;
  return hasStaleOwnerRef(claim, podOwner(pod));
}

/** The claims a pod's volumes name. */
export function claimsOfPod(pod: Pod): string[] {
  const volumes = pod.spec.volumes;
  if (!Array.isArray(volumes)) return [];
  const out: string[] = [];
  for (const volume of volumes as PodVolume[]) {
    const name = volume?.persistentVolumeClaim?.claimName;
    if (typeof name === 'string' && name) out.push(name);
  }
  return out;
}

const hasFinalizer = (object: KubeObject, finalizer: string): boolean => Array.isArray(object.metadata.finalizers) && (object.metadata.finalizers as string[]).includes(finalizer);
const withFinalizer = (object: KubeObject, finalizer: string): string[] => [...((object.metadata.finalizers as string[] | undefined) ?? []), finalizer];
const withoutFinalizer = (object: KubeObject, finalizer: string): string[] => ((object.metadata.finalizers as string[] | undefined) ?? []).filter((f) => f !== finalizer);

export interface VolumeControllerOptions {
  /**
   * The directory that holds the claims' directories (`<state>.volumes` with
   * --state), made when first needed. Without it, a temporary directory is made
   * when the first claim is bound, and removed with everything in it on close().
   */
  root?: string;
  recorder?: EventRecorder;
  log: (message: string) => void;
}

/** `<root>/<namespace>/<claim>-<first 8 of its uid>`: one directory per claim, never shared by two claims of one name. */
export function claimDirectory(root: string, claim: PersistentVolumeClaim): string {
  return join(root, claim.metadata.namespace ?? 'default', `${claim.metadata.name}-${(claim.metadata.uid ?? '').slice(0, 8)}`);
}

/** Temporary roots not removed yet: a process that exits without close() (a test that forgets it) still removes them. */
const temporaryRoots = new Set<string>();
let exitHook = false;
function removeAtExit(root: string): void {
  temporaryRoots.add(root);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const dir of temporaryRoots) rmSync(dir, { recursive: true, force: true });
  });
}

export class VolumeController {
  /** namespace/claim → pods (scheduled ones, with spec.nodeName) whose volumes name it: what pvc-protection asks. */
  private readonly users = new Map<string, Set<string>>();
  private temporary: string | undefined;
  private closed = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly options: VolumeControllerOptions,
  ) {
    for (const pod of store.list('Pod')) this.notePod(undefined, pod);
  }

  /** Where the claims' directories go (made now if it is a temporary one not made yet). */
  root(): string {
    if (this.options.root) return this.options.root;
    if (this.closed) throw new Error('the cluster is closed');
    if (!this.temporary) {
      this.temporary = mkdtempSync(join(tmpdir(), 'headless-dns-volumes-'));
      removeAtExit(this.temporary);
    }
    return this.temporary;
  }

  /** Removes the temporary directory, with every claim's directory in it; a --state root stays. */
  close(): void {
    this.closed = true;
    if (this.temporary) {
      rmSync(this.temporary, { recursive: true, force: true });
      temporaryRoots.delete(this.temporary);
    }
    this.temporary = undefined;
  }

  /** Keeps the users of every claim current; returns the claims whose users changed (pvc-protection looks at them again). */
  notePod(before: Pod | undefined, after: Pod | undefined): string[] {
    const namespace = (after ?? before)?.metadata.namespace ?? 'default';
    const name = (after ?? before)!.metadata.name;
    const used = (pod: Pod | undefined): string[] => (pod && typeof pod.spec.nodeName === 'string' && pod.spec.nodeName ? claimsOfPod(pod) : []);
    const was = used(before);
    const is = used(after);
    if (was.length === 0 && is.length === 0) return [];
    for (const claim of was) {
      const key = `${namespace}/${claim}`;
      const users = this.users.get(key);
      users?.delete(name);
      if (users?.size === 0) this.users.delete(key);
    }
    for (const claim of is) {
      const key = `${namespace}/${claim}`;
      let users = this.users.get(key);
      if (!users) this.users.set(key, (users = new Set()));
      users.add(name);
    }
    return [...new Set([...was, ...is])];
  }

  private inUse(claim: PersistentVolumeClaim): boolean {
    return (this.users.get(`${claim.metadata.namespace ?? 'default'}/${claim.metadata.name}`)?.size ?? 0) > 0;
  }

  /**
   * CreateStatefulPod's storage part, for the pods a StatefulSet is about to
   * create: the writes that make them, in one batch — each missing claim
   * created (and an existing one given the policy's owner references) before
   * its pod, the pod's volumes pointing at its claims. A pod whose claim is
   * being deleted, or is stale, is held back, as the controller's create
   * fails and is retried once the claim is gone.
   */
  withClaims(set: StatefulSet, pods: readonly Pod[]): StoreChange[] {
    const templates = claimTemplates(set);
    if (templates.length === 0) return pods.map((pod) => ({ op: 'put', object: pod, mode: 'create', owned: true }));
    const changes: StoreChange[] = [];
    const created: StoreChange[] = [];
    const namespace = set.metadata.namespace ?? 'default';
    const start = (set.spec.ordinals as { start?: number } | undefined)?.start ?? 0;
    const end = start + (set.spec.replicas ?? 1);
    for (const pod of pods) {
      const ordinal = Number(pod.metadata.labels?.['apps.kubernetes.io/pod-index'] ?? /-(\d+)$/.exec(pod.metadata.name)?.[1]);
      const inRange = ordinal >= start && ordinal < end;
      const wanted = claimsForMember(set, ordinal);
      const existing = wanted.map((claim) => this.store.get('PersistentVolumeClaim', namespace, claim.metadata.name));
      if (existing.some((claim) => claim && (claim.metadata.deletionTimestamp || podClaimIsStale(claim, set, pod)))) continue;
      for (let i = 0; i < wanted.length; i++) {
        const claim = existing[i];
        if (!claim) {
          const fresh = wanted[i]!;
          const refs = claimOwnerRefs(fresh, set, pod, inRange);
          created.push({ op: 'put', mode: 'create', owned: true, object: { ...fresh, metadata: { ...fresh.metadata, ...(refs.length ? { ownerReferences: refs } : {}) } } });
          this.options.recorder?.record(set, 'Normal', 'SuccessfulCreate', `create Claim ${fresh.metadata.name} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} success`, 'statefulset-controller');
        } else if (!claimOwnerUpToDate(claim, set, pod, inRange)) {
          changes.push({ op: 'put', mode: 'update', object: { ...claim, metadata: { ...claim.metadata, ownerReferences: claimOwnerRefs(claim, set, pod, inRange) } } });
        }
      }
      const spec = { ...pod.spec, volumes: memberVolumes(set, ordinal, (pod.spec.volumes as PodVolume[] | undefined) ?? []) };
      created.push({ op: 'put', object: { ...pod, spec }, mode: 'create', owned: true });
    }
    return [...changes, ...created];
  }

  /**
   * The policy's owner references on the claims of a set's members
   * (UpdatePodClaimForRetentionPolicy, for replicas and condemned pods alike):
   * run when the set's spec changes, before the StatefulSet controller deletes
   * any condemned member, so whenScaled: Delete hands its claims to the pod.
   */
  reconcileSet(namespace: string, name: string): void {
    const set = this.store.get('StatefulSet', namespace, name);
    if (!set || set.metadata.deletionTimestamp || claimTemplates(set).length === 0) return;
    const start = (set.spec.ordinals as { start?: number } | undefined)?.start ?? 0;
    const end = start + (set.spec.replicas ?? 1);
    const updates: KubeObject[] = [];
    for (const object of this.store.listOwnedBy(set.metadata.uid ?? '')) {
      if (object.kind !== 'Pod' || object.metadata.ownerReferences?.find((r) => r.controller)?.uid !== set.metadata.uid) continue;
      const ordinal = Number(/-(\d+)$/.exec(object.metadata.name)?.[1]);
      if (object.metadata.name !== `${set.metadata.name}-${ordinal}`) continue;
      const inRange = ordinal >= start && ordinal < end;
      for (const wanted of claimsForMember(set, ordinal)) {
        const claim = this.store.get('PersistentVolumeClaim', namespace, wanted.metadata.name);
        if (!claim || claimOwnerUpToDate(claim, set, object, inRange)) continue;
        updates.push({ ...claim, metadata: { ...claim.metadata, ownerReferences: claimOwnerRefs(claim, set, object, inRange) } });
      }
    }
    if (updates.length) this.store.apply(updates, 'update');
  }

  /**
   * The garbage collector for claims: once an owner is gone, a claim none of
   * whose owners is left is deleted (background propagation). The claim's
   * pvc-protection finalizer then keeps it until no pod uses it.
   */
  collect(ownerUid: string): void {
    const doomed: StoreChange[] = [];
    for (const object of this.store.listOwnedBy(ownerUid)) {
      if (object.kind !== 'PersistentVolumeClaim' || object.metadata.deletionTimestamp) continue;
      const alive = (object.metadata.ownerReferences ?? []).some((ref) => {
        const kind = ref.kind === 'Pod' ? 'Pod' : ref.kind === 'StatefulSet' ? 'StatefulSet' : undefined;
        // An owner of a kind not modelled here is taken as present: never delete on a guess.
        if (!kind) return true;
        return this.store.get(kind, object.metadata.namespace, ref.name)?.metadata.uid === ref.uid;
      });
      if (!alive) doomed.push({ op: 'delete', kind: 'PersistentVolumeClaim', namespace: object.metadata.namespace, name: object.metadata.name });
    }
    if (doomed.length) this.store.commit(doomed);
  }

  /**
   * One claim: the pvc-protection finalizer (added while the claim lives,
   * removed once it is being deleted and no pod uses it), the default class,
   * and dynamic provisioning: a PersistentVolume pvc-<uid> on a new directory,
   * bound both ways in one write.
   */
  reconcileClaim(namespace: string, name: string): void {
    const claim = this.store.get('PersistentVolumeClaim', namespace, name);
    if (!claim) return;
    if (claim.metadata.deletionTimestamp) {
      if (hasFinalizer(claim, PVC_PROTECTION_FINALIZER) && !this.inUse(claim)) {
        this.store.apply([{ ...claim, metadata: { ...claim.metadata, finalizers: withoutFinalizer(claim, PVC_PROTECTION_FINALIZER) } }], 'update');
      }
      return;
    }
    let next: PersistentVolumeClaim = claim;
    if (!hasFinalizer(claim, PVC_PROTECTION_FINALIZER)) next = { ...next, metadata: { ...next.metadata, finalizers: withFinalizer(next, PVC_PROTECTION_FINALIZER) } };
    // The DefaultStorageClass admission plugin (and, since 1.28, the PV controller for older claims) fills in the class.
    if (next.spec.storageClassName === undefined || next.spec.storageClassName === null) next = { ...next, spec: { ...next.spec, storageClassName: DEFAULT_STORAGE_CLASS } };
    if (next.spec.volumeMode === undefined) next = { ...next, spec: { ...next.spec, volumeMode: 'Filesystem' } };
    if (!next.status?.phase) next = { ...next, status: { ...(next.status ?? {}), phase: 'Pending' } };
    const extra: KubeObject[] = [];
    if (!next.spec.volumeName && storageClassOf(next) !== '') {
      const provisioned = this.provision(next);
      if (provisioned) {
        extra.push(provisioned.volume);
        next = provisioned.claim;
      }
    } else if (next.spec.volumeName && next.status?.phase !== 'Bound') {
      const bound = this.bindToNamed(next);
      if (bound) {
        extra.push(bound.volume);
        next = bound.claim;
      }
    }
    if (next === claim) return;
    this.store.commit([...extra.map((object): StoreChange => ({ op: 'put', object, mode: object.metadata.resourceVersion ? 'update' : 'create' })), { op: 'put', object: next, mode: 'update' }]);
    const made = extra.find((o) => o.kind === 'PersistentVolume' && !o.metadata.resourceVersion);
    if (made) this.options.recorder?.record(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${made.metadata.name} using ${HOST_PATH_PROVISIONER}`, 'persistentvolume-controller');
  }

  /** provisionClaimOperation with the host-path provisioner: the volume, and the claim bound to it. */
  private provision(claim: PersistentVolumeClaim): { volume: PersistentVolume; claim: PersistentVolumeClaim } | undefined {
    const volumeName = `pvc-${claim.metadata.uid ?? ''}`;
    if (this.store.get('PersistentVolume', undefined, volumeName)) return undefined;
    let path: string;
    try {
      path = claimDirectory(this.root(), claim);
      mkdirSync(path, { recursive: true });
    } catch (error) {
      this.options.recorder?.record(claim, 'Warning', 'ProvisioningFailed', `Failed to provision volume with StorageClass "${storageClassOf(claim)}": ${(error as Error).message}`, 'persistentvolume-controller');
      this.options.log(`volumes: cannot make the directory of ${claim.metadata.namespace}/${claim.metadata.name}: ${(error as Error).message}`);
      return undefined;
    }
    const storage = canonicalQuantity(String(claim.spec.resources?.requests?.storage ?? '0'));
    const accessModes = [...(claim.spec.accessModes ?? [])];
    const now = nowTimestamp();
    const volume: PersistentVolume = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name: volumeName,
        annotations: { 'pv.kubernetes.io/provisioned-by': HOST_PATH_PROVISIONER, [VOLUME_DIRECTORY_ANNOTATION]: path },
        finalizers: [PV_PROTECTION_FINALIZER],
      },
      spec: {
        accessModes,
        capacity: { storage },
        claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: claim.metadata.namespace ?? 'default', name: claim.metadata.name, uid: claim.metadata.uid ?? '', resourceVersion: claim.metadata.resourceVersion ?? '' },
        hostPath: { path, type: 'DirectoryOrCreate' },
        persistentVolumeReclaimPolicy: 'Delete',
        storageClassName: storageClassOf(claim),
        volumeMode: typeof claim.spec.volumeMode === 'string' ? claim.spec.volumeMode : 'Filesystem',
      },
      status: { phase: 'Bound', lastPhaseTransitionTime: now },
    };
    return { volume, claim: this.boundClaim(claim, volume, true) };
  }

  /** A claim that names its volume (static binding): bound when the volume exists and is free or already its own. */
  private bindToNamed(claim: PersistentVolumeClaim): { volume: PersistentVolume; claim: PersistentVolumeClaim } | undefined {
    const volume = this.store.get('PersistentVolume', undefined, claim.spec.volumeName!);
    if (!volume || volume.metadata.deletionTimestamp) return undefined;
    const ref = volume.spec.claimRef;
    if (ref && (ref.name !== claim.metadata.name || (ref.namespace ?? 'default') !== (claim.metadata.namespace ?? 'default') || (ref.uid && ref.uid !== claim.metadata.uid))) return undefined;
    const bound: PersistentVolume = {
      ...volume,
      spec: { ...volume.spec, claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: claim.metadata.namespace ?? 'default', name: claim.metadata.name, uid: claim.metadata.uid ?? '', resourceVersion: claim.metadata.resourceVersion ?? '' } },
      status: { ...(volume.status ?? {}), phase: 'Bound', lastPhaseTransitionTime: nowTimestamp() },
    };
    return { volume: bound, claim: this.boundClaim(claim, volume, false) };
  }

  private boundClaim(claim: PersistentVolumeClaim, volume: PersistentVolume, provisioned: boolean): PersistentVolumeClaim {
    return {
      ...claim,
      metadata: {
        ...claim.metadata,
        annotations: {
          ...(claim.metadata.annotations ?? {}),
          'pv.kubernetes.io/bind-completed': 'yes',
          'pv.kubernetes.io/bound-by-controller': 'yes',
          ...(provisioned ? { 'volume.beta.kubernetes.io/storage-provisioner': HOST_PATH_PROVISIONER, 'volume.kubernetes.io/storage-provisioner': HOST_PATH_PROVISIONER } : {}),
        },
      },
      spec: { ...claim.spec, volumeName: volume.metadata.name },
      status: { ...(claim.status ?? {}), phase: 'Bound', accessModes: [...(volume.spec.accessModes ?? [])], capacity: { ...(volume.spec.capacity ?? {}) } },
    };
  }

  /**
   * One volume: the pv-protection finalizer (removed once it is being deleted
   * and not Bound), and reclaim when its claim is gone: Released, then deleted
   * under the Delete policy (the directory goes with the object, see volumeGone).
   */
  reconcileVolume(name: string): void {
    const volume = this.store.get('PersistentVolume', undefined, name);
    if (!volume) return;
    const ref = volume.spec.claimRef;
    const claim = ref?.name ? this.store.get('PersistentVolumeClaim', ref.namespace ?? 'default', ref.name) : undefined;
    const claimGone = !!ref?.name && (!claim || (!!ref.uid && claim.metadata.uid !== ref.uid));
    const phase = volume.status?.phase;
    if (volume.metadata.deletionTimestamp) {
      if (hasFinalizer(volume, PV_PROTECTION_FINALIZER) && (phase !== 'Bound' || claimGone)) {
        this.store.apply([{ ...volume, metadata: { ...volume.metadata, finalizers: withoutFinalizer(volume, PV_PROTECTION_FINALIZER) } }], 'update');
      }
      return;
    }
    if (claimGone && phase !== 'Released' && phase !== 'Failed') {
      const released: PersistentVolume = { ...volume, status: { ...(volume.status ?? {}), phase: 'Released', lastPhaseTransitionTime: nowTimestamp() } };
      this.store.apply([released], 'update');
      if (volume.spec.persistentVolumeReclaimPolicy === 'Delete') this.store.delete('PersistentVolume', undefined, name);
      return;
    }
    if (!hasFinalizer(volume, PV_PROTECTION_FINALIZER)) {
      this.store.apply([{ ...volume, metadata: { ...volume.metadata, finalizers: withFinalizer(volume, PV_PROTECTION_FINALIZER) } }], 'update');
    } else if (!ref?.name && (!phase || phase === 'Pending')) {
      this.store.apply([{ ...volume, status: { ...(volume.status ?? {}), phase: 'Available', lastPhaseTransitionTime: nowTimestamp() } }], 'update');
    }
  }

  /** A volume object is gone: the directory this controller made for it goes too (never one outside the root). */
  volumeGone(volume: PersistentVolume): void {
    const path = volume.metadata.annotations?.[VOLUME_DIRECTORY_ANNOTATION];
    if (!path || path !== volume.spec.hostPath?.path) return;
    const root = this.options.root ?? this.temporary;
    if (!root) return;
    const inside = relative(root, path);
    if (!inside || inside.startsWith('..') || isAbsolute(inside) || !inside.includes(sep)) return;
    try {
      rmSync(path, { recursive: true, force: true });
    } catch (error) {
      this.options.log(`volumes: cannot remove ${path}: ${(error as Error).message}`);
    }
  }

  /** After a restart with --state: every bound volume's directory is there again (DirectoryOrCreate). */
  ensureDirectories(): void {
    for (const volume of this.store.list('PersistentVolume')) {
      const path = volume.metadata.annotations?.[VOLUME_DIRECTORY_ANNOTATION];
      if (!path || path !== volume.spec.hostPath?.path || volume.metadata.deletionTimestamp) continue;
      try {
        mkdirSync(path, { recursive: true });
      } catch (error) {
        this.options.log(`volumes: cannot make ${path}: ${(error as Error).message}`);
      }
    }
  }

  /** Sets that would make this claim (it is gone or changed: one waiting for it may go on). */
  setsWanting(namespace: string, name: string): string[] {
    return this.store
      .list('StatefulSet', namespace)
      .filter((set) => claimOrdinal(set, name) !== undefined)
      .map((set) => set.metadata.name);
  }
}

