// DNS faults for tests: rules matched by name (exact, `*.suffix`, or a glob),
// type and transport, each with an effect on the reply — an rcode, a delay,
// a drop, truncation over UDP, closing the TCP connection unanswered, or the
// membership of some seconds ago — for a number of queries or a time. Faults
// act on replies only; the registry never changes. With no rule, the
// responder asks nothing of them.

import { HeadlessDnsError } from '../errors.js';
import { HISTORY_HORIZON_MS } from '../records/index.js';
import { QTYPE, RCODE } from './constants.js';

export type FaultRcode = 'SERVFAIL' | 'REFUSED' | 'NXDOMAIN' | 'NOTIMP';

/** A rule as given (the API's body, `serve --fault`, `cluster.faults.add`). */
export interface FaultInput {
  /** The name: exact (`kubia-0.kubia.default.svc.cluster.local`), or with `*` for any labels (`*.kubia.default.svc.cluster.local`). */
  name: string;
  /** A query type (A, AAAA, SRV, ...); any when absent. */
  type?: string;
  /** Only over this transport; both when absent. */
  transport?: 'udp' | 'tcp';
  rcode?: FaultRcode;
  /** Milliseconds before the reply goes, plus up to `jitter` more. */
  delay?: number;
  jitter?: number;
  /** The probability (0-1) that a matching query gets no reply at all. */
  drop?: number;
  /** Over UDP: an empty reply with TC set, so the client asks again over TCP. */
  truncate?: boolean;
  /** Over TCP: the connection is closed without a reply. */
  tcpClose?: boolean;
  /** Answer with the Services' membership of this many seconds ago (to the second; at most 600). */
  stale?: number;
  /** A rule that is off matches nothing and stays listed (the web page's switch). Default true. */
  enabled?: boolean;
  /** The rule ends after this many matching queries. */
  count?: number;
  /** The rule ends this many milliseconds after it was added. */
  durationMs?: number;
}

export interface FaultRule extends FaultInput {
  readonly id: string;
  /** Matching queries so far. */
  hits: number;
  /** When it was added (ms). */
  readonly created: number;
}

/** What a matching rule does to one query. */
export interface FaultEffect {
  rule: FaultRule;
  /** No reply at all. */
  drop: boolean;
  /** Close the TCP connection. */
  close: boolean;
  rcode?: number;
  truncate: boolean;
  delayMs: number;
  /** Answer as of this many seconds ago (0: now). */
  staleSeconds: number;
  /** The rule's number (its id is `fault-<number>`), for the query log. */
  number: number;
}

/** The effects a rule may have, as metrics name them. */
export const FAULT_EFFECTS = ['rcode', 'delay', 'drop', 'truncate', 'tcpClose', 'stale'] as const;
export type FaultEffectName = (typeof FAULT_EFFECTS)[number];

/** The longest `stale` a rule may ask for: as much history as the record index keeps. */
const STALE_HORIZON_SECONDS = HISTORY_HORIZON_MS / 1000;

const KEYS = new Set(['name', 'type', 'transport', 'rcode', 'delay', 'jitter', 'drop', 'truncate', 'tcpClose', 'stale', 'count', 'durationMs', 'enabled']);
const RCODES: readonly FaultRcode[] = ['SERVFAIL', 'REFUSED', 'NXDOMAIN', 'NOTIMP'];

function invalid(message: string): HeadlessDnsError {
  return new HeadlessDnsError('INVALID_OBJECT', `fault: ${message}`);
}

/** Checks a rule as given; the message names the field. */
export function validateFault(input: unknown): FaultInput {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw invalid('a rule is a JSON object, e.g. {"name": "kubia-0.kubia.default.svc.cluster.local", "type": "A", "rcode": "SERVFAIL"}');
  const rule = input as Record<string, unknown>;
  for (const key of Object.keys(rule)) if (!KEYS.has(key)) throw invalid(`unknown field "${key}" (known: ${[...KEYS].join(', ')})`);
  if (typeof rule.name !== 'string' || !rule.name.trim()) throw invalid('name: Required value: the name (or *.suffix) the rule matches');
  if (rule.type !== undefined && (typeof rule.type !== 'string' || !(rule.type.toUpperCase() in QTYPE))) throw invalid(`type: Unsupported value: ${JSON.stringify(rule.type)}: supported values: ${Object.keys(QTYPE).join(', ')}`);
  if (rule.transport !== undefined && rule.transport !== 'udp' && rule.transport !== 'tcp') throw invalid(`transport: Unsupported value: ${JSON.stringify(rule.transport)}: supported values: "udp", "tcp"`);
  if (rule.rcode !== undefined && !RCODES.includes(rule.rcode as FaultRcode)) throw invalid(`rcode: Unsupported value: ${JSON.stringify(rule.rcode)}: supported values: ${RCODES.join(', ')}`);
  const number = (key: string, min: number, max: number): void => {
    const value = rule[key];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)) throw invalid(`${key}: Invalid value: ${JSON.stringify(value)}: must be a number from ${min} to ${max}`);
  };
  number('delay', 0, 600_000);
  number('jitter', 0, 600_000);
  number('drop', 0, 1);
  number('count', 1, 1e9);
  number('durationMs', 1, 86_400_000);
  number('stale', 1, STALE_HORIZON_SECONDS);
  for (const key of ['truncate', 'tcpClose', 'enabled']) if (rule[key] !== undefined && typeof rule[key] !== 'boolean') throw invalid(`${key}: must be true or false`);
  const effects = FAULT_EFFECTS.filter((key) => rule[key] !== undefined && rule[key] !== false);
  if (effects.length === 0) throw invalid(`a rule needs an effect: ${FAULT_EFFECTS.join(', ')}`);
  if (rule.stale !== undefined && effects.some((key) => key === 'rcode' || key === 'truncate' || key === 'tcpClose')) throw invalid('stale: an answer as of the past cannot also be an rcode, a truncation or a closed connection');
  if (rule.jitter !== undefined && rule.delay === undefined) throw invalid('jitter: only with a delay');
  return rule as unknown as FaultInput;
}

