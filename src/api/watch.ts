// The Kubernetes watch protocol: `?watch=true` streams one JSON event per line,
// {"type":"ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK"|"ERROR","object":...}. Events
// after a resourceVersion come from a bounded history; an older resourceVersion
// gets a 410 Expired ERROR event, as from the API server's watch cache. The same
// history rewinds the current objects to an earlier resourceVersion, which
// is how a list continues (limit/continue) from the version its first page had.
// Bookmarks follow the cacher (k8s.io/apiserver pkg/storage/cacher): one about
// every minute and one 2 s before the watch's deadline, to watchers that ask
// (allowWatchBookmarks); the initial events of a watch end with one annotated
// k8s.io/initial-events-end when that watch asked for them and for bookmarks.

import type { ServerResponse } from 'node:http';
import type { FieldCause } from '../errors.js';
import { type Clock, type ClockTimer, systemClock } from '../model/clock.js';
import type { Kind, KubeObject } from '../model/types.js';
import type { ObjectStore, StoreEvent } from '../store/store.js';
import { toStatus, ApiError } from './status.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'ERROR' | 'BOOKMARK';

interface HistoryEntry {
  resourceVersion: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  previous?: KubeObject;
}

export interface WatchRequest {
  kind: Kind;
  /** The kind's apiVersion, for the objects of BOOKMARK events. */
  apiVersion?: string;
  namespace?: string;
  /**
   * Where to start: undefined (resourceVersion "") or 0 ("any") is now, a
   * number the events after it (410 Expired past the history).
   */
  resourceVersion?: number;
  /**
   * true: the current objects as ADDED first (for a resourceVersion N, a state
   * at least as new as N); false: only what happens from now on (or after N).
   * undefined, the legacy watch: the current objects first unless a
   * resourceVersion other than 0 is given.
   */
  sendInitialEvents?: boolean;
  allowWatchBookmarks?: boolean;
  matches: (object: KubeObject) => boolean;
  /** Turns an object into what the client asked for (the object itself, or a Table). */
  render: (object: KubeObject, type: WatchEventType) => unknown;
  /** The client's timeout; none (or 0) is the API server's default of 30 to 60 minutes. */
  timeoutSeconds?: number;
}

interface Stream {
  request: WatchRequest;
  response: ServerResponse;
  /** Events at or before this resourceVersion are already in what the stream was sent. */
  after: number;
  timer?: ClockTimer;
  bookmark?: ClockTimer;
  /** When the watch ends (clock ms), if it does. */
  deadline?: number;
}

export interface WatchHubOptions {
  /** The clock deadlines and bookmarks are timed by. Default: the system clock. */
  clock?: Clock;
  /** How often a watcher that allows bookmarks gets one. Default 60 s, as the cacher's bookmarkFrequency. */
  bookmarkIntervalMs?: number;
  /** The API server's --min-request-timeout: a watch without timeoutSeconds ends after 1 to 2 times this. Default 1800 s. */
  minRequestTimeoutSeconds?: number;
}

/** The annotation on the bookmark that closes a watch's initial events (k8s.io/apimachinery metav1.InitialEventsAnnotationKey). */
export const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

const HISTORY = 10_000;

/** The last HISTORY events, oldest first; a ring, so that adding one never moves the others. */
class History {
  private readonly entries: (HistoryEntry | undefined)[] = new Array<HistoryEntry | undefined>(HISTORY);
  private start = 0;
  private size = 0;

  push(entry: HistoryEntry): void {
    this.entries[(this.start + this.size) % HISTORY] = entry;
    if (this.size < HISTORY) this.size++;
    else {
      this.start = (this.start + 1) % HISTORY;
      this.dropped = true;
    }
  }

  get oldest(): HistoryEntry | undefined {
    return this.size > 0 ? this.entries[this.start] : undefined;
  }

  /** Whether an entry was ever pushed out (the history no longer starts where the hub did). */
  get wrapped(): boolean {
    return this.size === HISTORY && this.dropped;
  }

  private dropped = false;

  /** Newest first, down to (not including) resourceVersion `since`. */
  *newestAfter(since: number): IterableIterator<HistoryEntry> {
    for (let i = this.size - 1; i >= 0; i--) {
      const entry = this.entries[(this.start + i) % HISTORY]!;
      if (entry.resourceVersion <= since) return;
      yield entry;
    }
  }

  *[Symbol.iterator](): IterableIterator<HistoryEntry> {
    for (let i = 0; i < this.size; i++) yield this.entries[(this.start + i) % HISTORY]!;
  }
}

