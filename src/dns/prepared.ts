// Answers prepared ahead of queries. When the record index reports a change,
// the positive answers of every name and address it names are encoded again
// (A, AAAA, SRV, CNAME, PTR); the apex SOA moves with the serial. A query for
// one of them is then a map lookup and a copy. Negative answers are not kept:
// they carry the SOA serial, and are cheap to make from the question alone.
// Prepared answers are kept in a slab (slab.ts) and named by their handles.
// Preparing one name can never stop the others: a failure drops that name's
// answer (so it is made on the spot when asked, never served stale) and is
// logged once per change.

import { serviceNames } from '../records/build.js';
import type { IndexChange, RecordSource } from '../records/index.js';
import { matchZone, parseRequest, reverseName } from '../records/names.js';
import { type Answer, type Reply, answer } from './answer.js';
import { QTYPE } from './constants.js';
import { AnswerSlab } from './slab.js';
import {
  type AnswerSections,
  type ParsedQuery,
  type PreparedAnswer,
  type ReplyParts,
  encodeAnswer,
  nameKey,
  prepareAnswer,
  preparedLength,
  renderAnswer,
  renderAnswerParts,
  writeEncoded,
} from './wire.js';

const FORWARD_TYPES: readonly number[] = [QTYPE.A, QTYPE.AAAA, QTYPE.SRV, QTYPE.CNAME];
const NONE: readonly number[] = [];

/** A type's mnemonic, for log lines. */
function qtypeName(qtype: number): string {
  for (const [name, code] of Object.entries(QTYPE)) if (code === qtype) return name;
  return `TYPE${qtype}`;
}

export interface ChangeFeed {
  onChange(listener: (change: IndexChange) => void): () => void;
  allServices(): Iterable<Parameters<typeof serviceNames>[0]>;
}

function replySections(result: Reply, truncated = false): AnswerSections {
  return {
    rcode: result.rcode,
    authoritative: true,
    truncated,
    answer: result.answer,
    authority: result.authority,
    additional: result.additional,
  };
}

/** Encodes an answer for caching or sending; undefined for answers that are not replies. */
export function encodeReply(name: string, result: Answer, truncated = false): PreparedAnswer | undefined {
  if (result.kind !== 'reply') return undefined;
  return prepareAnswer(name, result.zone, replySections(result, truncated));
}

/** qtype → name key → the new answer's handle, or null for none. */
type Staged = Map<number, Map<string, number | null>>;

interface PreparationJob {
  names: string[];
  addresses: string[];
  next: number;
  /** The types of names[next] to prepare, and how many of them are done. */
  types: number[] | undefined;
  nextType: number;
  nextAddress: number;
  staged: Staged;
  waiters: (() => void)[];
  timer?: NodeJS.Immediate;
}

/** Changes naming more names and addresses than this may be prepared in slices. */
const SLICED_ABOVE = 1_000;
/** How long one slice of a sliced preparation runs before DNS gets a turn. */
const SLICE_MS = 6;

/** At most this many answers made on demand are kept until the next change. */
const ON_DEMAND_LIMIT = 50_000;

export interface PreparedOptions {
  /** Where a change that could not prepare some answers is reported. Default: nowhere. */
  log?: (message: string) => void;
}

export class PreparedAnswers {
  /** qtype → name key → handle of the answer in the slab. */
  private readonly byType = new Map<number, Map<string, number>>();
  private slab = new AnswerSlab();
  /** The types a Service view can answer (views are replaced, never changed, when a Service changes). */
  private readonly viewTypes = new WeakMap<object, readonly number[]>();
  /**
   * Answers made when a query asked for them (negative answers, other types):
   * they carry the SOA serial, so every change drops them all.
   */
  private onDemand = new Map<number, Map<string, PreparedAnswer>>();
  private onDemandCount = 0;
  /** A large change being prepared in slices. */
  private job: PreparationJob | undefined;
  private readonly unsubscribe: () => void;
  private readonly log: (message: string) => void;
  /** Answers that could not be prepared since the last report, and the first of them. */
  private failures = 0;
  private firstFailure = '';

  constructor(private readonly source: RecordSource, feed: ChangeFeed, options: PreparedOptions = {}) {
    this.log = options.log ?? (() => undefined);
    for (const view of feed.allServices()) this.prepareNames(serviceNames(view, source.config.zone));
    for (const view of feed.allServices()) {
      this.prepareAddresses([...view.clusterIPs, ...view.endpoints.map((e) => e.address)]);
    }
    this.prepareFixedNames();
    this.reportFailures();
    this.unsubscribe = feed.onChange((change) => this.onChange(change));
  }

  close(): void {
    this.unsubscribe();
    if (this.job?.timer) clearImmediate(this.job.timer);
    this.finish();
  }

  /** Resolves once no change is being prepared in slices (at once when none is). */
  idle(): Promise<void> {
    if (!this.job) return Promise.resolve();
    return new Promise((resolve) => this.job!.waiters.push(resolve));
  }

