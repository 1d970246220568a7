// ControllerRevisions of StatefulSets, as pkg/controller/history/controller_history.go
// and the revision half of pkg/controller/statefulset/stateful_set_control.go
// (getStatefulSetRevisions, truncateHistory) keep them: one revision per
// distinct pod template, named <set>-<hash>, numbered in the order templates
// were last used, and holding the strategic merge patch that restores the
// template (what `kubectl rollout undo` sends back).

import type { ControllerRevision, OwnerReference, PodSpec, StatefulSet } from '../model/types.js';
import type { ObjectStore } from '../store/store.js';
import { freezeJson } from '../model/json.js';

/** The label a revision carries with its hash (history.ControllerRevisionHashLabel). */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';
/** The label a pod carries with the name of the revision it was made from (apps.StatefulSetRevisionLabel). */
export const STATEFULSET_REVISION_LABEL = 'controller-revision-hash';

export type PodTemplate = StatefulSet['spec']['template'];

/**
 * JSON as Go's encoding/json writes a map[string]interface{}: keys sorted at
 * every level, no spaces, and <, >, & and U+2028/U+2029 escaped (HTML-safe
 * by default). The revision hash is taken over these bytes, so the same
 * template hashes the same here and in kube-controller-manager.
 */
export function goJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => goJson(item)).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort(goKeyOrder);
  return `{${keys.map((k) => `${goJson(k)}:${goJson(record[k])}`).join(',')}}`;
}

/** Go sorts map keys by their bytes (UTF-8), not by UTF-16 code units. */
function goKeyOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** 32-bit FNV-1 (Go's hash/fnv New32, which HashControllerRevision uses; not FNV-1a). */
export function fnv32(bytes: Uint8Array, hash = 0x811c9dc5): number {
  let h = hash >>> 0;
  for (const byte of bytes) {
    h = Math.imul(h, 0x01000193) >>> 0;
    h = (h ^ byte) >>> 0;
  }
  return h;
}

const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** apimachinery's rand.SafeEncodeString: every byte mapped into consonants and digits (no vowels, no bad words). */
export function safeEncodeString(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) out += SAFE_ALPHANUMS[byte % SAFE_ALPHANUMS.length];
  return out;
}

/** history.HashControllerRevision: FNV-1 over the data's bytes, then the collision count's decimal digits. */
export function hashControllerRevision(raw: string, collisionCount: number | undefined): string {
  let h = fnv32(Buffer.from(raw, 'utf8'));
  if (collisionCount !== undefined) h = fnv32(Buffer.from(String(collisionCount), 'utf8'), h);
  return safeEncodeString(String(h));
}

/** history.ControllerRevisionName: the prefix is cut at 223 bytes so the name stays within 253. */
export function controllerRevisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/**
 * The revision data of a template (statefulset getPatch): the template as the
 * controller serialises it, under spec.template with `$patch: replace`. Go's
 * encoder writes a zero creationTimestamp as null, so template metadata always
 * carries `"creationTimestamp":null` in a real revision; so it does here.
 */
export function revisionData(template: PodTemplate): { data: { spec: { template: Record<string, unknown> } }; raw: string } {
  const { metadata, ...rest } = template;
  const serialised: Record<string, unknown> = { ...rest, metadata: { ...(metadata ?? {}), creationTimestamp: null }, $patch: 'replace' };
  const data = { spec: { template: serialised } };
  return { data, raw: goJson(data) };
}

/** Stored (frozen) templates and revisions are asked about on every reconcile: remember what was worked out. */
const dataOfTemplate = new WeakMap<object, ReturnType<typeof revisionData>>();
const rawOfRevision = new WeakMap<object, string>();
const templateOfRevision = new WeakMap<object, PodTemplate>();

function templateData(template: PodTemplate): ReturnType<typeof revisionData> {
  const known = dataOfTemplate.get(template);
  if (known) return known;
  const made = revisionData(template);
  if (Object.isFrozen(template)) dataOfTemplate.set(template, made);
  return made;
}

/** The bytes a revision's data serialises to: what revisions are compared by (history.EqualRevision). */
export function rawOf(revision: ControllerRevision): string {
  const known = rawOfRevision.get(revision);
  if (known !== undefined) return known;
  const raw = goJson(revision.data ?? null);
  if (Object.isFrozen(revision)) rawOfRevision.set(revision, raw);
  return raw;
}

