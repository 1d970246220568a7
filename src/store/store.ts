// The object store: every write goes through here. A write is a batch of
// changes that is checked completely before any of it is committed, then
// committed with one resourceVersion step per object and announced to
// listeners as one batch, so nobody ever sees half of an apply.

import { HeadlessDnsError } from '../errors.js';
import { formatIPv6, ipFamily } from '../model/ip.js';
import { nowTimestamp } from '../model/pods.js';
import { type Kind, type KubeObject, type Service, isNamespaced } from '../model/types.js';
import { validateUpdate } from '../model/validate.js';
import { AddressAllocator, type Cidr, parseCidr } from './allocator.js';
import { copyJson, freezeJson, sameJson, shareWith } from '../model/json.js';
import { Postings } from './postings.js';
import { newUid } from './uid.js';

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: StoreEventType;
  object: KubeObject;
  /** The object as it was before a MODIFIED or DELETED event. */
  previous?: KubeObject;
}

export type StoreListener = (events: readonly StoreEvent[]) => void;

export type StoreChange =
  | {
      op: 'put';
      object: KubeObject;
      mode?: 'create' | 'update' | 'apply';
      /**
       * The writer built this object for this write and lets go of it (controllers):
       * it is frozen and kept as it is instead of copied.
       */
      owned?: boolean;
    }
  | { op: 'delete'; kind: Kind; namespace?: string; name: string };

export interface StoreOptions {
  /** Ranges cluster IPs are allocated from, at most one per family. */
  serviceCidrs?: readonly string[];
  /** Told about a listener that threw; the default rethrows nothing and logs to stderr. */
  onListenerError?: (error: unknown) => void;
  /**
   * Mutating admission: what the API server's admission plugins do to an object
   * being created (DefaultTolerationSeconds adds tolerations to pods), whoever
   * creates it (the API, manifests, a controller). Returns the object, or a changed copy.
   */
  admit?: (object: KubeObject) => KubeObject;
}

/** Where committed batches are made durable before anyone hears of them (serve --state). */
export interface Journal {
  record(events: readonly StoreEvent[], resourceVersion: number, snapshot: () => KubeObject[]): void;
}

const DELIVERED: StoreEvent[] = [];

/**
 * How long one slice of a yielding cascade runs before the store lets the
 * event loop (DNS queries, other requests) have a turn.
 */
const SLICE_MS = 8;

export const DEFAULT_SERVICE_CIDRS = ['10.96.0.0/16', 'fd00:10:96::/112'] as const;
export const INITIAL_NAMESPACES = ['default', 'kube-system'] as const;

export function objectKey(kind: Kind, namespace: string | undefined, name: string): string {
  return `${kind}/${isNamespaced(kind) ? (namespace ?? 'default') : ''}/${name}`;
}

export function keyOf(object: KubeObject): string {
  return objectKey(object.kind, object.metadata.namespace, object.metadata.name);
}

function describeKey(kind: Kind, namespace: string | undefined, name: string): string {
  return isNamespaced(kind) ? `${kind} "${namespace ?? 'default'}/${name}"` : `${kind} "${name}"`;
}

/** The first address of a range ("10.96.0.0/16" → 10.96.0.0), as text. */
function networkAddress(range: string): string {
  const cidr = parseCidr(range)!;
  const bytes = Buffer.alloc(cidr.family === 4 ? 4 : 16);
  let rest = cidr.base;
  for (let i = bytes.length - 1; i >= 0; i--, rest >>= 8n) bytes[i] = Number(rest & 0xffn);
  return cidr.family === 4 ? bytes.join('.') : formatIPv6(bytes);
}

function serviceNeedsClusterIp(service: Service): boolean {
  const headless = service.spec.clusterIP === 'None' || service.spec.clusterIPs?.[0] === 'None';
  return service.spec.type !== 'ExternalName' && !headless;
}

function hasFinalizers(object: KubeObject): boolean {
  const finalizers = object.metadata.finalizers;
  return Array.isArray(finalizers) && finalizers.length > 0;
}

/** Whether a write changes what metadata.generation counts: the spec (for slices, their content). */
function sameSpec(a: KubeObject, b: KubeObject): boolean {
  if (a.kind === 'EndpointSlice' && b.kind === 'EndpointSlice') {
    return a.addressType === b.addressType && sameJson(a.endpoints, b.endpoints) && sameJson(a.ports, b.ports);
  }
  const spec = (object: KubeObject): unknown => ('spec' in object ? object.spec : undefined) ?? {};
  return sameJson(spec(a), spec(b));
}

