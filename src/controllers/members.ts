// The pods each StatefulSet controls, by ordinal, kept current from pod events
// so a reconcile never lists a set's pods. OrderedReady scaling reconciles a
// set once per member it creates or deletes; listing N pods each time made a
// scale to N members quadratic (8,000 members took 99 s).

import { controllerOf, isPodReady, isRunningAndReady, isTerminating } from '../model/pods.js';
import type { Pod } from '../model/types.js';
import type { ObjectStore } from '../store/store.js';

/** apps.StatefulSetRevisionLabel (history.ts has it too; members.ts stays free of the history's imports). */
const REVISION_LABEL = 'controller-revision-hash';

/** A pod's ordinal under its set's name (`web-3` → 3), or undefined for any other name. */
export function ordinalIn(setName: string, podName: string): number | undefined {
  if (podName.length <= setName.length + 1 || !podName.startsWith(setName) || podName.charCodeAt(setName.length) !== 45 /* - */) return undefined;
  let value = 0;
  const first = setName.length + 1;
  for (let i = first; i < podName.length; i++) {
    const digit = podName.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9 || (digit === 0 && i === first && podName.length > first + 1)) return undefined;
    value = value * 10 + digit;
  }
  return value <= 0x7fffffff ? value : undefined;
}

export class SetMembers {
  /** ordinal → pod */
  readonly pods = new Map<number, Pod>();
  /** No member has an ordinal above this (it may be stale upwards: readers walk down). */
  highest = -1;
  /** No member has an ordinal below this (it may be stale downwards: readers walk up). */
  lowest = Number.MAX_SAFE_INTEGER;
  /**
   * Every ordinal in [readyFrom, readyBelow) has a member that is Running and
   * Ready; scans for the first missing or unready member start at readyBelow.
   */
  readyFrom = 0;
  readyBelow = 0;
  /**
   * Every ordinal in [updatedFrom, updatedEnd) has a member at revision
   * `updatedRevision` that is not terminating: a rolling update walks down
   * from updatedFrom instead of from the top, so rolling N members is O(N).
   */
  updatedFrom = Number.MAX_SAFE_INTEGER;
  updatedEnd = -1;
  updatedRevision = '';

  /** Ordinals of members that are not Running and Ready (terminating ones included). */
  readonly notReady = new Set<number>();

  /**
   * What the set's status counts, kept as members change (computeReplicaStatus
   * over all members was a scan of every pod per round): members created
   * (with a phase), Running and Ready ones (terminating included), and the
   * created, not terminating ones by revision.
   */
  readonly tally = { created: 0, ready: 0, byRevision: new Map<string, number>() };

  private count(pod: Pod, sign: 1 | -1): void {
    if (!pod.status?.phase) return;
    this.tally.created += sign;
    if (pod.status.phase === 'Running' && isPodReady(pod)) this.tally.ready += sign;
    if (isTerminating(pod)) return;
    const revision = pod.metadata.labels?.[REVISION_LABEL];
    if (revision === undefined) return;
    const n = (this.tally.byRevision.get(revision) ?? 0) + sign;
    if (n > 0) this.tally.byRevision.set(revision, n);
    else this.tally.byRevision.delete(revision);
  }

  put(ordinal: number, pod: Pod): void {
    const before = this.pods.get(ordinal);
    if (before) this.count(before, -1);
    this.count(pod, 1);
    this.pods.set(ordinal, pod);
    if (ordinal > this.highest) this.highest = ordinal;
    if (ordinal < this.lowest) this.lowest = ordinal;
    if (!isRunningAndReady(pod)) {
      this.unready(ordinal);
      this.notReady.add(ordinal);
    } else this.notReady.delete(ordinal);
    if (ordinal >= this.updatedFrom && (pod.metadata.labels?.[REVISION_LABEL] !== this.updatedRevision || pod.metadata.deletionTimestamp !== undefined)) this.outdated();
  }

  remove(ordinal: number): void {
    const before = this.pods.get(ordinal);
    if (before) this.count(before, -1);
    this.pods.delete(ordinal);
    this.notReady.delete(ordinal);
    this.unready(ordinal);
    if (ordinal >= this.updatedFrom) this.outdated();
  }

  /** The lowest ordinal the updated suffix vouches for, for this revision and end; `end` when it vouches for none. */
  updatedSuffix(revision: string, end: number): number {
    if (this.updatedRevision !== revision || this.updatedEnd !== end || this.updatedFrom > end) {
      this.updatedRevision = revision;
      this.updatedEnd = end;
      this.updatedFrom = end;
    }
    return this.updatedFrom;
  }

  private outdated(): void {
    this.updatedFrom = Number.MAX_SAFE_INTEGER;
  }

  /**
   * True when every ordinal of [start, end) has a member, all Running and
   * Ready, and there are no others: known in O(1), so the round after a rolled
   * member becomes Ready does not walk the members above it (a rollout of N
   * members would be O(N^2)). The bounds may be stale only outwards, so inside
   * the range they prove the members are too.
   */
  allReady(start: number, end: number): boolean {
    return this.notReady.size === 0 && this.pods.size === end - start && (this.pods.size === 0 || (this.lowest >= start && this.highest < end));
  }

  /** The first ordinal at or after `start` the ready prefix does not vouch for. */
  scanFrom(start: number): number {
    if (this.readyFrom !== start || this.readyBelow < start) {
      this.readyFrom = start;
      this.readyBelow = start;
    }
    return this.readyBelow;
  }

  private unready(ordinal: number): void {
    if (ordinal >= this.readyFrom && ordinal < this.readyBelow) this.readyBelow = ordinal;
  }
}

export class MemberIndex {
  private readonly bySet = new Map<string, SetMembers>();

  constructor(private readonly store: ObjectStore) {}

  /** Called with every pod event, before any reconcile of the round. */
  notePod(before: Pod | undefined, after: Pod | undefined): void {
    const was = before ? controllerOf(before) : undefined;
    const is = after ? controllerOf(after) : undefined;
    if (was?.kind === 'StatefulSet' && (!is || is.uid !== was.uid)) {
      const ordinal = ordinalIn(was.name, before!.metadata.name);
      if (ordinal !== undefined) this.bySet.get(was.uid)?.remove(ordinal);
    }
    if (is?.kind === 'StatefulSet') {
      const ordinal = ordinalIn(is.name, after!.metadata.name);
      if (ordinal !== undefined) this.bySet.get(is.uid)?.put(ordinal, after!);
    }
  }

  /** The members of the set with this uid and name; built from the store the first time. */
  of(uid: string, name: string): SetMembers {
    let members = this.bySet.get(uid);
    if (!members) {
      members = new SetMembers();
      for (const object of this.store.listOwnedBy(uid)) {
        if (object.kind !== 'Pod') continue;
        const owner = controllerOf(object);
        if (owner?.kind !== 'StatefulSet' || owner.uid !== uid) continue;
        const ordinal = ordinalIn(name, object.metadata.name);
        if (ordinal !== undefined) members.put(ordinal, object);
      }
      this.bySet.set(uid, members);
    }
    return members;
  }

  forget(uid: string): void {
    this.bySet.delete(uid);
  }
}
