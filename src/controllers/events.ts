// The event recorder every controller calls (client-go's record.EventRecorder):
// `record(object, 'Normal', 'SuccessfulCreate', 'create Pod kubia-0 in StatefulSet kubia successful', 'statefulset-controller')`.
//
// StoredEventRecorder writes core/v1 Event objects through the store, as
// client-go's tools/record does through the API server:
//  - names `<involved name>.<hex of a nanosecond timestamp>` (event.go makeEvent);
//  - the EventCorrelator of events_cache.go: a repeat (same source, object,
//    type, reason, message) folds into the Event it repeats (count,
//    lastTimestamp); more than 10 distinct messages for one (source, object,
//    type, reason) in 10 minutes fold into one "(combined from similar
//    events): ..." Event; a token bucket (25, then one per 5 minutes) per
//    (source, object, type) drops the rest;
//  - the API server's --event-ttl (1 h): an Event goes an hour after its last write;
//  - and a bound of our own (1000 per namespace; Kubernetes has none, etcd's
//    size is its limit): past it the least recently written go.
// Events never hold up the write that caused them and never wake a
// controller: they are queued and written once per cascade round, after the
// controllers' reconciles (the manager ignores the kind; so does DNS).

import type { Clock, ClockTimer } from '../model/clock.js';
import { systemClock } from '../model/clock.js';
import type { KubeEvent, KubeObject, ObjectReference } from '../model/types.js';
import { isNamespaced } from '../model/types.js';
import { rfc3339At } from '../model/timestamp.js';
import type { ObjectStore, StoreChange, StoreEvent } from '../store/store.js';

export type EventType = 'Normal' | 'Warning';

/** core/v1 EventSource: who reports it (`kubelet` with the node as host, `statefulset-controller`). */
export interface EventSource {
  component: string;
  host?: string;
}

export interface RecordedEvent {
  involved: { kind: string; namespace?: string; name: string; uid?: string; apiVersion: string; resourceVersion?: string; fieldPath?: string };
  type: EventType;
  reason: string;
  message: string;
  /** The component that reports it, as `source.component`: `statefulset-controller`, `kubelet`, ... */
  component: string;
  host?: string;
}

export interface EventRecorder {
  /**
   * Records an event about `object`. `source` is the reporting component, or
   * the component and its host (the kubelet reports its node). `fieldPath`
   * names a part of the object (`spec.containers{kubia}`).
   */
  record(object: KubeObject, type: EventType, reason: string, message: string, source: string | EventSource, fieldPath?: string): void;
}

/** reference.GetReference: what an Event's involvedObject says about the object. */
export function referenceTo(object: KubeObject, fieldPath?: string): RecordedEvent['involved'] {
  const { kind, metadata } = object;
  // Built field by field, in the API's order: a large scale makes tens of thousands.
  const out = { kind } as RecordedEvent['involved'];
  if (isNamespaced(kind)) out.namespace = metadata.namespace ?? 'default';
  out.name = metadata.name;
  if (metadata.uid !== undefined) out.uid = metadata.uid;
  out.apiVersion = object.apiVersion;
  if (metadata.resourceVersion !== undefined) out.resourceVersion = metadata.resourceVersion;
  if (fieldPath !== undefined) out.fieldPath = fieldPath;
  return out;
}

const sourceOf = (source: string | EventSource): EventSource => (typeof source === 'string' ? { component: source } : source);

/** Keeps the last events in memory: for tests of a controller's events, without a store. */
export class MemoryEventRecorder implements EventRecorder {
  readonly events: RecordedEvent[] = [];

  constructor(private readonly limit = 1000) {}

  record(object: KubeObject, type: EventType, reason: string, message: string, source: string | EventSource, fieldPath?: string): void {
    const { component, host } = sourceOf(source);
    this.events.push({ involved: referenceTo(object, fieldPath), type, reason, message, component, ...(host ? { host } : {}) });
    if (this.events.length > this.limit) this.events.splice(0, this.events.length - this.limit);
  }
}

/** metav1.Time: RFC 3339 in whole seconds. */
export function eventTimestamp(ms: number): string {
  return rfc3339At(ms);
}

/**
 * A map that forgets what was least recently used once it holds `size`
 * entries (k8s.io/utils/lru, as the correlator's caches), in two generations:
 * when the young one is full it becomes the old one and the old one goes. A
 * read of an old entry brings it back. Between `size` and twice that are kept;
 * nothing is deleted one by one (a Map drained from the front makes every
 * later iteration skip the holes).
 */
