// Round trips: every answer of the semantics table encoded by our wire layer,
// decoded by dns2's independent decoder, must give back the same records.

import { describe, expect, it } from 'vitest';
import { answer } from '../../src/dns/answer.js';
import { typeCode } from '../../src/dns/constants.js';
import { encodeReply } from '../../src/dns/prepared.js';
import { parseQuery, renderAnswer } from '../../src/dns/wire.js';
import { CASES } from '../support/cases.js';
import { fixtureIndex } from '../support/fixture.js';
import { buildQueryPacket, decodeReply } from '../support/wire-client.js';
import { normalizeSet, rrSet } from '../support/zone.js';

const { index } = fixtureIndex();

function roundTrip(qname: string, qtype: string, options: { edns?: number; limit?: number; spelled?: string } = {}) {
  const query = buildQueryPacket(options.spelled ?? qname, qtype, options.edns ? { edns: options.edns } : {});
  const parsed = parseQuery(query);
  if (!parsed.ok) throw new Error('query did not parse');
  const result = answer({ name: qname, type: typeCode(qtype)! }, index);
  const reply = renderAnswer(query, parsed.query, encodeReply(qname, result)!, options.limit ?? 65535);
  return { result, reply, decoded: decodeReply(reply) };
}

describe('encode → dns2 decode round trip', () => {
  it.each(CASES.map((c) => [`${c.qname} ${c.qtype}`, c] as const))('%s', (_title, c) => {
    const { result, decoded, reply } = roundTrip(c.qname, c.qtype);
    if (result.kind !== 'reply') throw new Error('not a reply');
    expect(decoded.errors).toBe(0);
    expect(normalizeSet(decoded.answer)).toEqual(rrSet(result.answer));
    expect(normalizeSet(decoded.authority)).toEqual(rrSet(result.authority));
    expect(normalizeSet(decoded.additional)).toEqual(rrSet(result.additional));
    expect(reply.readUInt16BE(0)).toBe(decoded.header.id);
  });

  it('never compresses SRV targets (RFC 2782)', () => {
    const { reply } = roundTrip('kubia.default.svc.cluster.local.', 'SRV');
    const target = Buffer.from('\x07kubia-0\x05kubia\x07default\x03svc\x07cluster\x05local\x00', 'latin1');
    expect(reply.indexOf(target)).toBeGreaterThan(0);
  });

  it('truncates to a prefix: answers first, then authority, then additional, with TC', () => {
    const full = roundTrip('hdls1.testns.svc.cluster.local.', 'SRV');
    const cut = roundTrip('hdls1.testns.svc.cluster.local.', 'SRV', { limit: 300 });
    expect(cut.reply.length).toBeLessThanOrEqual(300);
    expect(cut.decoded.header.tc).toBe(1);
    expect(full.decoded.header.tc).toBe(0);
    expect(full.decoded.answer.slice(0, cut.decoded.answer.length)).toEqual(cut.decoded.answer);
    expect(cut.decoded.additional.length).toBeLessThan(full.decoded.additional.length);
  });

  it('keeps the OPT record when truncating', () => {
    const cut = roundTrip('hdls1.testns.svc.cluster.local.', 'SRV', { limit: 300, edns: 300 });
    expect(cut.reply.length).toBeLessThanOrEqual(300);
    expect(cut.decoded.opt).toBe(true);
  });

  it('writes the query spelling of the zone into uncompressed SRV targets', () => {
    const { decoded } = roundTrip('kubia.default.svc.cluster.local.', 'SRV', { spelled: 'kubia.default.svc.CLUSTER.Local' });
    expect(decoded.answer[0]).toMatch(/ kubia-\d\.kubia\.default\.svc\.CLUSTER\.Local\.$/);
    expect(decoded.additional[0]).toMatch(/^kubia-\d\.kubia\.default\.svc\.CLUSTER\.Local\. /);
  });
});