  private onChange(change: IndexChange): void {
    const work = change.names.length + change.addresses.length;
    if (this.job || (change.deferrable && work > SLICED_ABOVE)) {
      // A large change from a write that does not wait: prepared in slices,
      // the answers from before kept until all are ready, then swapped in at
      // once, so DNS answers the previous state until the new one is whole.
      const job: PreparationJob = (this.job ??= { names: [], addresses: [], next: 0, types: undefined, nextType: 0, nextAddress: 0, staged: new Map(), waiters: [] } as PreparationJob);
      for (const name of change.names) job.names.push(name);
      for (const address of change.addresses) job.addresses.push(address);
      // Anything else waits for the job: a change that must show at once finishes it now.
      if (!change.deferrable) this.runJob(Number.POSITIVE_INFINITY);
      else job.timer ??= setImmediate(() => this.runJob(performance.now() + SLICE_MS));
      return;
    }
    this.forgetOnDemand();
    this.prepareNames(change.names);
    this.prepareAddresses(change.addresses);
    this.afterChange();
  }

  private afterChange(): void {
    this.prepareApex();
    if (this.slab.wasteful) this.compact();
    this.reportFailures();
  }

  /** Prepares the job's names until the deadline, then yields; installs them all once done. */
  private runJob(deadline: number): void {
    const job = this.job;
    if (!job) return;
    job.timer = undefined;
    let steps = 0;
    // One (name, type) at a time: the A and SRV answers of a large Service's
    // name are each a few milliseconds, so they go in separate slices.
    while (job.next < job.names.length) {
      const name = job.names[job.next]!;
      job.types ??= this.typesToPrepare(name);
      if (job.nextType < job.types.length) this.prepare(name, job.types[job.nextType++]!, undefined, job.staged);
      if (job.nextType >= job.types.length) {
        job.next++;
        job.types = undefined;
        job.nextType = 0;
      }
      if (performance.now() > deadline) break;
    }
    if (this.source.config.reverse) {
      while (job.next >= job.names.length && job.nextAddress < job.addresses.length) {
        const address = job.addresses[job.nextAddress++]!;
        this.prepare(reverseName(address), QTYPE.PTR, undefined, job.staged);
        if ((++steps & 15) === 0 && performance.now() > deadline) break;
      }
    }
    if (job.next < job.names.length || (this.source.config.reverse && job.nextAddress < job.addresses.length)) {
      job.timer = setImmediate(() => this.runJob(performance.now() + SLICE_MS));
      return;
    }
    // Swap: every staged answer replaces the one from before, in one go.
    this.forgetOnDemand();
    for (const [qtype, staged] of job.staged) {
      for (const [key, handle] of staged) {
        this.drop(qtype, key);
        if (handle === null) continue;
        let answers = this.byType.get(qtype);
        if (!answers) this.byType.set(qtype, (answers = new Map()));
        answers.set(key, handle);
      }
    }
    this.finish();
    this.afterChange();
  }

  private finish(): void {
    const job = this.job;
    this.job = undefined;
    for (const resolve of job?.waiters ?? []) resolve();
  }

  /** The reply from a prepared or remembered answer, or undefined when there is none for this question. */
  reply(msg: Buffer, query: ParsedQuery, limit: number, parts = false): Buffer | ReplyParts | undefined {
    const handle = this.byType.get(query.qtype)?.get(query.key);
    if (handle !== undefined) {
      const page = this.slab.page(handle);
      const at = this.slab.offset(handle);
      return parts ? renderAnswerParts(msg, query, page, limit, at) : renderAnswer(msg, query, page, limit, at);
    }
    // By type, then name: no joined key string per query.
    const remembered = this.onDemand.get(query.qtype)?.get(query.key);
    return remembered && renderAnswer(msg, query, remembered, limit);
  }

  /** Keeps an answer made for a query, for the same question until the registry changes. */
  remember(key: string, qtype: number, answer: PreparedAnswer): void {
    if (this.onDemandCount >= ON_DEMAND_LIMIT) this.forgetOnDemand();
    let answers = this.onDemand.get(qtype);
    if (!answers) this.onDemand.set(qtype, (answers = new Map()));
    if (!answers.has(key)) this.onDemandCount++;
    answers.set(key, answer);
  }

  private forgetOnDemand(): void {
    this.onDemand = new Map();
    this.onDemandCount = 0;
  }

  /** How many (name, type) answers are prepared; for tests and metrics. */
  get size(): number {
    let n = 0;
    for (const answers of this.byType.values()) n += answers.size;
    return n;
  }