class Lru<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();
  constructor(private readonly size: number) {}
  get(key: string): V | undefined {
    const value = this.young.get(key);
    if (value !== undefined) return value;
    const aged = this.old.get(key);
    if (aged !== undefined) this.set(key, aged);
    return aged;
  }
  set(key: string, value: V): void {
    if (!this.young.has(key) && this.young.size >= this.size) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }
}

const LRU_ENTRIES = 4096;
const AGGREGATE_MAX_EVENTS = 10;
const AGGREGATE_INTERVAL_MS = 600_000;
const SPAM_BURST = 25;
const SPAM_QPS = 1 / 300;

interface Observed {
  count: number;
  firstTimestamp: string;
  name: string;
}

/**
 * events_cache.go's EventCorrelator, on core/v1 Events: aggregate, observe
 * (fold repeats), then filter spam. Pure apart from the clock it reads.
 */
export class EventCorrelator {
  private readonly aggregates = new Lru<{ messages: Set<string>; last: number }>(LRU_ENTRIES);
  private readonly observed = new Lru<Observed>(LRU_ENTRIES);
  private readonly buckets = new Lru<{ tokens: number; at: number }>(LRU_ENTRIES);

  constructor(private readonly clock: Clock, private readonly nameOf: (involvedName: string) => string) {}

  /** The Event to write (a new one, or the one it folds into, with the new count), or undefined if dropped as spam. */
  correlate(event: KubeEvent): KubeEvent | undefined {
    const now = this.clock.now();
    const ref = event.involvedObject;
    const src = event.source ?? {};
    // The keys name the object as client-go's do (kind, namespace, name, uid,
    // apiVersion); a uid already tells one object from every other, so it stands for namespace and name.
    const object = ref.uid ? `${ref.uid}\u0000${ref.kind ?? ''}\u0000${String(ref.apiVersion ?? '')}` : `\u0000${ref.kind ?? ''}\u0000${ref.namespace ?? ''}\u0000${ref.name ?? ''}\u0000${String(ref.apiVersion ?? '')}`;
    const source = `${src.component ?? ''}\u0001${src.host ?? ''}\u0001${object}\u0001${event.type ?? ''}`;
    // EventAggregatorByReasonFunc: everything but the message (and fieldPath).
    const aggregateKey = `${source}\u0001${event.reason ?? ''}\u0001${event.reportingComponent ?? ''}\u0001${event.reportingInstance ?? ''}`;
    let record = this.aggregates.get(aggregateKey);
    if (!record || now - record.last > AGGREGATE_INTERVAL_MS) record = { messages: new Set(), last: now };
    record.messages.add(event.message ?? '');
    record.last = now;
    this.aggregates.set(aggregateKey, record);
    // getEventKey: everything, fieldPath and message included.
    let key = `${aggregateKey}\u0002${String(ref.fieldPath ?? '')}\u0002${event.message ?? ''}`;
    let next = event;
    if (record.messages.size >= AGGREGATE_MAX_EVENTS) {
      // Do not grow the set past the threshold (sets.PopAny).
      record.messages.delete(record.messages.values().next().value!);
      const at = eventTimestamp(now);
      next = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: this.nameOf(String(ref.name ?? '')), namespace: event.metadata.namespace! },
        involvedObject: ref,
        reason: event.reason!,
        message: `(combined from similar events): ${event.message ?? ''}`,
        source: event.source ?? {},
        firstTimestamp: at,
        lastTimestamp: at,
        count: 1,
        type: event.type!,
        eventTime: null,
        // The aggregate copies no reporting fields (EventAggregate's eventCopy); they serialize empty.
        reportingComponent: '',
        reportingInstance: '',
      };
      key = aggregateKey;
    }
    // eventLogger.eventObserve: a repeat takes the name, first timestamp and count of the one it repeats.
    const last = this.observed.get(key);
    if (last) next = { ...next, metadata: { ...next.metadata, name: last.name }, firstTimestamp: last.firstTimestamp, count: last.count + 1 };
    this.observed.set(key, { count: next.count ?? 1, firstTimestamp: next.firstTimestamp ?? eventTimestamp(now), name: next.metadata.name });
    // EventSourceObjectSpamFilter: a token bucket per source, object and type (getSpamKey).
    const spamKey = source;
    let bucket = this.buckets.get(spamKey);
    if (!bucket) bucket = { tokens: SPAM_BURST, at: now };
    bucket.tokens = Math.min(SPAM_BURST, bucket.tokens + ((now - bucket.at) / 1000) * SPAM_QPS);
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.buckets.set(spamKey, bucket);
    return allowed ? next : undefined;
  }
}