/** `*` stands for one or more labels; everything else is literal. Names compare without case or trailing dot. */
function matcher(pattern: string): (name: string) => boolean {
  const plain = pattern.toLowerCase().replace(/\.$/, '');
  if (!plain.includes('*')) return (name) => name === plain;
  const regex = new RegExp(`^${plain.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.+')}$`);
  return (name) => regex.test(name);
}

export class Faults {
  private readonly rules: { rule: FaultRule; number: number; matches: (name: string) => boolean; qtype?: number }[] = [];
  private next = 1;
  /** Queries each effect applied to, over the run (rules come and go; these stay, for metrics). */
  readonly applied: Record<FaultEffectName, number> = { rcode: 0, delay: 0, drop: 0, truncate: 0, tcpClose: 0, stale: 0 };

  constructor(private readonly now: () => number = Date.now) {}

  /** True when any rule is in force: the responder looks no further otherwise. */
  get active(): boolean {
    return this.rules.length > 0;
  }

  add(input: unknown): FaultRule {
    const valid = validateFault(input);
    const number = this.next++;
    const rule: FaultRule = { ...valid, ...(valid.type ? { type: valid.type.toUpperCase() } : {}), enabled: valid.enabled !== false, id: `fault-${number}`, hits: 0, created: this.now() };
    this.rules.push({ rule, number, matches: matcher(valid.name), ...(rule.type ? { qtype: QTYPE[rule.type as keyof typeof QTYPE] } : {}) });
    return rule;
  }

  /** Switches a rule on or off; false when there is no such rule. */
  setEnabled(id: string, enabled: boolean): FaultRule | undefined {
    this.expire();
    const entry = this.rules.find((r) => r.rule.id === id);
    if (entry) entry.rule.enabled = enabled;
    return entry?.rule;
  }

  remove(id: string): boolean {
    const at = this.rules.findIndex((r) => r.rule.id === id);
    if (at < 0) return false;
    this.rules.splice(at, 1);
    return true;
  }

  list(): FaultRule[] {
    this.expire();
    return this.rules.map((r) => r.rule);
  }

  clear(): void {
    this.rules.length = 0;
  }

  private expire(): void {
    const now = this.now();
    for (let i = this.rules.length - 1; i >= 0; i--) {
      const { rule } = this.rules[i]!;
      if ((rule.count !== undefined && rule.hits >= rule.count) || (rule.durationMs !== undefined && now - rule.created >= rule.durationMs)) this.rules.splice(i, 1);
    }
  }

  /** The effect for a query (name lower case without the trailing dot), or undefined; counts the hit. */
  match(name: string, qtype: number, transport: 'udp' | 'tcp'): FaultEffect | undefined {
    this.expire();
    for (const entry of this.rules) {
      const { rule } = entry;
      if (!rule.enabled) continue;
      if (rule.transport && rule.transport !== transport) continue;
      if (entry.qtype !== undefined && entry.qtype !== qtype) continue;
      if (!entry.matches(name)) continue;
      rule.hits++;
      const effect: FaultEffect = {
        rule,
        number: entry.number,
        drop: rule.drop !== undefined && Math.random() < rule.drop,
        close: rule.tcpClose === true && transport === 'tcp',
        ...(rule.rcode ? { rcode: RCODE[rule.rcode] } : {}),
        truncate: rule.truncate === true && transport === 'udp',
        delayMs: (rule.delay ?? 0) + (rule.jitter ? Math.random() * rule.jitter : 0),
        staleSeconds: rule.stale ?? 0,
      };
      this.count(effect);
      return effect;
    }
    return undefined;
  }

  private count(effect: FaultEffect): void {
    const applied = this.applied;
    if (effect.delayMs > 0) applied.delay++;
    if (effect.drop) applied.drop++;
    else if (effect.close) applied.tcpClose++;
    else if (effect.rcode !== undefined) applied.rcode++;
    else if (effect.truncate) applied.truncate++;
    else if (effect.staleSeconds > 0) applied.stale++;
  }
}