  /**
   * Prepares one (name, type): installed at once, or, with `staged`, kept
   * there (null: no answer) until a sliced job swaps them all in.
   */
  private prepare(name: string, qtype: number, key = nameKey(name), staged?: Staged): void {
    let reserved = 0;
    let handle: number | null = null;
    try {
      const result = answer({ name, type: qtype }, this.source);
      const positive = result.kind === 'reply' && result.rcode === 0 && result.answer.length > 0 && !result.chase;
      if (positive) {
        // Encoded straight into the slab: no Buffer per answer.
        const sections = replySections(result);
        const length = encodeAnswer(name, result.zone, sections);
        handle = this.slab.reserve(length);
        reserved = length;
        writeEncoded(this.slab.page(handle), this.slab.offset(handle), sections);
      }
    } catch (error) {
      // Not the answer from before the change: with none kept, a query for it
      // is answered from the registry as it is now (SERVFAIL if that fails too).
      if (reserved > 0) this.slab.release(reserved);
      handle = null;
      if (this.failures++ === 0) this.firstFailure = `${name} ${qtypeName(qtype)}: ${(error as Error)?.message ?? String(error)}`;
    }
    if (staged) {
      let byKey = staged.get(qtype);
      if (!byKey) staged.set(qtype, (byKey = new Map()));
      const before = byKey.get(key);
      // Prepared twice in one job (a later change named it again): the later one wins.
      if (before !== undefined && before !== null) this.slab.release(preparedLength(this.slab.page(before), this.slab.offset(before)));
      byKey.set(key, handle);
      return;
    }
    this.drop(qtype, key);
    if (handle === null) return;
    let answers = this.byType.get(qtype);
    if (!answers) this.byType.set(qtype, (answers = new Map()));
    answers.set(key, handle);
  }

  /** Forgets the prepared answer of (type, name), if there is one. */
  private drop(qtype: number, key: string): void {
    const answers = this.byType.get(qtype);
    const handle = answers?.get(key);
    if (handle === undefined) return;
    this.slab.release(preparedLength(this.slab.page(handle), this.slab.offset(handle)));
    answers!.delete(key);
  }

  /** One log line for every answer a change could not prepare. */
  private reportFailures(): void {
    if (this.failures === 0) return;
    this.log(`dns: could not prepare ${this.failures} answer${this.failures === 1 ? '' : 's'} (first: ${this.firstFailure}); they are answered when asked`);
    this.failures = 0;
    this.firstFailure = '';
  }

  /** Copies the answers still in use to a new slab, leaving the released ones behind. */
  private compact(): void {
    const old = this.slab;
    this.slab = new AnswerSlab();
    for (const answers of this.byType.values()) {
      for (const [key, handle] of answers) {
        const page = old.page(handle);
        const at = old.offset(handle);
        answers.set(key, this.slab.add(page.subarray(at), preparedLength(page, at)));
      }
    }
  }

  private prepareNames(names: Iterable<string>): void {
    for (const name of names) this.prepareName(name);
  }

  private prepareName(name: string): void {
    const key = nameKey(name);
    for (const qtype of this.typesToPrepare(name, key)) this.prepare(name, qtype, key);
  }

  /** The forward types of a name to prepare (or to drop the kept answer of). */
  private typesToPrepare(name: string, key = nameKey(name)): number[] {
    let possible: readonly number[];
    try {
      possible = this.possibleTypes(name);
    } catch {
      // Every type then: each one's preparation fails or succeeds (and is reported) on its own.
      possible = FORWARD_TYPES;
    }
    // A type that cannot answer here is only looked at when an answer of it is kept (to drop it).
    return FORWARD_TYPES.filter((qtype) => possible.includes(qtype) || this.byType.get(qtype)?.has(key));
  }

  /**
   * The forward types that can have records at a name of a Service: no CNAME
   * unless it is an ExternalName (the only source of external hosts), and A or
   * AAAA only when the Service has an address of that family. Anything else
   * (or an ExternalName) may have them all.
   */
  private possibleTypes(name: string): readonly number[] {
    const zone = matchZone(this.source.zones, name);
    const request = zone ? parseRequest(name, zone) : undefined;
    if (!request || request.podOrSvc !== 'svc' || request.service === '') return FORWARD_TYPES;
    const view = this.source.service(request.namespace, request.service);
    if (!view) return NONE;
    if (view.type === 'ExternalName') return FORWARD_TYPES;
    let types = this.viewTypes.get(view);
    if (!types) {
      let v4 = false;
      let v6 = false;
      for (const address of [...view.clusterIPs, ...view.endpoints.map((e) => e.address)]) {
        if (address.includes(':')) v6 = true;
        else v4 = true;
      }
      types = [...(v4 ? [QTYPE.A] : []), ...(v6 ? [QTYPE.AAAA] : []), QTYPE.SRV];
      this.viewTypes.set(view, types);
    }
    return types;
  }

  private prepareAddresses(addresses: Iterable<string>): void {
    if (!this.source.config.reverse) return;
    for (const address of addresses) this.prepare(reverseName(address), QTYPE.PTR);
  }

  private prepareApex(): void {
    for (const zone of this.source.zones) this.prepare(zone, QTYPE.SOA);
  }

  private prepareFixedNames(): void {
    for (const zone of this.source.zones) {
      this.prepare(zone, QTYPE.NS);
      this.prepare(`ns.dns.${zone}`, QTYPE.A);
      this.prepare(`ns.dns.${zone}`, QTYPE.AAAA);
      this.prepare(`dns-version.${zone}`, QTYPE.TXT);
    }
    this.prepareApex();
  }
}