export interface StoredEventRecorderOptions {
  clock?: Clock;
  /** How long an Event lives after its last write; the API server's --event-ttl. Default 3600. */
  ttlSeconds?: number;
  /** At most this many Events per namespace; past it the least recently written go. Default 1000. */
  maxPerNamespace?: number;
  /** Told about a batch of events that could not be written (they are dropped, as client-go drops them). */
  onError?: (error: unknown) => void;
}

/** DNS-1123 subdomain length: an Event named past it is refused by the API server, and client-go drops it. */
const MAX_NAME = 253;

/** Records Events through the store; see the top of this file. */
export class StoredEventRecorder implements EventRecorder {
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly maxPerNamespace: number;
  private readonly onError: (error: unknown) => void;
  private readonly correlator: EventCorrelator;
  /** Written at the next flush, by namespace/name (a repeat in the same round replaces the first). */
  private pending = new Map<string, KubeEvent>();
  /** Every stored Event by namespace, least recently written first, with when it expires. */
  private readonly byNamespace = new Map<string, Map<string, number>>();
  private expiry: { at: number; timer: ClockTimer } | undefined;
  private soon: NodeJS.Immediate | undefined;
  private lastNanos = 0n;
  private readonly unsubscribe: () => void;
  private readonly unsubscribeIdle: () => void;
  private closed = false;

  constructor(
    private readonly store: ObjectStore,
    options: StoredEventRecorderOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.ttlMs = (options.ttlSeconds ?? 3600) * 1000;
    this.maxPerNamespace = options.maxPerNamespace ?? 1000;
    this.onError = options.onError ?? ((error) => console.error('headless-dns: events:', error));
    this.correlator = new EventCorrelator(this.clock, (name) => this.nameFor(name));
    // Events already there (a restart with --state) expire an hour after their last write.
    const known = store.list('Event').map((event) => ({ event, at: Date.parse(event.lastTimestamp ?? event.eventTime ?? event.metadata.creationTimestamp ?? '') || this.clock.now() }));
    for (const { event, at } of known.sort((a, b) => a.at - b.at)) this.track(event.metadata.namespace ?? 'default', event.metadata.name, at + this.ttlMs);
    this.unsubscribe = store.subscribe((events) => this.onStoreEvents(events));
    this.unsubscribeIdle = store.onIdle(() => this.flush());
    this.scheduleExpiry();
  }

  /** `<name>.<hex nanoseconds>`, unique: a later event never gets an earlier or equal suffix. */
  private nameFor(involvedName: string): string {
    let nanos = BigInt(this.clock.now()) * 1_000_000n;
    if (nanos <= this.lastNanos) nanos = this.lastNanos + 1n;
    this.lastNanos = nanos;
    return `${involvedName}.${nanos.toString(16)}`;
  }

  record(object: KubeObject, type: EventType, reason: string, message: string, source: string | EventSource, fieldPath?: string): void {
    if (this.closed) return;
    const { component, host } = sourceOf(source);
    const ref: ObjectReference = referenceTo(object, fieldPath);
    const at = eventTimestamp(this.clock.now());
    const made: KubeEvent = {
      apiVersion: 'v1',
      kind: 'Event',
      // Events about cluster-scoped objects (nodes, volumes) go in default, as makeEvent puts them.
      metadata: { name: this.nameFor(object.metadata.name), namespace: ref.namespace ?? 'default' },
      involvedObject: ref,
      reason,
      message,
      source: host ? { component, host } : { component },
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: component,
      reportingInstance: host ?? '',
    };
    const event = this.correlator.correlate(made);
    if (!event || event.metadata.name.length > MAX_NAME) return;
    if (event.count && event.count > 1) {
      // A fold keeps what the stored Event says but the count, the last time and the message (recordToSink's patch).
      const stored = this.pending.get(`${event.metadata.namespace}/${event.metadata.name}`) ?? this.store.get('Event', event.metadata.namespace, event.metadata.name);
      if (stored) {
        const { metadata: _m, ...rest } = stored;
        void _m;
        this.queue({ ...rest, metadata: { name: stored.metadata.name, namespace: stored.metadata.namespace! }, count: event.count, lastTimestamp: event.lastTimestamp!, message: event.message! });
        return;
      }
    }
    this.queue(event);
  }

  private queue(event: KubeEvent): void {
    this.pending.set(`${event.metadata.namespace}/${event.metadata.name}`, event);
    // Written at the end of the current cascade round; one recorded outside any cascade gets one of its own.
    this.soon ??= setImmediate(() => {
      this.soon = undefined;
      this.flush();
    });
  }