/**
 * The stored copy of a written object: shares the input's frozen subtrees;
 * the object, its metadata and its spec are its own, as commit fills them in.
 */
function writableCopy(input: KubeObject, owned: boolean): KubeObject {
  let next = owned ? input : copyJson(input);
  if (Object.isFrozen(next)) next = { ...next };
  if (Object.isFrozen(next.metadata)) next.metadata = { ...next.metadata };
  if ('spec' in next && next.spec && Object.isFrozen(next.spec)) (next as { spec: object }).spec = { ...next.spec };
  return next;
}

/** Lookups the controllers make on every event, kept so none of them scans a whole kind. */
class Indexes {
  /** kind → namespace ('' for cluster-scoped kinds) → name → object; nested so a lookup joins no strings. */
  readonly byNamespace = new Map<string, Map<string, Map<string, KubeObject>>>();

  objectsIn(kind: string, namespace: string): Map<string, KubeObject> | undefined {
    return this.byNamespace.get(kind)?.get(namespace);
  }
  /** kind/namespace → label key → label value → names */
  readonly byLabel = new Map<string, Map<string, Postings<string>>>();
  /** owner uid → object keys */
  readonly byOwner = new Postings<string>();
  /** namespace → selector key → selector value → Service names */
  readonly bySelector = new Map<string, Map<string, Postings<string>>>();

  private static group<K, V>(map: Map<K, V>, key: K, make: () => V): V {
    let inner = map.get(key);
    if (inner === undefined) map.set(key, (inner = make()));
    return inner;
  }

  private static addPairs(index: Map<string, Postings<string>>, pairs: Record<string, string> | undefined, name: string): void {
    if (pairs) for (const key in pairs) Indexes.group(index, key, () => new Postings<string>()).add(pairs[key]!, name);
  }

  private static removePairs(index: Map<string, Postings<string>> | undefined, pairs: Record<string, string> | undefined, name: string): void {
    if (!index || !pairs) return;
    for (const key in pairs) {
      const postings = index.get(key);
      postings?.remove(pairs[key]!, name);
      if (postings?.isEmpty) index.delete(key);
    }
  }

  clear(): void {
    this.byNamespace.clear();
    this.byLabel.clear();
    this.byOwner.clear();
    this.bySelector.clear();
  }

  /** Indexes a new version; `previous` is the version it replaces, if any. */
  put(key: string, object: KubeObject, previous?: KubeObject): void {
    const scope = `${object.kind}/${object.metadata.namespace ?? ''}`;
    const name = object.metadata.name;
    const namespaces = Indexes.group(this.byNamespace, object.kind, () => new Map<string, Map<string, KubeObject>>());
    Indexes.group(namespaces, object.metadata.namespace ?? '', () => new Map<string, KubeObject>()).set(name, object);
    // Versions share unchanged parts, so the same labels are the same object.
    if (previous?.metadata.labels !== object.metadata.labels) {
      Indexes.removePairs(this.byLabel.get(scope), previous?.metadata.labels, name);
      Indexes.addPairs(Indexes.group(this.byLabel, scope, () => new Map()), object.metadata.labels, name);
    }
    if (previous?.metadata.ownerReferences !== object.metadata.ownerReferences) {
      for (const ref of previous?.metadata.ownerReferences ?? []) this.byOwner.remove(ref.uid, key);
      for (const ref of object.metadata.ownerReferences ?? []) this.byOwner.add(ref.uid, key);
    }
    const selector = (o: KubeObject | undefined): Record<string, string> | undefined => (o?.kind === 'Service' ? o.spec.selector : undefined);
    if (selector(previous) !== selector(object)) {
      const namespace = object.metadata.namespace ?? 'default';
      Indexes.removePairs(this.bySelector.get(namespace), selector(previous), name);
      if (selector(object)) Indexes.addPairs(Indexes.group(this.bySelector, namespace, () => new Map()), selector(object), name);
    }
  }

  drop(key: string, object: KubeObject): void {
    const scope = `${object.kind}/${object.metadata.namespace ?? ''}`;
    const name = object.metadata.name;
    this.objectsIn(object.kind, object.metadata.namespace ?? '')?.delete(name);
    Indexes.removePairs(this.byLabel.get(scope), object.metadata.labels, name);
    for (const ref of object.metadata.ownerReferences ?? []) this.byOwner.remove(ref.uid, key);
    if (object.kind === 'Service') Indexes.removePairs(this.bySelector.get(object.metadata.namespace ?? 'default'), object.spec.selector, name);
  }
}

