// `serve --state FILE`: the store on disk, so a restart serves the same names
// and the same pod IPs. An append-only journal of JSON lines, fsynced inside
// every commit (a write is acknowledged only once it is on disk), compacted by
// writing a snapshot to a temporary file, fsyncing it and renaming it over the
// journal.
//
// Every line is one record in an envelope, `{"n":SEQ,"r":RECORD,"crc":"CRC32"}`:
// the CRC-32 covers the line up to `,"crc"` (sequence number and record), and the
// sequence numbers count up by one from the snapshot on line 1. So a damaged line
// fails its checksum and a lost stretch of lines leaves a gap in the numbers,
// while a line is still one `JSON.parse` away (the envelope is JSON too).
//
// What may be dropped on load: only a torn LAST line, from a crash in the middle
// of an append — that write was never acknowledged. The snapshot on line 1 was
// written whole and renamed into place, so it is never torn; any other damage
// (a bad line before the last, a gap, a snapshot cut short, a record of the wrong
// shape, an object that fails validation) stops the load with STATE_UNREADABLE
// naming the file and the line, and leaves the file as it is.
//
// What the file alone cannot show: the loss of whole lines at its END (a cut at a
// line boundary) looks exactly like a crash before those writes; a cut inside the
// last line is reported as a torn line, with its sequence number, in a note.

import * as zlib from 'node:zlib';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { HeadlessDnsError } from '../errors.js';
import { type KubeObject, isNamespaced } from '../model/types.js';
import { isKnownKind, validateObject } from '../model/validate.js';
import { INITIAL_NAMESPACES, type StoreEvent } from './store.js';

type Deleted = { kind: KubeObject['kind']; namespace?: string; name: string };
type Line =
  | { t: 'snapshot'; rv: number; objects: readonly KubeObject[] }
  | { t: 'batch'; rv: number; put: KubeObject[]; del: Deleted[] };

export interface LoadedState {
  objects: KubeObject[];
  resourceVersion: number;
}

export interface OpenedState {
  journal: StateJournal;
  /** Undefined for a missing or empty file: start as on a first start. */
  state: LoadedState | undefined;
  /** What the load wants an operator to know (a dropped torn line, an old format, an empty file). */
  notes: string[];
}

const COMPACT_AFTER_LINES = 5000;

// zlib.crc32 arrived in Node 20.15; older Node 20 gets the same CRC-32 (the zlib
// polynomial) from a table, so a file written by one reads on the other.
const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();
const nativeCrc32 = (zlib as { crc32?: (data: string) => number }).crc32;
function crc32(text: string): number {
  if (nativeCrc32) return nativeCrc32(text);
  let c = -1;
  for (const byte of Buffer.from(text, 'utf8')) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
const hex8 = (value: number): string => value.toString(16).padStart(8, '0');

/** One record as a journal line, newline included. */
function encodeLine(seq: number, record: Line): string {
  const body = `{"n":${seq},"r":${JSON.stringify(record)}`;
  return `${body},"crc":"${hex8(crc32(body))}"}\n`;
}

const CRC_TAIL = /,"crc":"([0-9a-f]{8})"\}$/;
const CRC_TAIL_LENGTH = ',"crc":"00000000"}'.length;
const SEQ_PREFIX = /^\{"n":(\d+),/;

// `tearable`: damage a crash inside an append can leave (a cut, unwritten blocks,
// pages half on disk). A whole JSON line without a checksum, or one whose checksum
// holds, was written that way on purpose: never dropped, even as the last line.
type Decoded = { ok: true; seq: number | undefined; record: unknown } | { ok: false; problem: string; tearable: boolean };

/** Envelope of the current format: checksum first, then JSON. */
function decodeLine(raw: string): Decoded {
  if (raw.includes('\u0000')) return { ok: false, problem: 'holds NUL bytes (a block the file system never wrote)', tearable: true };
  const tail = CRC_TAIL.exec(raw);
  if (!tail) {
    try {
      JSON.parse(raw);
    } catch {
      return { ok: false, problem: 'is not valid JSON', tearable: true };
    }
    return { ok: false, problem: 'has no checksum (not a record of this format)', tearable: false };
  }
  if (hex8(crc32(raw.slice(0, raw.length - CRC_TAIL_LENGTH))) !== tail[1]) return { ok: false, problem: 'fails its checksum (the line was changed or damaged)', tearable: true };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { ok: false, problem: 'is not valid JSON', tearable: false };
  }
  const seq = (parsed as { n?: unknown }).n;
  if (!Number.isSafeInteger(seq) || (seq as number) < 0) return { ok: false, problem: 'has no valid sequence number', tearable: false };
  return { ok: true, seq: seq as number, record: (parsed as { r?: unknown }).r };
}

