// The Kubernetes watch protocol: `?watch=true` streams one JSON event per line,
// {"type":"ADDED"|"MODIFIED"|"DELETED"|"ERROR","object":...}. Events after a
// resourceVersion come from a bounded history; an older resourceVersion gets
// a 410 Expired ERROR event, as from the API server's watch cache.

import type { ServerResponse } from 'node:http';
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
  namespace?: string;
  /** Where to start: undefined or 0 lists the current objects as ADDED first. */
  resourceVersion?: number;
  matches: (object: KubeObject) => boolean;
  /** Turns an object into what the client asked for (the object itself, or a Table). */
  render: (object: KubeObject, type: WatchEventType) => unknown;
  timeoutSeconds?: number;
}

interface Stream {
  request: WatchRequest;
  response: ServerResponse;
  timer?: NodeJS.Timeout;
}

const HISTORY = 10_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The last HISTORY events, oldest first; a ring, so that adding one never moves the others. */
class History {
  private readonly entries: (HistoryEntry | undefined)[] = new Array<HistoryEntry | undefined>(HISTORY);
  private start = 0;
  private size = 0;

  push(entry: HistoryEntry): void {
    this.entries[(this.start + this.size) % HISTORY] = entry;
    if (this.size < HISTORY) this.size++;
    else this.start = (this.start + 1) % HISTORY;
  }

  get oldest(): HistoryEntry | undefined {
    return this.size > 0 ? this.entries[this.start] : undefined;
  }

  *[Symbol.iterator](): IterableIterator<HistoryEntry> {
    for (let i = 0; i < this.size; i++) yield this.entries[(this.start + i) % HISTORY]!;
  }
}

export class WatchHub {
  private readonly history = new History();
  private readonly streams = new Set<Stream>();
  private readonly unsubscribe: () => void;

  constructor(private readonly store: ObjectStore) {
    this.unsubscribe = store.subscribe((events) => this.publish(events));
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
    if (object.kind !== request.kind) return;
    if (request.namespace !== undefined && object.metadata.namespace !== request.namespace) return;
    const now = entry.type !== 'DELETED' && request.matches(object);
    const before = entry.type === 'ADDED' ? false : entry.type === 'DELETED' ? request.matches(object) : entry.previous ? request.matches(entry.previous) : now;
    let type: WatchEventType | undefined;
    if (entry.type === 'DELETED') type = before ? 'DELETED' : undefined;
    else if (now && before) type = 'MODIFIED';
    else if (now) type = 'ADDED';
    else if (before) type = 'DELETED';
    if (type) this.write(stream, type, request.render(object, type));
  }

  private end(stream: Stream): void {
    if (stream.timer) clearTimeout(stream.timer);
    this.streams.delete(stream);
    if (!stream.response.writableEnded) stream.response.end();
  }

  /** Starts streaming to a raw response; the caller has set nothing on it yet. */
  open(request: WatchRequest, response: ServerResponse): void {
    response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    // A watch may wait long for its first event; the client needs the headers now.
    response.flushHeaders();
    const stream: Stream = { request, response };
    const since = request.resourceVersion ?? 0;
    if (since === 0) {
      const current = this.store.list(request.kind, request.namespace).filter(request.matches);
      for (const object of current) this.write(stream, 'ADDED', request.render(object, 'ADDED'));
    } else {
      const oldest = this.history.oldest?.resourceVersion;
      const latest = Number(this.store.currentResourceVersion);
      if (since < latest && (oldest === undefined || since < oldest - 1)) {
        const gone = toStatus(new ApiError(410, 'Expired', `too old resource version: ${since} (${oldest ?? latest})`));
        this.write(stream, 'ERROR', gone);
        response.end();
        return;
      }
      for (const entry of this.history) if (entry.resourceVersion > since) this.send(stream, entry);
    }
    this.streams.add(stream);
    response.on('close', () => this.end(stream));
    // setTimeout holds at most 2^31-1 ms (24.8 days) and fires at once above it
    // (TimeoutOverflowWarning); a longer timeout is, for a watch, no timeout.
    if (request.timeoutSeconds && request.timeoutSeconds > 0 && request.timeoutSeconds * 1000 <= MAX_TIMER_MS) {
      stream.timer = setTimeout(() => this.end(stream), request.timeoutSeconds * 1000);
      stream.timer.unref();
    }
  }
}