export class ObjectStore {
  private readonly indexes = new Indexes();
  private readonly clusterIps = new Map<string, string>();
  private readonly allocators: AddressAllocator[];
  private readonly listeners = new Set<StoreListener>();
  private readonly undelivered: StoreEvent[][] = [];
  private readonly settledListeners = new Set<() => void>();
  private readonly idleListeners = new Set<() => void>();
  /** A cascade of writes is open: its batches are being delivered, or it waits for its next slice. */
  private delivering = false;
  /** Listeners are being called right now (a write now comes from one of them). */
  private running = false;
  /** >0 while a write that may be applied in slices runs (see yielding()). */
  private yieldDepth = 0;
  /** >0 while a write that must see its whole cascade done runs (see completing()). */
  private completeDepth = 0;
  /** The next slice of a cascade that yielded to the event loop. */
  private resumeHandle: NodeJS.Immediate | undefined;
  private settledWaiters: (() => void)[] = [];
  private cascadeYields = false;
  /** An idle listener split its work and wants another round though it wrote nothing (continueLater()). */
  private roundWanted = false;
  private resourceVersion = 0;
  private readonly onListenerError: (error: unknown) => void;
  private journal: Journal | undefined;
  private readonly admit: ((object: KubeObject) => KubeObject) | undefined;