/** A line of the format before sequence numbers and checksums: bare JSON. */
function decodeLegacyLine(raw: string): Decoded {
  if (raw.includes('\u0000')) return { ok: false, problem: 'holds NUL bytes (a block the file system never wrote)', tearable: true };
  try {
    return { ok: true, seq: undefined, record: JSON.parse(raw) };
  } catch {
    return { ok: false, problem: 'is not valid JSON', tearable: true };
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isResourceVersion = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/** Enough shape to key an object; validateObject checks the rest once the replay is done. */
function objectShapeProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) return 'is not an object';
  if (!isKnownKind(value.kind)) return `has kind ${JSON.stringify(value.kind) ?? 'undefined'}, not one headless-dns keeps`;
  const meta = value.metadata;
  if (!isPlainObject(meta) || typeof meta.name !== 'string' || meta.name === '') return 'has no metadata.name';
  if (meta.namespace !== undefined && typeof meta.namespace !== 'string') return 'has a metadata.namespace that is not a string';
  return undefined;
}

/** The record's shape, or what is wrong with it. */
function recordProblem(record: unknown): string | undefined {
  if (!isPlainObject(record)) return 'is not a record object';
  if (record.t !== 'snapshot' && record.t !== 'batch') return `has record type ${JSON.stringify(record.t) ?? 'undefined'} (want "snapshot" or "batch")`;
  if (!isResourceVersion(record.rv)) return 'has no valid rv';
  const field = record.t === 'snapshot' ? 'objects' : 'put';
  const objects = record[field];
  if (!Array.isArray(objects)) return `has no "${field}" list`;
  for (const [i, object] of (objects as unknown[]).entries()) {
    const problem = objectShapeProblem(object);
    if (problem) return `has ${field}[${i}] that ${problem}`;
  }
  if (record.t === 'batch') {
    if (!Array.isArray(record.del)) return 'has no "del" list';
    for (const [i, gone] of (record.del as unknown[]).entries()) {
      if (!isPlainObject(gone) || !isKnownKind(gone.kind) || typeof gone.name !== 'string' || (gone.namespace !== undefined && typeof gone.namespace !== 'string')) {
        return `has del[${i}] that is not {kind, namespace?, name}`;
      }
    }
  }
  return undefined;
}

