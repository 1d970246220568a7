// Prometheus text exposition: DNS queries by type and rcode, answer latency,
// objects by kind, store events applied, open watches.

import { RCODE_NAMES, typeName } from '../dns/constants.js';
import { TIMING_SAMPLE } from '../dns/responder.js';
import { FAULT_EFFECTS, type Faults } from '../dns/faults.js';
import { KINDS } from '../model/types.js';
import type { ObjectStore } from '../store/store.js';

const BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1];

function escape(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

export class Metrics {
  /** Counts by (transport, qtype, rcode) packed into one number: names are made when scraped. */
  private readonly queries = new Map<number, number>();
  private readonly bucketCounts = new Array<number>(BUCKETS.length).fill(0);
  private latencySum = 0;
  private latencyCount = 0;
  private readonly events = new Map<string, number>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: ObjectStore,
    private readonly openWatches: () => number = () => 0,
    private readonly faults?: Faults,
  ) {
    this.unsubscribe = store.subscribe((batch) => {
      for (const event of batch) {
        const key = `${event.object.kind}|${event.type}`;
        this.events.set(key, (this.events.get(key) ?? 0) + 1);
      }
    });
  }

  close(): void {
    this.unsubscribe();
  }

  observeQuery(transport: 'udp' | 'tcp', qtype: number, rcode: number, seconds: number): void {
    const key = (transport === 'tcp' ? 1 : 0) * 0x1000000 + (qtype + 1) * 0x100 + rcode;
    this.queries.set(key, (this.queries.get(key) ?? 0) + 1);
    if (seconds < 0) return;
    this.latencySum += seconds;
    this.latencyCount++;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) this.bucketCounts[i]!++;
  }

  render(): string {
    const lines: string[] = [];
    lines.push('# HELP headless_dns_dns_queries_total DNS queries answered, by transport, query type and response code.');
    lines.push('# TYPE headless_dns_dns_queries_total counter');
    for (const [key, n] of [...this.queries].sort((a, b) => a[0] - b[0])) {
      const transport = key >= 0x1000000 ? 'tcp' : 'udp';
      const code = Math.floor((key % 0x1000000) / 0x100) - 1;
      const qtype = code < 0 ? '-' : typeName(code);
      const rcode = RCODE_NAMES[key % 0x100] ?? String(key % 0x100);
      lines.push(`headless_dns_dns_queries_total{transport="${transport}",qtype="${escape(qtype)}",rcode="${escape(rcode)}"} ${n}`);
    }
    lines.push(`# HELP headless_dns_dns_answer_seconds Time from a query arriving to its answer being ready, for one query in ${TIMING_SAMPLE}.`);
    lines.push('# TYPE headless_dns_dns_answer_seconds histogram');
    BUCKETS.forEach((le, i) => lines.push(`headless_dns_dns_answer_seconds_bucket{le="${le}"} ${this.bucketCounts[i]}`));
    lines.push(`headless_dns_dns_answer_seconds_bucket{le="+Inf"} ${this.latencyCount}`);
    lines.push(`headless_dns_dns_answer_seconds_sum ${this.latencySum}`);
    lines.push(`headless_dns_dns_answer_seconds_count ${this.latencyCount}`);
    lines.push('# HELP headless_dns_objects Objects in the store, by kind.');
    lines.push('# TYPE headless_dns_objects gauge');
    for (const kind of KINDS) lines.push(`headless_dns_objects{kind="${kind}"} ${this.store.list(kind).length}`);
    lines.push('# HELP headless_dns_store_events_total Store events applied, by kind and type.');
    lines.push('# TYPE headless_dns_store_events_total counter');
    for (const [key, n] of [...this.events].sort()) {
      const [kind = '', type = ''] = key.split('|');
      lines.push(`headless_dns_store_events_total{kind="${kind}",type="${type}"} ${n}`);
    }
    if (this.faults) {
      lines.push('# HELP headless_dns_dns_faults_applied_total Queries a DNS fault rule changed, by effect (a delayed SERVFAIL counts as both).');
      lines.push('# TYPE headless_dns_dns_faults_applied_total counter');
      for (const effect of FAULT_EFFECTS) lines.push(`headless_dns_dns_faults_applied_total{effect="${effect}"} ${this.faults.applied[effect]}`);
      lines.push('# HELP headless_dns_dns_fault_hits Queries each fault rule in force has matched.');
      lines.push('# TYPE headless_dns_dns_fault_hits gauge');
      for (const rule of this.faults.list()) lines.push(`headless_dns_dns_fault_hits{id="${rule.id}",name="${escape(rule.name)}",type="${rule.type ?? ''}"} ${rule.hits}`);
    }
    lines.push('# HELP headless_dns_api_watches Open watch streams.');
    lines.push('# TYPE headless_dns_api_watches gauge');
    lines.push(`headless_dns_api_watches ${this.openWatches()}`);
    return `${lines.join('\n')}\n`;
  }
}
