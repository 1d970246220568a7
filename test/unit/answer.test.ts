import { describe, expect, it } from 'vitest';
import { answer } from '../../src/dns/answer.js';
import { RCODE_NAMES, typeCode } from '../../src/dns/constants.js';
import { CASES } from '../support/cases.js';
import { fixtureIndex } from '../support/fixture.js';
import { normalizeSet, rrSet } from '../support/zone.js';

const { index } = fixtureIndex();

describe('answer(): the semantics table', () => {
  it.each(CASES.map((c) => [`${c.qname} ${c.qtype} (${c.rule})`, c] as const))('%s', (_title, c) => {
    const result = answer({ name: c.qname, type: typeCode(c.qtype)! }, index);
    expect(result.kind).toBe('reply');
    if (result.kind !== 'reply') return;
    expect({
      rcode: RCODE_NAMES[result.rcode],
      answer: rrSet(result.answer),
      authority: rrSet(result.authority),
      additional: rrSet(result.additional),
    }).toEqual({
      rcode: c.rcode,
      answer: normalizeSet(c.answer ?? []),
      authority: normalizeSet(c.authority ?? []),
      additional: normalizeSet(c.additional ?? []),
    });
  });

  it('refuses names outside every zone and zone transfers', () => {
    expect(answer({ name: 'example.com.', type: 1 }, index).kind).toBe('outOfZone');
    expect(answer({ name: 'cluster.local.', type: 252 }, index).kind).toBe('refused');
  });

  it('pods disabled: pod names are NXDOMAIN, and so is <ns>.pod', () => {
    const { index: disabled } = fixtureIndex({ pods: 'disabled' });
    for (const name of ['10-1-0-10.default.pod.cluster.local.', 'default.pod.cluster.local.']) {
      const result = answer({ name, type: 1 }, disabled);
      expect(result.kind === 'reply' && RCODE_NAMES[result.rcode]).toBe('NXDOMAIN');
    }
  });

  it('pods verified: only addresses of pods in that namespace', () => {
    const { store, index: verified } = fixtureIndex({ pods: 'verified' });
    const ask = (name: string): string | undefined => {
      const result = answer({ name, type: 1 }, verified);
      return result.kind === 'reply' ? RCODE_NAMES[result.rcode] : result.kind;
    };
    expect(ask('10-1-0-10.default.pod.cluster.local.')).toBe('NXDOMAIN');
    store.apply([
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'kubia-0', namespace: 'default' },
        spec: { containers: [{ name: 'kubia', image: 'luksa/kubia-pet' }] },
        status: { phase: 'Running', podIP: '10.1.0.10' },
      },
    ]);
    expect(ask('10-1-0-10.default.pod.cluster.local.')).toBe('NOERROR');
    expect(ask('10-1-0-10.testns.pod.cluster.local.')).toBe('NXDOMAIN');
  });

  it('ttl comes from the configuration; the SOA TTL is capped at 300 and dns-version stays 28800', () => {
    const { index: slow } = fixtureIndex({ ttl: 3600 });
    const a = answer({ name: 'svc1.testns.svc.cluster.local.', type: 1 }, slow);
    expect(a.kind === 'reply' && a.answer[0]?.ttl).toBe(3600);
    const soa = answer({ name: 'cluster.local.', type: 6 }, slow);
    expect(soa.kind === 'reply' && soa.answer[0]).toMatchObject({ ttl: 300, minimum: 3600 });
    const txt = answer({ name: 'dns-version.cluster.local.', type: 16 }, slow);
    expect(txt.kind === 'reply' && txt.answer[0]?.ttl).toBe(28800);
  });
});
