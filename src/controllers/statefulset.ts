// The StatefulSet controller (pkg/controller/statefulset): pods <set>-<ordinal>
// over [start, start+replicas), stable hostname/subdomain, OrderedReady or
// Parallel scaling, at most one pod per identity, status kept true. The pods it
// creates are started by the kubelet emulation (kubelet.ts).

import { createHash } from 'node:crypto';
import type { OwnerReference, Pod, StatefulSet } from '../model/types.js';
import type { ObjectStore } from '../store/store.js';
import type { VolumeController } from './volumes.js';
import { freezeJson, sameJson } from '../model/json.js';
import { controllerOf, isPodReady, isRunningAndReady, isTerminating } from '../model/pods.js';
import { START_UNREADY_ANNOTATION } from './kubelet.js';
import { MemberIndex, type SetMembers } from './members.js';

/** The status of a pod not started yet: one frozen object shared by all of them. */
const PENDING = freezeJson({ phase: 'Pending' as const });

export interface StatefulSetControllerOptions {
  /** Makes the claims of the pods about to be created, in the same write, before them (volumes.ts). */
  volumes?: Pick<VolumeController, 'withClaims'>;
  /** Deletes a pod the way the API does (graceful or not). */
  deletePod: (pod: Pod) => void;
}
/**
 * Revisions of stored (frozen, so unchanging) templates: every pod of a set
 * and every status write asks, and every pod keeps the string in a label.
 */
const templateRevisions = new WeakMap<object, { set: string; revision: string }>();

function revisionOf(set: StatefulSet): string {
  const template = set.spec.template;
  const known = templateRevisions.get(template);
  if (known?.set === set.metadata.name) return known.revision;
  const hash = createHash('sha256').update(JSON.stringify(template)).digest('hex').slice(0, 10);
  // One flat string, not a join kept alive by every pod's labels.
  const revision = Buffer.from(`${set.metadata.name}-${hash}`, 'latin1').toString('latin1');
  if (Object.isFrozen(template)) templateRevisions.set(template, { set: set.metadata.name, revision });
  return revision;
}

const MAX_CREATES_PER_ROUND = 100;

/** Members outside [start, end), highest ordinal first, without visiting the ones inside. */
function* condemned(members: SetMembers, start: number, end: number): IterableIterator<Pod> {
  const pods = members.pods;
  if (pods.size === 0) return;
  if (members.highest - end > 2 * pods.size + 64) {
    // Sparse ordinals (someone made web-2000000000): sort the members rather than walk the gap.
    const out = [...pods.entries()].filter(([o]) => o < start || o >= end).sort((a, b) => b[0] - a[0]);
    for (const [, pod] of out) yield pod;
    return;
  }
  // Tighten the stale bounds as we walk, so later scans start where members are.
  while (members.highest >= end && !pods.has(members.highest)) members.highest--;
  for (let ordinal = members.highest; ordinal >= end; ordinal--) {
    const pod = pods.get(ordinal);
    if (pod) yield pod;
  }
  while (members.lowest < start && !pods.has(members.lowest)) members.lowest++;
  for (let ordinal = Math.min(start - 1, members.highest); ordinal >= members.lowest; ordinal--) {
    const pod = pods.get(ordinal);
    if (pod) yield pod;
  }
}

export class StatefulSetController {
  /** One frozen ownerReferences list per StatefulSet uid, shared by all its pods. */
  private readonly ownerRefs = new Map<string, readonly OwnerReference[]>();
  private readonly members: MemberIndex;

  constructor(
    private readonly store: ObjectStore,
    private readonly options: StatefulSetControllerOptions,
  ) {
    this.members = new MemberIndex(store);
  }

  /** Keeps the members of every set current; the manager calls it with every pod event. */
  notePod(before: Pod | undefined, after: Pod | undefined): void {
    this.members.notePod(before, after);
  }

  /** A StatefulSet that is gone takes its pods with it (garbage collection of owned objects). */
  reconcileDeleted(namespace: string, name: string, uid: string | undefined): void {
    if (uid) {
      this.ownerRefs.delete(uid);
      this.members.forget(uid);
    }
    const candidates = uid ? this.store.listOwnedBy(uid).filter((o): o is Pod => o.kind === 'Pod') : this.store.list('Pod', namespace);
    for (const pod of candidates) {
      const owner = controllerOf(pod);
      if (owner?.kind === 'StatefulSet' && owner.name === name && (!uid || owner.uid === uid) && !isTerminating(pod)) {
        this.options.deletePod(pod);
      }
    }
  }

