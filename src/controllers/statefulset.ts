// The StatefulSet controller (pkg/controller/statefulset): pods <set>-<ordinal>
// over [start, start+replicas), stable hostname/subdomain, OrderedReady or
// Parallel scaling, at most one pod per identity, ControllerRevisions
// (history.ts), rolling updates (RollingUpdate with partition and
// maxUnavailable, OnDelete) and a status that is always true. It follows
// stateful_set_control.go's updateStatefulSet: each reconcile establishes the
// invariants first (missing members made, unhealthy ones waited for,
// condemned ones removed) and only then replaces one member (or
// maxUnavailable of them) whose revision is not the update revision, highest
// ordinal first. The pods it creates are started by the kubelet emulation.

import type { ControllerRevision, OwnerReference, Pod, StatefulSet } from '../model/types.js';
import type { ObjectStore } from '../store/store.js';
import type { VolumeController } from './volumes.js';
import { freezeJson, sameJson } from '../model/json.js';
import { controllerOf, isPodReady, isRunningAndReady, isTerminal, isTerminating } from '../model/pods.js';
import { systemClock, type Clock, type ClockTimer } from '../model/clock.js';
import { START_UNREADY_ANNOTATION } from './kubelet.js';
import { MemberIndex, type SetMembers } from './members.js';
import type { EventRecorder } from './events.js';
import { STATEFULSET_REVISION_LABEL, StatefulSetHistory, templateOf, type PodTemplate } from './history.js';

/** The status of a pod not started yet: one frozen object shared by all of them. */
const PENDING = freezeJson({ phase: 'Pending' as const });

export interface StatefulSetControllerOptions {
  /** Makes the claims of the pods about to be created, in the same write, before them (volumes.ts). */
  volumes?: Pick<VolumeController, 'withClaims'>;
  /** Deletes a pod the way the API does (graceful or not). */
  deletePod: (pod: Pod) => void;
  /** Where the controller's events go (SuccessfulCreate, SuccessfulDelete, ... as stateful_pod_control.go records them). */
  recorder?: EventRecorder;
  /** What minReadySeconds waits on. Default: the system clock. */
  clock?: Clock;
  /** Told about a reconcile a timer ran that failed. */
  log?: (message: string) => void;
}

const MAX_CREATES_PER_ROUND = 25;
/** The same bound for Parallel's deletions of condemned members. */
const MAX_DELETES_PER_ROUND = 25;

/** The update strategy with the apps/v1 defaults (RollingUpdate, partition 0, maxUnavailable 1). */
export interface UpdateStrategy {
  type: 'RollingUpdate' | 'OnDelete';
  partition: number;
  maxUnavailable: number | string;
}

export function updateStrategyOf(set: StatefulSet): UpdateStrategy {
  const strategy = set.spec.updateStrategy as { type?: string; rollingUpdate?: { partition?: number; maxUnavailable?: number | string } } | undefined;
  const type = strategy?.type === 'OnDelete' ? 'OnDelete' : 'RollingUpdate';
  // The API server defaults rollingUpdate to {partition: 0} for RollingUpdate, so a missing one means 0 here.
  const partition = type === 'RollingUpdate' && typeof strategy?.rollingUpdate?.partition === 'number' ? strategy.rollingUpdate.partition : 0;
  const maxUnavailable = strategy?.rollingUpdate?.maxUnavailable ?? 1;
  return { type, partition, maxUnavailable };
}

/**
 * getStatefulSetMaxUnavailable: a number, or a percentage of replicas rounded
 * down (intstr.GetScaledValueFromIntOrPercent with roundUp false), at least 1.
 */
export function maxUnavailableOf(value: number | string, replicas: number): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else {
    const match = /^(\d+)%$/.exec(value);
    n = match ? Math.floor((Number(match[1]) * replicas) / 100) : Number.parseInt(value, 10);
  }
  return Number.isFinite(n) && n >= 1 ? n : 1;
}

