// `serve --state FILE`: the store on disk, so a restart serves the same names
// and the same pod IPs. An append-only journal of JSON lines, fsynced inside
// every commit (a write is acknowledged only once it is on disk), compacted by
// writing a snapshot to a temporary file, fsyncing it and renaming it over the
// journal. A torn last line, from a crash in the middle of an append, was never
// acknowledged and is dropped on load; anything else unreadable stops the load.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { HeadlessDnsError } from '../errors.js';
import type { KubeObject } from '../model/types.js';
import type { StoreEvent } from './store.js';

type Line =
  | { t: 'snapshot'; rv: number; objects: readonly KubeObject[] }
  | { t: 'batch'; rv: number; put: KubeObject[]; del: { kind: KubeObject['kind']; namespace?: string; name: string }[] };

export interface LoadedState {
  objects: KubeObject[];
  resourceVersion: number;
}

const COMPACT_AFTER_LINES = 5000;

function fsyncDirectory(path: string): void {
  try {
    const fd = openSync(dirname(path), 'r');
    fsyncSync(fd);
    closeSync(fd);
  } catch {
    // Some file systems do not let a directory be fsynced; the rename is still atomic.
  }
}

export class StateJournal {
  private fd: number | undefined;
  private linesSinceSnapshot = 0;

  private constructor(readonly path: string) {}

  /** Opens (or creates) the state file and reads what it holds. */
  static open(path: string): { journal: StateJournal; state: LoadedState | undefined } {
    const journal = new StateJournal(path);
    const state = existsSync(path) ? journal.read() : undefined;
    journal.fd = openSync(path, 'a');
    return { journal, state };
  }

  private read(): LoadedState {
    const text = readFileSync(this.path, 'utf8');
    const lines = text.split('\n');
    const objects = new Map<string, KubeObject>();
    const key = (kind: string, namespace: string | undefined, name: string): string => `${kind}/${namespace ?? ''}/${name}`;
    let resourceVersion = 0;
    lines.forEach((raw, i) => {
      if (raw === '') return;
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        // Only the last line can be torn by a crash; it was never acknowledged.
        if (i === lines.length - 1 || (i === lines.length - 2 && lines[lines.length - 1] === '')) return;
        throw new HeadlessDnsError('STATE_UNREADABLE', `${this.path}: line ${i + 1} of the state file is not valid JSON; refusing to start from a corrupt state`);
      }
      if (line.t === 'snapshot') {
        objects.clear();
        for (const object of line.objects) objects.set(key(object.kind, object.metadata.namespace, object.metadata.name), object);
        this.linesSinceSnapshot = 0;
      } else {
        for (const object of line.put) objects.set(key(object.kind, object.metadata.namespace, object.metadata.name), object);
        for (const gone of line.del) objects.delete(key(gone.kind, gone.namespace, gone.name));
        this.linesSinceSnapshot++;
      }
      resourceVersion = Math.max(resourceVersion, line.rv);
    });
    return { objects: [...objects.values()], resourceVersion };
  }

  /** Appends one committed batch and waits for the disk. */
  record(events: readonly StoreEvent[], resourceVersion: number, snapshot: () => KubeObject[]): void {
    if (this.fd === undefined) return;
    const line: Line = {
      t: 'batch',
      rv: resourceVersion,
      put: events.filter((e) => e.type !== 'DELETED').map((e) => e.object),
      del: events.filter((e) => e.type === 'DELETED').map((e) => ({ kind: e.object.kind, ...(e.object.metadata.namespace ? { namespace: e.object.metadata.namespace } : {}), name: e.object.metadata.name })),
    };
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
    fsyncSync(this.fd);
    if (++this.linesSinceSnapshot >= COMPACT_AFTER_LINES) this.compact(snapshot(), resourceVersion);
  }

  /** Replaces the journal with one snapshot line: temp file, fsync, rename. */
  compact(objects: readonly KubeObject[], resourceVersion: number): void {
    const temporary = `${this.path}.tmp`;
    const fd = openSync(temporary, 'w');
    writeSync(fd, `${JSON.stringify({ t: 'snapshot', rv: resourceVersion, objects } satisfies Line)}\n`);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temporary, this.path);
    fsyncDirectory(this.path);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = openSync(this.path, 'a');
    this.linesSinceSnapshot = 0;
  }

  close(): void {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }
}