export class WatchHub {
  private readonly history = new History();
  private readonly streams = new Set<Stream>();
  private readonly unsubscribe: () => void;
  private readonly clock: Clock;
  private readonly bookmarkIntervalMs: number;
  private readonly minRequestTimeoutSeconds: number;
  /** The resourceVersion the history starts after: what was there before the hub is not in it. */
  private readonly startVersion: number;
  /** The newest resourceVersion delivered to the hub; the store may be ahead while a cascade is being delivered. */
  private delivered: number;

  constructor(
    private readonly store: ObjectStore,
    options: WatchHubOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.bookmarkIntervalMs = options.bookmarkIntervalMs ?? 60_000;
    this.minRequestTimeoutSeconds = options.minRequestTimeoutSeconds ?? 1800;
    this.startVersion = Number(store.currentResourceVersion);
    this.delivered = this.startVersion;
    this.unsubscribe = store.subscribe((events) => this.publish(events));
  }

  /** The oldest resourceVersion whose state the history can still give (a watch from before it is 410 Expired). */
  private get floor(): number {
    return this.history.wrapped ? this.history.oldest!.resourceVersion - 1 : this.startVersion;
  }

  /**
   * The objects of a kind (in a namespace, or all) as they were at a
   * resourceVersion: the current ones with the history's later events undone.
   * 'future' for a version not reached yet; undefined when the history no
   * longer reaches back that far (etcd's compaction, in a cluster), or while
   * writes are committed but not yet delivered to it.
   */
  objectsAt(kind: Kind, namespace: string | undefined, resourceVersion: number): KubeObject[] | 'future' | undefined {
    const current = Number(this.store.currentResourceVersion);
    if (resourceVersion > current) return 'future';
    const objects = this.store.list(kind, namespace) as KubeObject[];
    if (resourceVersion === current) return objects;
    if (this.delivered !== current || resourceVersion < this.floor) return undefined;
    const key = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const byKey = new Map(objects.map((o) => [key(o), o]));
    for (const entry of this.history.newestAfter(resourceVersion)) {
      const object = entry.object;
      if (object.kind !== kind || (namespace !== undefined && object.metadata.namespace !== namespace)) continue;
      if (entry.type === 'ADDED') byKey.delete(key(object));
      else if (entry.previous) byKey.set(key(object), entry.previous);
    }
    return [...byKey.values()];
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** Ends every stream cleanly (the server is shutting down); resolves once they are flushed. */
  close(): Promise<void> {
    this.unsubscribe();
    const finished = [...this.streams].map(
      (stream) =>
        new Promise<void>((resolve) => {
          if (stream.response.writableFinished || stream.response.destroyed) return resolve();
          stream.response.once('finish', () => resolve());
          stream.response.once('close', () => resolve());
          this.end(stream);
        }),
    );
    return Promise.all(finished).then(() => undefined);
  }

  private publish(events: readonly StoreEvent[]): void {
    for (const event of events) {
      const entry: HistoryEntry = {
        resourceVersion: Number(event.object.metadata.resourceVersion),
        type: event.type,
        object: event.object,
        ...(event.previous ? { previous: event.previous } : {}),
      };
      this.history.push(entry);
      this.delivered = Math.max(this.delivered, entry.resourceVersion);
      for (const stream of this.streams) this.send(stream, entry);
    }
  }

  private write(stream: Stream, type: WatchEventType, object: unknown): void {
    stream.response.write(`${JSON.stringify({ type, object })}\n`);
  }

  /** Sends an event as this watcher sees it: objects leaving its selector are DELETED for it. */
  private send(stream: Stream, entry: HistoryEntry): void {
    const { request } = stream;
    const object = entry.object;
    if (entry.resourceVersion <= stream.after) return;
    if (object.kind !== request.kind) return;
    if (request.namespace !== undefined && object.metadata.namespace !== request.namespace) return;
    const now = entry.type !== 'DELETED' && request.matches(object);
    const before = entry.type === 'ADDED' ? false : entry.type === 'DELETED' ? request.matches(object) : entry.previous ? request.matches(entry.previous) : now;
    let type: WatchEventType | undefined;
    if (entry.type === 'DELETED') type = before ? 'DELETED' : undefined;
    else if (now && before) type = 'MODIFIED';
    else if (now) type = 'ADDED';
    else if (before) type = 'DELETED';
    if (!type) return;
    // An object that leaves the selector is DELETED as the watcher last saw it,
    // at the event's resourceVersion (cacheWatcher.convertToWatchEvent).
    const shown = type === 'DELETED' && entry.type === 'MODIFIED' && entry.previous
      ? ({ ...entry.previous, metadata: { ...entry.previous.metadata, resourceVersion: object.metadata.resourceVersion } } as KubeObject)
      : object;
    this.write(stream, type, request.render(shown, type));
  }

  /** A BOOKMARK: an empty object of the watched kind carrying only a resourceVersion (and the initial-events-end annotation). */
  private writeBookmark(stream: Stream, resourceVersion: number, initialEventsEnd: boolean): void {
    const { request } = stream;
    const metadata = {
      resourceVersion: String(resourceVersion),
      creationTimestamp: null,
      ...(initialEventsEnd ? { annotations: { [INITIAL_EVENTS_END]: 'true' } } : {}),
    };
    this.write(stream, 'BOOKMARK', { kind: request.kind, apiVersion: request.apiVersion ?? 'v1', metadata });
  }

  /** cacheWatcher.nextBookmarkTime: every bookmarkInterval, and last 2 s before the deadline; none once that is past. */
  private scheduleBookmark(stream: Stream): void {
    const now = this.clock.now();
    let at = now + this.bookmarkIntervalMs;
    if (stream.deadline !== undefined && stream.deadline - 2000 < at) at = stream.deadline - 2000;
    // The pre-deadline bookmark is the last (in Go its time is just past by the time it is asked again).
    if (at <= now) return;
    stream.bookmark = this.clock.setTimeout(() => {
      if (!this.streams.has(stream)) return;
      // The newest version delivered, never one whose events the watcher has not had.
      this.writeBookmark(stream, Math.max(this.delivered, stream.after), false);
      this.scheduleBookmark(stream);
    }, at - now);
  }

  private end(stream: Stream): void {
    stream.timer?.cancel();
    stream.bookmark?.cancel();
    this.streams.delete(stream);
    if (!stream.response.writableEnded) stream.response.end();
  }

  /** Starts streaming to a raw response; the caller has set nothing on it yet. */
  open(request: WatchRequest, response: ServerResponse): void {
    response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    // A watch may wait long for its first event; the client needs the headers now.
    response.flushHeaders();
    const current = Number(this.store.currentResourceVersion);
    const stream: Stream = { request, response, after: current };
    const since = request.resourceVersion ?? 0;
    const initial = request.sendInitialEvents ?? since === 0;
    const fail = (status: ReturnType<typeof toStatus>): void => {
      this.write(stream, 'ERROR', status);
      response.end();
    };
    if (initial) {
      if (since > current) {
        // The cacher waits (3 s) for a version it has not reached, then gives up with this.
        return fail(toStatus(tooLargeResourceVersion(since, current)));
      }
      // The store is the truth at `current`; events up to it (perhaps not yet
      // delivered here, while a cascade runs) are in this state already.
      const objects = this.store.list(request.kind, request.namespace).filter(request.matches);
      for (const object of objects) this.write(stream, 'ADDED', request.render(object, 'ADDED'));
      if (request.sendInitialEvents === true && request.allowWatchBookmarks) this.writeBookmark(stream, current, true);
    } else if (since > 0) {
      if (since < current && since < this.floor) {
        return fail(toStatus(new ApiError(410, 'Expired', `too old resource version: ${since} (${this.floor})`)));
      }
      stream.after = since;
      for (const entry of this.history) if (entry.resourceVersion > since) this.send(stream, entry);
    } else {
      // Only what happens from now; "now" is what was delivered, so nothing committed before is sent.
      stream.after = current;
    }
    this.streams.add(stream);
    response.on('close', () => this.end(stream));
    // As the API server: a watch without a timeout gets one of 1 to 2 times
    // --min-request-timeout (so clients re-watch and spread out). A timeout
    // past what a timer holds (2^31-1 ms, 24.8 days) is, for a watch, none.
    const seconds = request.timeoutSeconds && request.timeoutSeconds > 0 ? request.timeoutSeconds : this.minRequestTimeoutSeconds * (1 + Math.random());
    if (seconds * 1000 <= 2 ** 31 - 1) {
      stream.deadline = this.clock.now() + seconds * 1000;
      stream.timer = this.clock.setTimeout(() => this.end(stream), seconds * 1000);
    }
    if (request.allowWatchBookmarks) this.scheduleBookmark(stream);
  }
}

/** storage.NewTooLargeResourceVersionError: 504 Timeout, retry after a second. */
export function tooLargeResourceVersion(wanted: number, current: number): ApiError {
  return new ApiError(504, 'Timeout', `Too large resource version: ${wanted}, current: ${current}`, {
    // Go's StatusCause leaves an empty field out; the cause type is what clients test (storage.IsTooLargeResourceVersion).
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' } as FieldCause],
    retryAfterSeconds: 1,
  });
}