/** The pod template a revision restores (ApplyRevision), without the patch directive. */
export function templateOf(revision: ControllerRevision): PodTemplate {
  const known = templateOfRevision.get(revision);
  if (known) return known;
  const stored = (revision.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec?.template ?? {};
  const { $patch: _directive, metadata, ...rest } = stored;
  // Strip the null creationTimestamp the serialised form carries: pods made from it have none.
  const { creationTimestamp: _zero, ...meta } = (metadata ?? {}) as Record<string, unknown>;
  const template = freezeJson({
    ...(Object.keys(meta).length ? { metadata: meta as PodTemplate['metadata'] } : {}),
    spec: ((rest as { spec?: PodSpec }).spec ?? { containers: [] }) as PodSpec,
  }) as PodTemplate;
  if (Object.isFrozen(revision)) templateOfRevision.set(revision, template);
  return template;
}

/** history.SortControllerRevisions: by revision number, then creation time, then name. */
export function sortRevisions(revisions: ControllerRevision[]): ControllerRevision[] {
  return revisions.sort(
    (a, b) =>
      a.revision - b.revision ||
      (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
      (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0),
  );
}

/** The revisions a truncation deletes (truncateHistory): the oldest non-live ones beyond the limit. */
export function revisionsToTruncate(sortedRevisions: readonly ControllerRevision[], live: ReadonlySet<string>, historyLimit: number): ControllerRevision[] {
  const history = sortedRevisions.filter((r) => !live.has(r.metadata.name));
  return history.length <= historyLimit ? [] : history.slice(0, history.length - historyLimit);
}

export interface SetRevisions {
  current: ControllerRevision;
  update: ControllerRevision;
  collisionCount: number;
  /** Every revision the set owns, sorted (as truncation needs them). */
  revisions: ControllerRevision[];
}

/** Keeps the ControllerRevisions of StatefulSets in the store. */
export class StatefulSetHistory {
  constructor(private readonly store: ObjectStore) {}

  /** The revisions a set owns (ListRevisions: by the set's selector, controlled by its uid), sorted. */
  list(set: StatefulSet): ControllerRevision[] {
    const uid = set.metadata.uid ?? '';
    // By the selector's labels through the store's label index, as ListControllerRevisions lists
    // by selector: the set's pods are owned by it too, and listing every owned object would make
    // each reconcile of an N-member set O(N).
    const owned = this.store
      .listByLabels('ControllerRevision', set.metadata.namespace ?? 'default', set.spec.selector.matchLabels ?? {})
      .filter((o) => o.metadata.ownerReferences?.some((r) => r.controller && r.uid === uid) === true);
    return sortRevisions(owned);
  }

  /**
   * getStatefulSetRevisions: the update revision is the one of the current
   * template (the newest revision if it is equal; an older equal one is
   * renumbered to come last, which is how a rollback works; else a new one),
   * and the current revision the one status.currentRevision names, or the
   * update revision when there is none yet.
   */
  revisions(set: StatefulSet, ownerReferences: readonly OwnerReference[]): SetRevisions {
    const revisions = this.list(set);
    let collisionCount = Number(set.status?.collisionCount ?? 0) || 0;
    const { data, raw } = templateData(set.spec.template);
    const next = revisions.length ? revisions[revisions.length - 1]!.revision + 1 : 1;
    const equal = revisions.filter((r) => rawOf(r) === raw);
    let update: ControllerRevision;
    const newest = revisions[revisions.length - 1];
    if (equal.length && newest && equal[equal.length - 1] === newest) {
      update = newest;
    } else if (equal.length) {
      const found = equal[equal.length - 1]!;
      // UpdateControllerRevision: the equal revision is renumbered to come last (a rollback).
      update = (this.store.apply([{ ...found, metadata: { ...found.metadata }, revision: next }], 'update', true) as ControllerRevision[])[0]!;
    } else {
      const created = this.create(set, data, raw, next, ownerReferences, collisionCount);
      update = created.revision;
      collisionCount = created.collisionCount;
      if (!revisions.some((r) => r.metadata.name === update.metadata.name)) revisions.push(update);
    }
    const index = revisions.findIndex((r) => r.metadata.name === update.metadata.name);
    if (index >= 0) revisions[index] = update;
    sortRevisions(revisions);
    const currentName = typeof set.status?.currentRevision === 'string' ? set.status.currentRevision : undefined;
    const current = (currentName && revisions.find((r) => r.metadata.name === currentName)) || update;
    return { current, update, collisionCount, revisions };
  }

  /**
   * CreateControllerRevision: named by the hash of the data and the collision
   * count; a name taken by a revision with other data bumps the count and
   * tries again; one taken by the same data is that revision.
   */
  private create(
    set: StatefulSet,
    data: unknown,
    raw: string,
    revision: number,
    ownerReferences: readonly OwnerReference[],
    collisionCount: number,
  ): { revision: ControllerRevision; collisionCount: number } {
    const namespace = set.metadata.namespace ?? 'default';
    const labels = { ...(set.spec.template.metadata?.labels ?? {}) };
    // The hash label is the one of the first try, as NewControllerRevision sets it before the loop.
    labels[CONTROLLER_REVISION_HASH_LABEL] = hashControllerRevision(raw, collisionCount);
    for (;;) {
      const name = controllerRevisionName(set.metadata.name, hashControllerRevision(raw, collisionCount));
      const exists = this.store.get('ControllerRevision', namespace, name);
      if (exists) {
        if (rawOf(exists) === raw) return { revision: exists, collisionCount };
        collisionCount++;
        continue;
      }
      const made: ControllerRevision = {
        apiVersion: 'apps/v1',
        kind: 'ControllerRevision',
        metadata: {
          name,
          namespace,
          labels,
          // newRevision copies the set's annotations onto its revisions.
          ...(set.metadata.annotations ? { annotations: { ...set.metadata.annotations } } : {}),
          ownerReferences: ownerReferences as OwnerReference[],
        },
        data,
        revision,
      };
      const [stored] = this.store.apply([made], 'create', true) as ControllerRevision[];
      return { revision: stored!, collisionCount };
    }
  }

  /** truncateHistory: deletes the oldest revisions no pod, and neither the current nor the update revision, uses. */
  truncate(set: StatefulSet, revisions: readonly ControllerRevision[], live: ReadonlySet<string>): void {
    const limit = typeof set.spec.revisionHistoryLimit === 'number' ? set.spec.revisionHistoryLimit : 10;
    const doomed = revisionsToTruncate(revisions, live, limit);
    if (doomed.length === 0) return;
    this.store.commit(doomed.map((r) => ({ op: 'delete' as const, kind: 'ControllerRevision' as const, namespace: r.metadata.namespace, name: r.metadata.name })));
  }
}