function describeObject(object: KubeObject): string {
  const namespace = object.metadata.namespace;
  return `${object.kind} "${namespace && isNamespaced(object.kind) ? `${namespace}/` : ''}${object.metadata.name}"`;
}

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
  /** The sequence number of the next line written. */
  private nextSeq = 0;

  private constructor(readonly path: string) {}

  /**
   * Opens (or creates) the state file and reads what it holds. Throws
   * STATE_UNREADABLE, without writing anything, when the file is damaged.
   */
  static open(path: string): OpenedState {
    const journal = new StateJournal(path);
    const notes: string[] = [];
    const state = existsSync(path) ? journal.read(notes) : undefined;
    journal.fd = openSync(path, 'a');
    return { journal, state, notes };
  }

  private refuse(what: string): never {
    throw new HeadlessDnsError('STATE_UNREADABLE', `${this.path}: ${what}; refusing to start from a damaged state (the file is left as it is)`);
  }

  private read(notes: string[]): LoadedState | undefined {
    const bytes = readFileSync(this.path);
    const text = bytes.toString('utf8');
    const lines = text.split('\n');
    const blank = (raw: string): boolean => raw.trim() === '';
    const first = lines.findIndex((raw) => !blank(raw));
    if (first < 0) {
      // Zero bytes is what a crash leaves between creating the file and its first
      // snapshot (and what `: > FILE` makes): nothing was ever acknowledged in it.
      notes.push(bytes.length === 0 ? `${this.path} is empty: starting as on a first start` : `${this.path} holds only blank lines: starting as on a first start`);
      return undefined;
    }
    let last = lines.length - 1;
    while (blank(lines[last]!)) last--;

    // The format is the first line's: the earlier one wrote bare JSON records.
    const legacy = !lines[first]!.startsWith('{"n":');
    const decode = legacy ? decodeLegacyLine : decodeLine;
    if (legacy) notes.push(`${this.path} is in the format of an earlier headless-dns (no sequence numbers or checksums): read it, and rewrite it in the current format`);

    const objects = new Map<string, { object: KubeObject; line: number }>();
    const key = (kind: string, namespace: string | undefined, name: string): string => `${kind}/${namespace ?? ''}/${name}`;
    let resourceVersion = 0;
    let expectedSeq: number | undefined;
    for (let i = first; i <= last; i++) {
      const raw = lines[i]!;
      if (blank(raw)) continue;
      const lineNo = i + 1;
      const decoded = decode(raw);
      if (!decoded.ok) {
        if (decoded.tearable && i === last && i !== first) {
          // A crash in the middle of an append tears the last line; that write
          // was never acknowledged. Its number, if readable, must be the next one,
          // or lines were lost before it.
          const seq = legacy ? undefined : SEQ_PREFIX.exec(raw)?.[1];
          if (seq !== undefined && Number(seq) !== expectedSeq) {
            this.refuse(`line ${lineNo} of the state file is torn and is record ${seq}, but record ${expectedSeq} should come next: records ${expectedSeq}..${Number(seq) - 1} are missing`);
          }
          notes.push(`${this.path}: dropped the torn last line ${lineNo}${seq !== undefined ? ` (record ${seq})` : ''}, ${raw.length} characters: a write cut short by a crash, never acknowledged`);
          break;
        }
        if (i === first) {
          this.refuse(`line ${lineNo} of the state file ${decoded.problem}; it should be the snapshot, which is written whole and renamed into place, so it is cut short or damaged, not torn by a crash`);
        }
        this.refuse(`line ${lineNo} of the state file ${decoded.problem}`);
      }
      const record = decoded.record;
      const problem = recordProblem(record);
      if (problem) this.refuse(`line ${lineNo} of the state file ${problem}`);
      const line = record as Line;
      if (i === first && line.t !== 'snapshot') this.refuse(`line ${lineNo} of the state file is a ${line.t}, but a state file starts with a snapshot: its beginning is missing`);
      if (i !== first && line.t !== 'batch') this.refuse(`line ${lineNo} of the state file is a second snapshot; only line 1 holds one`);
      if (decoded.seq !== undefined) {
        if (expectedSeq !== undefined && decoded.seq !== expectedSeq) {
          this.refuse(
            decoded.seq > expectedSeq
              ? `line ${lineNo} of the state file is record ${decoded.seq}, but record ${expectedSeq} should come next: records ${expectedSeq}..${decoded.seq - 1} are missing`
              : `line ${lineNo} of the state file is record ${decoded.seq}, but record ${expectedSeq} should come next: records are repeated or out of order`,
          );
        }
        expectedSeq = decoded.seq + 1;
      }
      if (line.t === 'snapshot') {
        objects.clear();
        for (const object of line.objects) objects.set(key(object.kind, object.metadata.namespace, object.metadata.name), { object, line: lineNo });
        this.linesSinceSnapshot = 0;
      } else {
        for (const object of line.put) objects.set(key(object.kind, object.metadata.namespace, object.metadata.name), { object, line: lineNo });
        for (const gone of line.del) objects.delete(key(gone.kind, gone.namespace, gone.name));
        this.linesSinceSnapshot++;
      }
      resourceVersion = Math.max(resourceVersion, line.rv);
    }
    this.nextSeq = expectedSeq ?? 0;
    this.checkRestored([...objects.values()], resourceVersion);
    return { objects: [...objects.values()].map((o) => o.object), resourceVersion };
  }

  /**
   * What is restored must be what a write could have made: each object valid as
   * validateObject sees it, with the uid and resourceVersion the store gave it, in
   * a namespace that exists (the store never deletes default or kube-system).
   */
  private checkRestored(restored: readonly { object: KubeObject; line: number }[], resourceVersion: number): void {
    const namespaces = new Set<string>();
    for (const { object } of restored) if (object.kind === 'Namespace') namespaces.add(object.metadata.name);
    for (const name of INITIAL_NAMESPACES) if (!namespaces.has(name)) this.refuse(`the state holds no Namespace "${name}", which every state has`);
    for (const { object, line } of restored) {
      const where = `the restored ${describeObject(object)} (last written on line ${line})`;
      const { causes } = validateObject(object);
      if (causes.length > 0) this.refuse(`${where} is invalid: ${causes.map((c) => `${c.field ? `${c.field}: ` : ''}${c.message}`).join('; ')}`);
      const { uid, resourceVersion: version } = object.metadata;
      if (typeof uid !== 'string' || uid === '') this.refuse(`${where} has no metadata.uid`);
      if (typeof version !== 'string' || !/^[1-9]\d*$/.test(version) || Number(version) > resourceVersion) {
        this.refuse(`${where} has metadata.resourceVersion ${JSON.stringify(version) ?? 'undefined'}, not a number up to the state's ${resourceVersion}`);
      }
      if (isNamespaced(object.kind) && !namespaces.has(object.metadata.namespace ?? 'default')) {
        this.refuse(`${where} is in namespace "${object.metadata.namespace ?? 'default'}", which the state does not hold`);
      }
    }
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
    writeSync(this.fd, encodeLine(this.nextSeq, line));
    fsyncSync(this.fd);
    // Counted only once on disk: a failed write leaves no number used.
    this.nextSeq++;
    if (++this.linesSinceSnapshot >= COMPACT_AFTER_LINES) this.compact(snapshot(), resourceVersion);
  }

  /** Replaces the journal with one snapshot line: temp file, fsync, rename. */
  compact(objects: readonly KubeObject[], resourceVersion: number): void {
    const temporary = `${this.path}.tmp`;
    const fd = openSync(temporary, 'w');
    // The numbers go on from the journal it replaces, so no two lines ever share one.
    writeSync(fd, encodeLine(this.nextSeq, { t: 'snapshot', rv: resourceVersion, objects }));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temporary, this.path);
    fsyncDirectory(this.path);
    this.nextSeq++;
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
