// The semantics table against the real server: raw UDP (EDNS) and TCP queries
// decoded with dns2's Packet, and dig over UDP and TCP where dig is installed.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/cluster.js';
import { CASES } from '../support/cases.js';
import { dig, hasDig } from '../support/dig.js';
import { FIXTURE } from '../support/fixture.js';
import { ask } from '../support/wire-client.js';
import { normalizeSet, sortedSections } from '../support/zone.js';

let cluster: StartedCluster;

beforeAll(async () => {
  cluster = await startCluster({ manifests: [FIXTURE] });
});
afterAll(() => cluster.close());

const expected = (c: (typeof CASES)[number]) => ({
  rcode: c.rcode,
  answer: normalizeSet(c.answer ?? []),
  authority: normalizeSet(c.authority ?? []),
  additional: normalizeSet(c.additional ?? []),
});

const rows = CASES.map((c) => [`${c.qname} ${c.qtype}`, c] as const);

describe.each(['udp', 'tcp'] as const)('semantics table over %s', (transport) => {
  it.each(rows)('%s', async (_title, c) => {
    const reply = await ask(cluster.dns.port, c.qname, c.qtype, transport, transport === 'udp' ? { edns: 4096 } : {});
    expect(sortedSections(reply)).toEqual(expected(c));
    expect(reply.header.aa).toBe(1);
    expect(reply.header.ra).toBe(0);
    expect(reply.header.tc).toBe(0);
    expect(reply.opt).toBe(transport === 'udp');
    expect(reply.errors).toBe(0);
  });
});

describe.runIf(hasDig).each([['+notcp'], ['+tcp']])('semantics table through dig %s', (mode) => {
  it.each(rows)('%s', async (_title, c) => {
    const result = await dig(cluster.dns.port, c.qname, c.qtype, [mode]);
    expect(sortedSections(result)).toEqual(expected(c));
    expect(result.flags).toContain('aa');
    expect(result.flags).not.toContain('ra');
  });
});