  reconcile(namespace: string, name: string): void {
    const set = this.store.get('StatefulSet', namespace, name);
    if (!set) return;
    const start = set.spec.ordinals?.start ?? 0;
    const replicas = set.spec.replicas ?? 1;
    const end = start + replicas;
    const ordered = (set.spec.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
    const members = this.members.of(set.metadata.uid ?? '', set.metadata.name);
    const pods = members.pods;

    // Scale up, and recreate members that are gone: ordinals in increasing order.
    // The members below readyBelow are known Running and Ready, so each round
    // looks only past them: a scale to N members costs O(N), not O(N^2).
    const missing: Pod[] = [];
    let prefixIntact = true;
    for (let ordinal = members.scanFrom(start); ordinal < end; ordinal++) {
      const pod = pods.get(ordinal);
      if (pod) {
        if (isRunningAndReady(pod)) {
          if (prefixIntact) members.readyBelow = ordinal + 1;
          continue;
        }
        prefixIntact = false;
        // At most one pod per identity: a terminating member is replaced only once it is gone.
        if (ordered) break;
        continue;
      }
      prefixIntact = false;
      missing.push(this.newPod(set, ordinal));
      // Parallel creates in bounded batches, one per round, so a huge scale
      // never builds one giant write (the store yields between rounds).
      if (ordered || missing.length >= MAX_CREATES_PER_ROUND) break;
    }
    // Parallel makes every missing member in one write.
    if (missing.length) {
      if (this.options.volumes) this.store.commit(this.options.volumes.withClaims(set, missing));
      else this.store.apply(missing, 'create', true);
      // OrderedReady waits for the new member before anything else, as the
      // Kubernetes controller returns once it has created a pod.
      if (ordered) return;
    }

    // Scale down: highest ordinal first; OrderedReady waits until each is gone.
    let deleted = false;
    for (const pod of condemned(members, start, end)) {
      if (isTerminating(pod)) {
        if (ordered) break;
        continue;
      }
      this.options.deletePod(pod);
      deleted = true;
      if (ordered) break;
    }

    // Pods made or deleted now come back as events and this set is reconciled
    // again in the next round: its status is written then, once, not twice.
    if (missing.length === 0 && !deleted) this.updateStatus(set, pods);
  }

  private newPod(set: StatefulSet, ordinal: number): Pod {
    const name = `${set.metadata.name}-${ordinal}`;
    const template = set.spec.template;
    const annotations = { ...(template.metadata?.annotations ?? {}) };
    if (set.metadata.annotations?.[START_UNREADY_ANNOTATION] === 'true') annotations[START_UNREADY_ANNOTATION] = 'true';
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: set.metadata.namespace ?? 'default',
        labels: {
          ...(template.metadata?.labels ?? {}),
          'controller-revision-hash': revisionOf(set),
          'statefulset.kubernetes.io/pod-name': name,
          'apps.kubernetes.io/pod-index': String(ordinal),
        },
        ...(Object.keys(annotations).length ? { annotations } : {}),
        ownerReferences: this.ownerReferencesOf(set) as OwnerReference[],
      },
      spec: {
        // The stored template is frozen: the pod shares its parts rather than copies them.
        ...template.spec,
        // A Pod default the API server adds to pods, never to templates (core/v1 SetDefaults_Pod).
        enableServiceLinks: template.spec.enableServiceLinks ?? true,
        hostname: name,
        ...(set.spec.serviceName ? { subdomain: set.spec.serviceName } : {}),
      },
      status: PENDING,
    };
    return pod;
  }

  private ownerReferencesOf(set: StatefulSet): readonly OwnerReference[] {
    const uid = set.metadata.uid ?? '';
    let refs = this.ownerRefs.get(uid);
    if (!refs || refs[0]?.name !== set.metadata.name) {
      refs = freezeJson([{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata.name, uid, controller: true, blockOwnerDeletion: true }]);
      this.ownerRefs.set(uid, refs);
    }
    return refs;
  }

  private updateStatus(set: StatefulSet, members: Map<number, Pod>): void {
    const pods = [...members.values()];
    const ready = pods.filter((p) => isPodReady(p) && !isTerminating(p)).length;
    const revision = revisionOf(set);
    const status = {
      observedGeneration: set.metadata.generation ?? 1,
      replicas: pods.length,
      readyReplicas: ready,
      currentReplicas: pods.length,
      updatedReplicas: pods.length,
      availableReplicas: ready,
      currentRevision: revision,
      updateRevision: revision,
      collisionCount: 0,
    };
    if (sameJson(set.status ?? {}, status)) return;
    this.store.apply([{ ...set, metadata: { ...set.metadata }, status }], 'update', true);
  }
}