function revisionLabel(pod: Pod): string | undefined {
  return pod.metadata.labels?.[STATEFULSET_REVISION_LABEL];
}

/** The statefulset utils' isRunningAndReady: Running with Ready True (a terminating pod still counts, as there). */
function runningAndReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && isPodReady(pod);
}

/** When the pod became Ready (its Ready condition's lastTransitionTime), in ms; undefined when unknown. */
function readySince(pod: Pod): number | undefined {
  const at = pod.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
  const ms = at ? Date.parse(at) : Number.NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * podutil.IsPodAvailable: Ready, and Ready for longer than minReadySeconds
 * (strictly: lastTransitionTime + minReadySeconds before now).
 */
export function isAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  if (!runningAndReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = readySince(pod);
  return since !== undefined && since + minReadySeconds * 1000 < now;
}

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

/** How a step of the reconcile ended: it wrote pods, it must wait (a member is not ready), or the next step may run. */
type Step = 'wrote' | 'wait' | 'next';

/** What a reconcile sees of a set, worked out once. */
interface SetView {
  set: StatefulSet;
  members: SetMembers;
  start: number;
  end: number;
  ordered: boolean;
  strategy: UpdateStrategy;
  minReadySeconds: number;
  current: ControllerRevision;
  update: ControllerRevision;
  collisionCount: number;
  now: number;
}

/**
 * The status updateStatefulSet computes (computeReplicaStatus over the
 * members, then completeRollingUpdate): counts of created, ready, available,
 * current and updated pods, and the revisions.
 */
export function computeStatus(
  set: StatefulSet,
  pods: Iterable<Pod>,
  revisions: { current: string; update: string; collisionCount: number },
  minReadySeconds: number,
  now: number,
): SetStatus {
  let replicas = 0;
  let ready = 0;
  let available = 0;
  let current = 0;
  let updated = 0;
  for (const pod of pods) {
    const created = !!pod.status?.phase;
    if (created) replicas++;
    if (runningAndReady(pod)) {
      ready++;
      if (isAvailable(pod, minReadySeconds, now)) available++;
    }
    if (created && !isTerminating(pod)) {
      const revision = revisionLabel(pod);
      if (revision === revisions.current) current++;
      if (revision === revisions.update) updated++;
    }
  }
  return statusOf(set, { replicas, ready, available, current, updated }, revisions);
}

type SetStatus = Record<string, unknown> & { replicas: number; readyReplicas: number; currentReplicas: number; updatedReplicas: number; availableReplicas: number; currentRevision: string; updateRevision: string };

/** The status from the members' counts, with completeRollingUpdate applied. */
function statusOf(
  set: StatefulSet,
  counts: { replicas: number; ready: number; available: number; current: number; updated: number },
  revisions: { current: string; update: string; collisionCount: number },
): SetStatus {
  const { replicas, ready, available, current, updated } = counts;
  const status = {
    observedGeneration: set.metadata.generation ?? 1,
    replicas,
    readyReplicas: ready,
    currentReplicas: current,
    updatedReplicas: updated,
    availableReplicas: available,
    currentRevision: revisions.current,
    updateRevision: revisions.update,
    collisionCount: revisions.collisionCount,
  };
  // completeRollingUpdate: once every pod is updated and ready, the update revision is the current one.
  // (Under OnDelete it never is, as in Kubernetes: currentRevision stays where it was.)
  if (updateStrategyOf(set).type === 'RollingUpdate' && updated === replicas && ready === replicas) {
    status.currentReplicas = updated;
    status.currentRevision = revisions.update;
  }
  return status;
}

export class StatefulSetController {
  /** One frozen ownerReferences list per StatefulSet uid, shared by all its pods. */
  private readonly ownerRefs = new Map<string, readonly OwnerReference[]>();
  private readonly members: MemberIndex;
  private readonly history: StatefulSetHistory;
  private readonly clock: Clock;
  /** minReadySeconds: one timer per set, for the next moment a Ready member becomes available. */
  private readonly availabilityTimers = new Map<string, { at: number; timer: ClockTimer }>();

  constructor(
    private readonly store: ObjectStore,
    private readonly options: StatefulSetControllerOptions,
  ) {
    this.members = new MemberIndex(store);
    this.history = new StatefulSetHistory(store);
    this.clock = options.clock ?? systemClock;
  }

  close(): void {
    for (const { timer } of this.availabilityTimers.values()) timer.cancel();
    this.availabilityTimers.clear();
  }

  /** Keeps the members of every set current; the manager calls it with every pod event. */
  notePod(before: Pod | undefined, after: Pod | undefined): void {
    this.members.notePod(before, after);
  }

  /** A StatefulSet that is gone takes its pods and revisions with it (garbage collection of owned objects). */
  reconcileDeleted(namespace: string, name: string, uid: string | undefined): void {
    if (uid) {
      this.ownerRefs.delete(uid);
      this.members.forget(uid);
      this.availabilityTimers.get(uid)?.timer.cancel();
      this.availabilityTimers.delete(uid);
      const revisions = this.store.listOwnedBy(uid).filter((o) => o.kind === 'ControllerRevision' && o.metadata.ownerReferences?.some((r) => r.uid === uid));
      if (revisions.length) this.store.commit(revisions.map((r) => ({ op: 'delete' as const, kind: 'ControllerRevision' as const, namespace: r.metadata.namespace, name: r.metadata.name })));
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
    const end = start + (set.spec.replicas ?? 1);
    const { current, update, collisionCount, revisions } = this.history.revisions(set, this.ownerReferencesOf(set));
    const view: SetView = {
      set,
      members: this.members.of(set.metadata.uid ?? '', set.metadata.name),
      start,
      end,
      ordered: (set.spec.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady',
      strategy: updateStrategyOf(set),
      minReadySeconds: typeof set.spec.minReadySeconds === 'number' ? set.spec.minReadySeconds : 0,
      current,
      update,
      collisionCount,
      now: this.clock.now(),
    };
    // Each step either writes pods (their events bring the set back next round)
    // or lets the next one run; the status is written in the round that writes
    // no pod, once, not once per step.
    let step = this.establishReplicas(view);
    if (step === 'next') step = this.removeCondemned(view);
    if (step === 'next') step = this.updatePods(view);
    if (step !== 'wrote') this.updateStatus(view);
    this.truncateHistory(view, revisions);
  }

  /**
   * processReplica for every ordinal in range: make the missing members, replace
   * failed ones, and (OrderedReady) stop at the first that is not Running,
   * Ready and available.
   */
  private establishReplicas(view: SetView): Step {
    const { set, members, start, end, ordered } = view;
    const pods = members.pods;
    // The members below readyBelow are known Running and Ready, so each round
    // looks only past them: a scale to N members costs O(N), not O(N^2).
    const missing: Pod[] = [];
    let prefixIntact = true;
    let blocked = false;
    let deleted = false;
    const from = members.allReady(start, end) ? end : members.scanFrom(start);
    for (let ordinal = from; ordinal < end; ordinal++) {
      const pod = pods.get(ordinal);
      if (pod) {
        if (isRunningAndReady(pod)) {
          if (prefixIntact) members.readyBelow = ordinal + 1;
          continue;
        }
        prefixIntact = false;
        // A member that ended (Failed or Succeeded) is deleted and made again.
        if (isTerminal(pod) && !isTerminating(pod)) {
          this.deletePod(set, pod);
          deleted = true;
        }
        // At most one pod per identity: a terminating member is replaced only once it is gone.
        if (ordered) {
          blocked = true;
          break;
        }
        continue;
      }
      prefixIntact = false;
      missing.push(this.newVersionedPod(view, ordinal));
      // Parallel creates in bounded batches, one per round, so a huge scale
      // never builds one giant write (the store yields between rounds).
      if (ordered || missing.length >= MAX_CREATES_PER_ROUND) break;
    }
    if (missing.length) {
      this.createPods(set, missing);
      return 'wrote';
    }
    if (deleted) return 'wrote';
    if (blocked) return 'wait';
    // OrderedReady also waits for every member to be available (minReadySeconds) before going on.
    if (ordered && view.minReadySeconds > 0) {
      for (let ordinal = start; ordinal < end; ordinal++) {
        const pod = pods.get(ordinal);
        if (pod && !isAvailable(pod, view.minReadySeconds, view.now)) return 'wait';
      }
    }
    return 'next';
  }

  /**
   * processCondemned: members past the range go, highest ordinal first;
   * OrderedReady deletes one at a time and waits until it is gone.
   */
  private removeCondemned(view: SetView): Step {
    const { set, members, start, end, ordered } = view;
    let deleted = false;
    let highest = true;
    let count = 0;
    for (const pod of condemned(members, start, end)) {
      if (isTerminating(pod)) {
        if (ordered) return deleted ? 'wrote' : 'wait';
        continue;
      }
      // OrderedReady deletes an unhealthy condemned member only if it is the lowest unhealthy one.
      if (ordered && highest && !isRunningAndReady(pod) && this.lowerUnhealthyCondemned(members, start, end, pod)) return 'wait';
      highest = false;
      this.deletePod(set, pod);
      deleted = true;
      // Parallel deletes in bounded batches too, one per round, as it creates: a scale
      // from 70,000 to 2 is many short rounds the store yields between, not one long one.
      if (ordered || ++count >= MAX_DELETES_PER_ROUND) break;
    }
    return deleted ? 'wrote' : 'next';
  }

  /** Whether a condemned member below this one is unhealthy too (rare: looked at only then). */
  private lowerUnhealthyCondemned(members: SetMembers, start: number, end: number, pod: Pod): boolean {
    const ordinal = Number(pod.metadata.labels?.['apps.kubernetes.io/pod-index'] ?? Number.NaN);
    for (const other of condemned(members, start, end)) {
      if (other === pod) continue;
      const o = Number(other.metadata.labels?.['apps.kubernetes.io/pod-index'] ?? Number.NaN);
      if ((Number.isNaN(ordinal) || o < ordinal) && !isRunningAndReady(other)) return true;
    }
    return false;
  }

  /**
   * The rolling update (updateStatefulSetAfterInvariantEstablished, the
   * MaxUnavailableStatefulSet path on by default since 1.35): count the
   * members in range that are unavailable; while that is below
   * maxUnavailable, delete members not at the update revision from the
   * highest ordinal down to the partition. The kubelet and this controller
   * then make them again at the update revision. OnDelete replaces nothing.
   */
  private updatePods(view: SetView): Step {
    const { set, members, start, end, strategy, update } = view;
    if (strategy.type === 'OnDelete') return 'next';
    const pods = members.pods;
    const maxUnavailable = maxUnavailableOf(strategy.maxUnavailable, end - start);
    let unavailable = 0;
    // OrderedReady got here only with every member Running, Ready and available: none is unavailable.
    if (!view.ordered) {
      for (let ordinal = start; ordinal < end; ordinal++) {
        const pod = pods.get(ordinal);
        if (!pod || isTerminating(pod) || !isAvailable(pod, view.minReadySeconds, view.now)) unavailable++;
      }
    }
    if (unavailable >= maxUnavailable) return 'wait';
    let budget = maxUnavailable - unavailable;
    const updateMin = start + strategy.partition;
    const revision = update.metadata.name;
    let top = members.updatedSuffix(revision, end);
    let suffixIntact = true;
    let deleted = false;
    for (let ordinal = top - 1; ordinal >= updateMin && budget > 0; ordinal--) {
      const pod = pods.get(ordinal);
      if (pod && revisionLabel(pod) === revision && !isTerminating(pod)) {
        if (suffixIntact) members.updatedFrom = top = ordinal;
        continue;
      }
      suffixIntact = false;
      if (pod && !isTerminating(pod)) {
        this.deletePod(set, pod);
        deleted = true;
        budget--;
      }
    }
    return deleted ? 'wrote' : 'next';
  }

  /**
   * newVersionedStatefulSetPod: a member below the partition is made from the
   * current revision (so one deleted there comes back as it was), any other
   * from the update revision.
   */
  private newVersionedPod(view: SetView, ordinal: number): Pod {
    const { strategy, start, current, update, set } = view;
    if (strategy.type === 'RollingUpdate' && ordinal < start + strategy.partition && current !== update) {
      return this.newPod(set, ordinal, templateOf(current), current.metadata.name);
    }
    // The update revision's template is the set's own: the pod shares its stored parts.
    return this.newPod(set, ordinal, set.spec.template, update.metadata.name);
  }

  /** CreateStatefulPod: claims first (volumes.ts), then the pods, and an event for each. */
  private createPods(set: StatefulSet, pods: Pod[]): void {
    if (this.options.volumes) this.store.commit(this.options.volumes.withClaims(set, pods));
    else this.store.apply(pods, 'create', true);
    // stateful_pod_control.go recordPodEvent: one event per pod, about the set.
    for (const pod of pods) this.options.recorder?.record(set, 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`, 'statefulset-controller');
  }

  /** DeleteStatefulPod, and its event. */
  private deletePod(set: StatefulSet, pod: Pod): void {
    this.options.deletePod(pod);
    this.options.recorder?.record(set, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`, 'statefulset-controller');
  }

  private newPod(set: StatefulSet, ordinal: number, template: PodTemplate, revision: string): Pod {
    const name = `${set.metadata.name}-${ordinal}`;
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
          [STATEFULSET_REVISION_LABEL]: revision,
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

  private updateStatus(view: SetView): void {
    const { set, members, minReadySeconds, now } = view;
    const revisions = { current: view.current.metadata.name, update: view.update.metadata.name, collisionCount: view.collisionCount };
    // Without minReadySeconds nothing in the status depends on the clock: the
    // members' running counts give it without visiting them.
    const { tally } = members;
    const status =
      minReadySeconds > 0
        ? computeStatus(set, members.pods.values(), revisions, minReadySeconds, now)
        : statusOf(set, { replicas: tally.created, ready: tally.ready, available: tally.ready, current: tally.byRevision.get(revisions.current) ?? 0, updated: tally.byRevision.get(revisions.update) ?? 0 }, revisions);
    if (minReadySeconds > 0 && status.availableReplicas !== status.readyReplicas) this.wakeForAvailability(view);
    const known = set.status ?? {};
    // Status fields this controller does not own (conditions) are kept.
    if (Object.keys(status).every((key) => sameJson(known[key], status[key as keyof typeof status]))) return;
    this.store.apply([{ ...set, metadata: { ...set.metadata }, status: { ...known, ...status } }], 'update', true);
  }

  /** The sync is requeued after minReadySeconds (stateful_set.go): here, when the next Ready member becomes available. */
  private wakeForAvailability(view: SetView): void {
    const { set, members, minReadySeconds, now } = view;
    let next = Number.POSITIVE_INFINITY;
    for (const pod of members.pods.values()) {
      if (!runningAndReady(pod) || isAvailable(pod, minReadySeconds, now)) continue;
      const since = readySince(pod);
      if (since !== undefined) next = Math.min(next, since + minReadySeconds * 1000 + 1);
    }
    if (next === Number.POSITIVE_INFINITY) return;
    const uid = set.metadata.uid ?? '';
    const pending = this.availabilityTimers.get(uid);
    if (pending && pending.at <= next) return;
    pending?.timer.cancel();
    const namespace = set.metadata.namespace ?? 'default';
    const name = set.metadata.name;
    const timer = this.clock.setTimeout(() => {
      this.availabilityTimers.delete(uid);
      try {
        this.reconcile(namespace, name);
      } catch (error) {
        this.options.log?.(`statefulset: ${namespace}/${name}: ${(error as Error).message}`);
      }
    }, next - now);
    this.availabilityTimers.set(uid, { at: next, timer });
  }

  /**
   * truncateHistory: beyond revisionHistoryLimit, the oldest revisions that are
   * neither current, update, nor the revision of any member are deleted. Only
   * a set with more revisions than that looks at its members' labels.
   */
  private truncateHistory(view: SetView, revisions: readonly ControllerRevision[]): void {
    const limit = typeof view.set.spec.revisionHistoryLimit === 'number' ? view.set.spec.revisionHistoryLimit : 10;
    if (revisions.length <= limit + 1) return;
    const live = new Set<string>([view.current.metadata.name, view.update.metadata.name]);
    for (const pod of view.members.pods.values()) {
      const revision = revisionLabel(pod);
      if (revision) live.add(revision);
    }
    this.history.truncate(view.set, revisions, live);
  }
}

/**
 * What `kubectl rollout status sts/X` reports (kubectl polymorphichelpers
 * StatefulSetStatusViewer), with the same words; `done` when it would return.
 * kubectl refuses OnDelete sets; here they are done once every member is at
 * the update revision and Ready, so a test can wait for that too.
 */
export function rolloutStatus(set: StatefulSet): { done: boolean; message: string } {
  const status = (set.status ?? {}) as { observedGeneration?: number; readyReplicas?: number; updatedReplicas?: number; currentReplicas?: number; currentRevision?: string; updateRevision?: string };
  const replicas = set.spec.replicas ?? 1;
  const strategy = set.spec.updateStrategy as { type?: string; rollingUpdate?: { partition?: number } } | undefined;
  const observed = status.observedGeneration ?? 0;
  if (observed === 0 || (set.metadata.generation ?? 0) > observed) return { done: false, message: 'Waiting for statefulset spec update to be observed...' };
  const ready = status.readyReplicas ?? 0;
  if (ready < replicas) return { done: false, message: `Waiting for ${replicas - ready} pods to be ready...` };
  const updated = status.updatedReplicas ?? 0;
  if (strategy?.type === 'OnDelete') {
    return updated < replicas
      ? { done: false, message: `Waiting for ${replicas - updated} pods to be deleted and made again at revision ${status.updateRevision ?? ''} (OnDelete)...` }
      : { done: true, message: `${updated} pods at revision ${status.updateRevision ?? ''} (OnDelete)...` };
  }
  if (strategy?.rollingUpdate) {
    const partition = strategy.rollingUpdate.partition;
    if (partition !== undefined && updated < replicas - partition) {
      return { done: false, message: `Waiting for partitioned roll out to finish: ${updated} out of ${replicas - partition} new pods have been updated...` };
    }
    return { done: true, message: `partitioned roll out complete: ${updated} new pods have been updated...` };
  }
  if (status.updateRevision !== status.currentRevision) {
    return { done: false, message: `waiting for statefulset rolling update to complete ${updated} pods at revision ${status.updateRevision ?? ''}...` };
  }
  return { done: true, message: `statefulset rolling update complete ${status.currentReplicas ?? 0} pods at revision ${status.currentRevision ?? ''}...` };
}

/** The time as Go's time.Now().Format(time.RFC3339) writes it: local time, whole seconds, the zone's offset (kubectl's restartedAt). */
export function rfc3339Local(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const zone = offset === 0 ? 'Z' : `${offset > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}${zone}`;
}

/** The annotation `kubectl rollout restart` sets on the pod template. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