  /** Writes what is pending in one store write, dropping the least recently written past the bound. */
  flush(): void {
    if (this.soon) clearImmediate(this.soon);
    this.soon = undefined;
    if (this.pending.size === 0 || this.closed) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    const changes: StoreChange[] = [];
    const added = new Map<string, KubeEvent[]>();
    const namespaces = new Map<string, boolean>();
    for (const event of batch) {
      const namespace = event.metadata.namespace!;
      let exists = namespaces.get(namespace);
      if (exists === undefined) namespaces.set(namespace, (exists = this.store.get('Namespace', undefined, namespace) !== undefined));
      // The namespace is gone (or going): the API server would refuse the Event.
      if (!exists) continue;
      const list = added.get(namespace) ?? [];
      list.push(event);
      added.set(namespace, list);
    }
    for (const [namespace, events] of added) {
      const stored = this.byNamespace.get(namespace);
      const fresh = events.filter((e) => !stored?.has(e.metadata.name));
      let over = (stored?.size ?? 0) + fresh.length - this.maxPerNamespace;
      // The batch alone is past the bound: its oldest new ones are never written.
      const skip = new Set<KubeEvent>();
      for (let i = 0; over > 0 && fresh.length - i > this.maxPerNamespace; i++, over--) skip.add(fresh[i]!);
      const updating = new Set(events.filter((e) => !skip.has(e)).map((e) => e.metadata.name));
      if (over > 0 && stored) {
        for (const name of stored.keys()) {
          if (over <= 0) break;
          if (updating.has(name) || !this.store.get('Event', namespace, name)) continue;
          changes.push({ op: 'delete', kind: 'Event', namespace, name });
          over--;
        }
      }
      for (const event of events) if (!skip.has(event)) changes.push({ op: 'put', object: event, owned: true });
    }
    if (changes.length === 0) return;
    try {
      // Inside a cascade this joins its round; outside one, it may be applied in slices like an API write.
      this.store.yielding(() => this.store.commit(changes));
    } catch (error) {
      this.onError(error);
    }
  }

  /** Keeps the bookkeeping of stored Events, whoever wrote them (kubectl may create or delete some too). */
  private onStoreEvents(events: readonly StoreEvent[]): void {
    let added = false;
    for (const { type, object } of events) {
      if (object.kind !== 'Event') continue;
      const namespace = object.metadata.namespace ?? 'default';
      if (type === 'DELETED') {
        const names = this.byNamespace.get(namespace);
        names?.delete(object.metadata.name);
        if (names?.size === 0) this.byNamespace.delete(namespace);
      } else {
        this.track(namespace, object.metadata.name, this.clock.now() + this.ttlMs);
        added = true;
      }
    }
    if (added && !this.expiry) this.scheduleExpiry();
  }

  private track(namespace: string, name: string, expires: number): void {
    let names = this.byNamespace.get(namespace);
    if (!names) this.byNamespace.set(namespace, (names = new Map()));
    names.delete(name);
    names.set(name, expires);
  }

  private scheduleExpiry(): void {
    if (this.closed) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const names of this.byNamespace.values()) {
      const first = names.values().next();
      if (!first.done && first.value < earliest) earliest = first.value;
    }
    if (this.expiry && this.expiry.at <= earliest) return;
    this.expiry?.timer.cancel();
    this.expiry = undefined;
    if (earliest === Number.POSITIVE_INFINITY) return;
    const timer = this.clock.setTimeout(() => {
      this.expiry = undefined;
      this.expire();
    }, earliest - this.clock.now());
    this.expiry = { at: earliest, timer };
  }

  /** Deletes every Event whose time is up, in one write. */
  private expire(): void {
    const now = this.clock.now();
    const changes: StoreChange[] = [];
    for (const [namespace, names] of this.byNamespace) {
      for (const [name, expires] of names) {
        // Least recently written first: the rest expire later.
        if (expires > now) break;
        if (this.store.get('Event', namespace, name)) changes.push({ op: 'delete', kind: 'Event', namespace, name });
        else names.delete(name);
      }
    }
    if (changes.length) {
      try {
        this.store.yielding(() => this.store.commit(changes));
      } catch (error) {
        this.onError(error);
      }
    }
    this.scheduleExpiry();
  }

  /** Events stored now in a namespace (for tests and metrics). */
  countIn(namespace: string): number {
    return this.byNamespace.get(namespace)?.size ?? 0;
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    this.unsubscribeIdle();
    if (this.soon) clearImmediate(this.soon);
    this.soon = undefined;
    this.expiry?.timer.cancel();
    this.expiry = undefined;
    this.pending.clear();
  }
}