  constructor(options: StoreOptions = {}) {
    this.onListenerError = options.onListenerError ?? ((error) => console.error('headless-dns: store listener failed:', error));
    this.admit = options.admit;
    const cidrs = (options.serviceCidrs ?? DEFAULT_SERVICE_CIDRS).map((text) => {
      const cidr = parseCidr(text);
      if (!cidr) throw new HeadlessDnsError('INVALID_OPTION', `service CIDR ${text} is not a valid range`);
      return cidr;
    });
    // The first addresses of the range stay free, as in a cluster where
    // kubernetes.default and kube-dns hold them.
    this.allocators = cidrs.map((cidr: Cidr) => new AddressAllocator(cidr, (ip) => this.clusterIps.has(ip), 11n));
    this.commit(INITIAL_NAMESPACES.map((name) => ({ op: 'put', object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name }, status: { phase: 'Active' } } })));
  }

  /** Every later commit is recorded in the journal before it is announced. */
  attachJournal(journal: Journal): void {
    this.journal = journal;
  }

  /**
   * Replaces the whole content with a saved state (a restart with --state):
   * objects keep their uids, resource versions, cluster IPs and pod IPs. Call it
   * before anything subscribes; no events are sent.
   */
  restore(objects: readonly KubeObject[], resourceVersion: number): void {
    this.clusterIps.clear();
    this.indexes.clear();
    for (const object of objects) {
      const key = keyOf(object);
      const stored = freezeJson(copyJson(object));
      this.indexes.put(key, stored);
      if (stored.kind === 'Service') for (const ip of stored.spec.clusterIPs ?? []) if (ip !== 'None') this.clusterIps.set(ip, key);
    }
    this.resourceVersion = Math.max(this.resourceVersion, resourceVersion);
  }

  /** The service range of an address's family that holds it, or undefined with the ranges it is outside of. */
  serviceRangeOf(address: string): { inside: boolean; ranges: string[] } {
    const family = ipFamily(address);
    const ranges = this.allocators.filter((a) => a.family === family);
    return { inside: ranges.some((a) => a.contains(address)), ranges: ranges.map((a) => a.range) };
  }

  /**
   * True while the cascade being delivered or settled may be applied in slices
   * (a write made in yielding()): work that follows it, such as preparing DNS
   * answers, may then be spread over slices too.
   */
  get yieldingCascade(): boolean {
    return this.cascadeYields;
  }

  /** True while committed batches wait to be delivered (an idle listener wrote something). */
  get deliveriesPending(): boolean {
    return this.undelivered.length > 0;
  }

  /** The last resourceVersion handed out. */
  get currentResourceVersion(): string {
    return String(this.resourceVersion);
  }

  get<K extends Kind>(kind: K, namespace: string | undefined, name: string): Extract<KubeObject, { kind: K }> | undefined {
    const scope = isNamespaced(kind) ? (namespace ?? 'default') : '';
    return this.indexes.objectsIn(kind, scope)?.get(name) as Extract<KubeObject, { kind: K }> | undefined;
  }

  list<K extends Kind>(kind: K, namespace?: string): Extract<KubeObject, { kind: K }>[] {
    type Out = Extract<KubeObject, { kind: K }>;
    if (namespace !== undefined || kind === 'Namespace') {
      return [...(this.indexes.objectsIn(kind, kind === 'Namespace' ? '' : (namespace ?? ''))?.values() ?? [])] as Out[];
    }
    const out: Out[] = [];
    for (const objects of this.indexes.byNamespace.get(kind)?.values() ?? []) out.push(...(objects.values() as IterableIterator<Out>));
    return out;
  }

  /** Objects of a kind in a namespace whose labels include every pair given (an equality selector). */
  listByLabels<K extends Kind>(kind: K, namespace: string, selector: Record<string, string>): Extract<KubeObject, { kind: K }>[] {
    const pairs = Object.entries(selector);
    if (pairs.length === 0) return this.list(kind, namespace);
    const scope = `${kind}/${namespace}`;
    const labels = this.indexes.byLabel.get(scope);
    const postings = pairs.map(([k, v]) => ({ key: v, within: labels?.get(k) })).sort((a, b) => (a.within?.size(a.key) ?? 0) - (b.within?.size(b.key) ?? 0));
    const [narrowest, ...others] = postings;
    const objects = this.indexes.objectsIn(kind, namespace);
    const out: Extract<KubeObject, { kind: K }>[] = [];
    for (const name of narrowest!.within?.get(narrowest!.key) ?? []) {
      if (!others.every((p) => p.within?.has(p.key, name))) continue;
      const object = objects?.get(name);
      if (object) out.push(object as Extract<KubeObject, { kind: K }>);
    }
    return out;
  }

  /** Objects with an ownerReference to this uid. */
  listOwnedBy(uid: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const key of this.indexes.byOwner.get(uid)) {
      const object = this.byKey(key);
      if (object) out.push(object);
    }
    return out;
  }

  /** The object stored under an objectKey() ("kind/namespace/name"; names hold no slash). */
  private byKey(key: string): KubeObject | undefined {
    const first = key.indexOf('/');
    const second = key.indexOf('/', first + 1);
    return this.indexes.objectsIn(key.slice(0, first), key.slice(first + 1, second))?.get(key.slice(second + 1));
  }

  /** Services in a namespace whose (non-empty) selector matches these labels. */
  servicesSelecting(namespace: string, labels: Record<string, string>): Service[] {
    const selectors = this.indexes.bySelector.get(namespace);
    if (!selectors) return [];
    const candidates = new Set<string>();
    for (const key in labels) for (const name of selectors.get(key)?.get(labels[key]!) ?? []) candidates.add(name);
    const out: Service[] = [];
    for (const name of candidates) {
      const service = this.get('Service', namespace, name);
      const selector = service?.spec.selector ?? {};
      if (service && Object.entries(selector).every(([k, v]) => labels[k] === v)) out.push(service);
    }
    return out;
  }

  all(): KubeObject[] {
    const out: KubeObject[] = [];
    for (const namespaces of this.indexes.byNamespace.values()) for (const objects of namespaces.values()) for (const object of objects.values()) out.push(object);
    return out;
  }

  namespaceExists(name: string): boolean {
    return this.get('Namespace', undefined, name) !== undefined;
  }

  /**
   * Runs once every cascade of writes has settled (the delivery queue is empty),
   * before the outermost write returns: where work that only the final state
   * needs (preparing DNS answers) is done once instead of once per batch.
   */
  onSettled(listener: () => void): () => void {
    this.settledListeners.add(listener);
    return () => this.settledListeners.delete(listener);
  }

  /**
   * Runs whenever every committed batch of a cascade has been delivered, before
   * the cascade settles. Listeners may write: their writes are delivered, then
   * idle listeners run again, until a round writes nothing. Controllers do
   * their reconciling here, so each object is reconciled once per round
   * however many events touched it.
   */
  onIdle(listener: () => void): () => void {
    this.idleListeners.add(listener);
    return () => this.idleListeners.delete(listener);
  }

  /**
   * Called by an idle listener that did part of its work and left the rest for
   * the next round: the cascade goes on (after a slice's yield, when it may
   * yield) though nothing was written, so a long reconcile is spread over
   * slices and still done before the cascade settles.
   */
  continueLater(): void {
    if (this.running) this.roundWanted = true;
  }

  /** Listeners run synchronously after each committed batch, in subscription order. */
  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Creates or updates every object, or none of them. */
  apply(objects: readonly KubeObject[], mode: 'create' | 'update' | 'apply' = 'apply', owned = false): KubeObject[] {
    const events = this.commit(objects.map((object) => ({ op: 'put', object, mode, owned })));
    return events.map((event) => event.object);
  }

  delete(kind: Kind, namespace: string | undefined, name: string): KubeObject {
    const events = this.commit([{ op: 'delete', kind, namespace, name }]);
    const own = events.find((event) => event.object.kind === kind && event.object.metadata.name === name);
    // An object already being deleted, held by its finalizers, is not changed by another delete.
    return (own ?? events[0])?.object ?? this.get(kind, namespace, name)!;
  }

  /**
   * Checks every change against the store as the earlier changes of the same
   * batch leave it, then commits them all. Throws, changing nothing, if any is invalid.
   */
  commit(changes: readonly StoreChange[]): StoreEvent[] {
    return this.write(changes, false);
  }

  /**
   * A server-side dry run of a batch: every check commit() makes (already
   * exists, not found, conflict, namespace, cluster IPs) and the same
   * defaulting (uid, creationTimestamp, generation), and nothing changes: no
   * resourceVersion is spent, no cluster IP is taken, and no listener, journal
   * or watcher hears of it. Returns the events commit() would announce, each
   * object as it would be stored but, as the API server's dry run answers,
   * with the resourceVersion it has now (none for a new object). A write that
   * would change nothing has no event, as in commit().
   */
  plan(changes: readonly StoreChange[]): StoreEvent[] {
    return this.write(changes, true);
  }

  private write(changes: readonly StoreChange[], dryRun: boolean): StoreEvent[] {
    // key → what the batch does to it (null: delete); `stored` is what the store holds now.
    const planned = new Map<string, { kind: Kind; namespace: string | undefined; name: string; next: KubeObject | null; stored: KubeObject | undefined }>();
    const view = (kind: Kind, namespace: string | undefined, name: string, key = objectKey(kind, namespace, name)): KubeObject | undefined => {
      const overlay = planned.get(key);
      if (overlay) return overlay.next ?? undefined;
      return this.get(kind, namespace, name);
    };
    const plannedIps = new Set<string>();
    /** key → the version a finalizer-removing write left, which its DELETED event shows. */
    const lastVersions = new Map<string, KubeObject>();
    // Most writes of a batch are in one namespace: look it up once, not once per object.
    let checkedNamespace: string | undefined;
    const namespaceIn = (namespace: string): boolean => {
      if (namespace === checkedNamespace) return true;
      const found = view('Namespace', undefined, namespace) !== undefined;
      if (found) checkedNamespace = namespace;
      return found;
    };
    const remember = (key: string, kind: Kind, namespace: string | undefined, name: string, next: KubeObject | null): void => {
      const known = planned.get(key);
      if (known) known.next = next;
      else planned.set(key, { kind, namespace, name, next, stored: this.get(kind, namespace, name) });
    };

    for (const change of changes) {
      if (change.op === 'delete') {
        const key = objectKey(change.kind, change.namespace, change.name);
        if (!view(change.kind, change.namespace, change.name, key)) throw new HeadlessDnsError('NOT_FOUND', `${describeKey(change.kind, change.namespace, change.name)} not found`);
        if (change.kind === 'Namespace') {
          checkedNamespace = undefined;
          if ((INITIAL_NAMESPACES as readonly string[]).includes(change.name)) {
            throw new HeadlessDnsError('INVALID_OBJECT', `namespace "${change.name}" may not be deleted`, [
              { reason: 'FieldValueForbidden', field: 'metadata.name', message: 'this namespace may not be deleted' },
            ]);
          }
          for (const namespaces of this.indexes.byNamespace.values()) {
            for (const object of namespaces.get(change.name)?.values() ?? []) remember(keyOf(object), object.kind, change.name, object.metadata.name, null);
          }
        }
        const held = view(change.kind, change.namespace, change.name, key)!;
        if (change.kind !== 'Namespace' && hasFinalizers(held)) {
          // Finalizers hold the object: deleting it marks it (deletionTimestamp, grace 0), as the
          // API server does; it goes when the last finalizer is removed. A second delete changes nothing.
          if (!held.metadata.deletionTimestamp) {
            remember(key, change.kind, change.namespace, change.name, { ...held, metadata: { ...held.metadata, deletionTimestamp: nowTimestamp(), deletionGracePeriodSeconds: 0 } } as KubeObject);
          }
          continue;
        }
        remember(key, change.kind, change.namespace, change.name, null);
        continue;
      }
      const input = change.object;
      const key = keyOf(input);
      const namespace = input.metadata.namespace ?? 'default';
      if (isNamespaced(input.kind) && !namespaceIn(namespace)) {
        throw new HeadlessDnsError('NAMESPACE_NOT_FOUND', `namespaces "${namespace}" not found`);
      }
      const existing = view(input.kind, namespace, input.metadata.name, key);
      if (existing && change.mode === 'create') {
        throw new HeadlessDnsError('ALREADY_EXISTS', `${describeKey(input.kind, namespace, input.metadata.name)} already exists`);
      }
      if (!existing && change.mode === 'update') {
        throw new HeadlessDnsError('NOT_FOUND', `${describeKey(input.kind, namespace, input.metadata.name)} not found`);
      }
      const wantedVersion = input.metadata.resourceVersion;
      if (existing && wantedVersion && wantedVersion !== existing.metadata.resourceVersion) {
        throw new HeadlessDnsError(
          'CONFLICT',
          `Operation cannot be fulfilled on ${describeKey(input.kind, namespace, input.metadata.name)}: the object has been modified; please apply your changes to the latest version and try again`,
        );
      }
      // What an update may not change (a StatefulSet's claim templates, selector, ...), whoever writes it.
      const refused = existing ? validateUpdate(input, existing) : [];
      if (refused.length > 0) {
        const detail = refused.map((cause) => `${cause.field}: ${cause.message}`).join('; ');
        throw new HeadlessDnsError('INVALID_OBJECT', `${input.kind} "${input.metadata.name}" is invalid: ${detail}`, refused);
      }
      const next = writableCopy(input, change.owned === true);
      if (isNamespaced(next.kind)) next.metadata.namespace = namespace;
      if (existing?.metadata.deletionTimestamp && hasFinalizers(existing) && !hasFinalizers(next)) {
        // The write that removes the last finalizer of an object being deleted deletes it.
        remember(key, next.kind, namespace, next.metadata.name, null);
        lastVersions.set(key, next);
        continue;
      }
      if (next.kind === 'Service') this.planClusterIps(next, existing as Service | undefined, plannedIps, dryRun);
      remember(key, next.kind, namespace, next.metadata.name, !existing && this.admit ? this.admit(next) : next);
    }

    const events: StoreEvent[] = [];
    const now = nowTimestamp();
    for (const [key, plan] of planned) {
      let next = plan.next;
      const previous = plan.stored;
      if (next === null) {
        if (!previous) continue;
        if (dryRun) {
          events.push({ type: 'DELETED', object: previous, previous });
          continue;
        }
        this.indexes.drop(key, previous);
        if (previous.kind === 'Service') this.releaseClusterIps(previous);
        // A deleted object's last resourceVersion is the one that deleted it, as watchers see it.
        const last = lastVersions.get(key) ?? previous;
        const gone = { ...last, metadata: { ...last.metadata, resourceVersion: String(++this.resourceVersion) } } as KubeObject;
        events.push({ type: 'DELETED', object: freezeJson(gone), previous });
        continue;
      }
      next.metadata.uid = previous?.metadata.uid ?? next.metadata.uid ?? newUid();
      next.metadata.creationTimestamp = previous?.metadata.creationTimestamp ?? now;
      const generation = previous?.metadata.generation ?? 0;
      // Marking an object held by finalizers as deleted moves its generation too (markAsDeleting).
      const marked = !!previous && !previous.metadata.deletionTimestamp && !!next.metadata.deletionTimestamp && hasFinalizers(next);
      next.metadata.generation = !previous ? 1 : sameSpec(previous, next) && !marked ? generation : generation + 1;
      if (previous) {
        // A write that changes nothing is no change: same resourceVersion, no event (as the API server does).
        next.metadata.resourceVersion = previous.metadata.resourceVersion;
        if (shareWith(next, previous) === previous) continue;
        if (Object.isFrozen(next.metadata)) next = { ...next, metadata: { ...next.metadata } } as KubeObject;
      }
      if (dryRun) {
        if (!previous) delete next.metadata.resourceVersion;
        events.push({ type: previous ? 'MODIFIED' : 'ADDED', object: freezeJson(next), ...(previous ? { previous } : {}) });
        continue;
      }
      next.metadata.resourceVersion = String(++this.resourceVersion);
      if (previous?.kind === 'Service') this.releaseClusterIps(previous);
      if (next.kind === 'Service') for (const ip of next.spec.clusterIPs ?? []) if (ip !== 'None') this.clusterIps.set(ip, key);
      this.indexes.put(key, freezeJson(next), previous);
      events.push({ type: previous ? 'MODIFIED' : 'ADDED', object: next, ...(previous ? { previous } : {}) });
    }
    if (events.length > 0 && !dryRun) {
      this.journal?.record(events, this.resourceVersion, () => this.all());
      this.deliver(events);
    }
    return events;
  }

  /**
   * Listeners may write (controllers do). Their writes commit at once but are
   * announced after the batch being delivered, so every listener sees every
   * batch in commit order. A plain write returns once the whole cascade is
   * done; a write made inside yielding() may leave the rest of its cascade to
   * later slices, so a large change never holds the event loop (and with it
   * DNS) for more than a slice.
   */
  private deliver(events: StoreEvent[]): void {
    this.undelivered.push(events);
    if (this.running) return;
    if (this.delivering) {
      // A cascade waits for its next slice. Writers join it (a controller's
      // timer, an event flush, another API write); only one that expects its
      // effects on return (the fixture's calls, in completing()) gets the whole
      // cascade now, so nothing else makes a large change block the loop.
      if (this.yieldDepth > 0 || this.completeDepth === 0) return;
      if (this.resumeHandle) clearImmediate(this.resumeHandle);
      this.resumeHandle = undefined;
      this.runCascade(Number.POSITIVE_INFINITY);
      return;
    }
    this.delivering = true;
    this.runCascade(this.yieldDepth > 0 ? performance.now() + SLICE_MS : Number.POSITIVE_INFINITY);
  }

  private runCascade(deadline: number): void {
    this.running = true;
    this.cascadeYields = deadline !== Number.POSITIVE_INFINITY;
    try {
      do {
        // Batches written while delivering are appended; read them in order without shifting the queue.
        for (let next = 0; next < this.undelivered.length; next++) {
          const batch = this.undelivered[next]!;
          // Let delivered events (and the versions they hold) go while the round goes on.
          this.undelivered[next] = DELIVERED;
          this.notify(this.listeners, batch);
        }
        this.undelivered.length = 0;
        this.roundWanted = false;
        this.notify(this.idleListeners, undefined);
        if ((this.undelivered.length > 0 || this.roundWanted) && performance.now() > deadline) {
          this.resumeHandle = setImmediate(() => {
            this.resumeHandle = undefined;
            this.runCascade(performance.now() + SLICE_MS);
          });
          return;
        }
      } while (this.undelivered.length > 0 || this.roundWanted);
    } finally {
      this.running = false;
      this.roundWanted = false;
      if (!this.resumeHandle) this.undelivered.length = 0;
    }
    this.delivering = false;
    this.notify(this.settledListeners, undefined);
    this.cascadeYields = false;
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * Runs a write whose cascade (the controllers' reconciles it causes) may be
   * applied in slices of a few milliseconds, yielding to the event loop between
   * them; await settled() for the end. The API's writes go through here.
   */
  yielding<T>(write: () => T): T {
    this.yieldDepth++;
    try {
      return write();
    } finally {
      this.yieldDepth--;
    }
  }

  /**
   * Runs a write whose whole cascade must be done when it returns, even if an
   * API write's cascade is waiting for its next slice: the fixture's calls.
   */
  completing<T>(write: () => T): T {
    this.completeDepth++;
    try {
      return write();
    } finally {
      this.completeDepth--;
    }
  }

  /** Resolves once no cascade is open (at once when none is). */
  settled(): Promise<void> {
    if (!this.delivering) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  /** Calls every listener; one that throws is reported and must not starve the others. */
  private notify<A>(listeners: Set<(argument: A) => void>, argument: A): void {
    for (const listener of listeners) {
      try {
        listener(argument);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  /**
   * A headless Service's IP families, as the API server's allocator fills
   * them in (initIPFamilyFields): with a selector, as a Service with a cluster
   * IP (SingleStack, the primary family); without one, dual-stack unless told.
   */
  private planHeadlessFamilies(spec: Service['spec']): void {
    const primary = this.allocators[0]?.family === 6 ? 'IPv6' : 'IPv4';
    const given = spec.ipFamilies?.length ? spec.ipFamilies : undefined;
    // A copy: the written object's arrays may be shared with (frozen) input.
    const families = (spec.ipFamilies = [...(given ?? [primary])]);
    const other = families[0] === 'IPv6' ? 'IPv4' : 'IPv6';
    if (Object.keys(spec.selector ?? {}).length === 0) {
      spec.ipFamilyPolicy ??= !given || given.length > 1 ? 'RequireDualStack' : 'SingleStack';
      if (families.length < 2 && spec.ipFamilyPolicy !== 'SingleStack') families.push(other);
      return;
    }
    spec.ipFamilyPolicy ??= families.length > 1 ? 'RequireDualStack' : 'SingleStack';
    const dualCluster = this.allocators.some((a) => a.family !== this.allocators[0]?.family);
    if (families.length < 2 && (spec.ipFamilyPolicy === 'RequireDualStack' || (spec.ipFamilyPolicy === 'PreferDualStack' && dualCluster))) families.push(other);
  }

  private releaseClusterIps(service: Service): void {
    for (const ip of service.spec.clusterIPs ?? []) if (this.clusterIps.get(ip) === keyOf(service)) this.clusterIps.delete(ip);
  }

  /**
   * Fills in or checks spec.clusterIP(s) as the API server's allocator does.
   * A dry run takes no address: like the API server's dry-run allocator
   * (ipallocator/bitmap.go, allocateNext), it answers the range's network
   * address for one to be allocated, and leaves the allocator's cursor alone.
   */
  private planClusterIps(service: Service, existing: Service | undefined, planned: Set<string>, dryRun = false): void {
    const spec = service.spec;
    const key = keyOf(service);
    const field = (message: string, value: unknown): HeadlessDnsError =>
      new HeadlessDnsError('INVALID_OBJECT', `Service "${service.metadata.name}" is invalid: spec.clusterIPs: ${message}`, [
        { reason: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: ${JSON.stringify(value)}: ${message}` },
      ]);
    if (!spec.clusterIPs?.length && spec.clusterIP) spec.clusterIPs = [spec.clusterIP];
    if (!spec.clusterIP && spec.clusterIPs?.length) spec.clusterIP = spec.clusterIPs[0];
    const keepsItsAddress = existing && existing.spec.type !== 'ExternalName' && spec.type !== 'ExternalName';
    const before = existing?.spec.clusterIPs?.[0] ?? existing?.spec.clusterIP;
    if (keepsItsAddress && before) {
      // An update that leaves the cluster IP out keeps it; one that names another is refused.
      if (!spec.clusterIPs?.length) {
        spec.clusterIPs = [...(existing.spec.clusterIPs ?? [before])];
        spec.clusterIP = before;
      } else if (spec.clusterIPs[0] !== before) {
        throw field('may not change once set (field is immutable)', spec.clusterIPs);
      }
    }
    if (!serviceNeedsClusterIp(service)) {
      if (spec.type === 'ExternalName') {
        delete spec.clusterIP;
        delete spec.clusterIPs;
      } else {
        this.planHeadlessFamilies(spec);
      }
      return;
    }
    const previousIps = existing && serviceNeedsClusterIp(existing) ? (existing.spec.clusterIPs ?? []) : [];
    if (!spec.clusterIPs?.length) {
      const families = (spec.ipFamilies ?? []).map((f) => (f === 'IPv6' ? 6 : 4));
      const dual = spec.ipFamilyPolicy === 'RequireDualStack' || spec.ipFamilyPolicy === 'PreferDualStack';
      const wanted: (4 | 6)[] = families.length > 0 ? families : [4];
      if (dual && wanted.length === 1) wanted.push(wanted[0] === 4 ? 6 : 4);
      spec.clusterIPs = wanted.map((family) => {
        const allocator = this.allocators.find((a) => a.family === family);
        if (!allocator) throw field(`no IPv${family} service range is configured`, family);
        if (dryRun) return networkAddress(allocator.range);
        const ip = allocator.allocate(planned);
        planned.add(ip);
        return ip;
      });
    } else {
      for (const ip of spec.clusterIPs) {
        const owner = this.clusterIps.get(ip);
        if ((owner && owner !== key) || (planned.has(ip) && !previousIps.includes(ip))) {
          throw field(`failed to allocate IP ${ip}: provided IP is already allocated`, ip);
        }
        planned.add(ip);
      }
    }
    spec.clusterIP = spec.clusterIPs[0];
    spec.ipFamilies = spec.clusterIPs.map((ip) => (ipFamily(ip) === 6 ? 'IPv6' : 'IPv4'));
    spec.ipFamilyPolicy ??= spec.clusterIPs.length > 1 ? 'RequireDualStack' : 'SingleStack';
  }
}
