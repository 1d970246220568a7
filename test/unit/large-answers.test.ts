// The pieces behind answers larger than a DNS message and the UDP cap, without
// sockets: the encoder cuts at 65,535 bytes, one name's failed preparation
// neither stops the others nor leaves its old answer served, a throwing index
// listener does not silence the next, and the udpMaxSize option.

import { describe, expect, it } from 'vitest';
import { parseServeArgs, SERVE_HELP } from '../../src/cli/serve.js';
import { answer } from '../../src/dns/answer.js';
import { QTYPE } from '../../src/dns/constants.js';
import { PreparedAnswers, encodeReply } from '../../src/dns/prepared.js';
import { Responder } from '../../src/dns/responder.js';
import { parseQuery, renderAnswer } from '../../src/dns/wire.js';
import type { EndpointSlice, Service } from '../../src/model/types.js';
import { resolveOptions } from '../../src/options.js';
import { type RecordSource, RecordIndex } from '../../src/records/index.js';
import { ObjectStore } from '../../src/store/store.js';
import { KUBEADM } from '../support/fixture.js';
import { buildQueryPacket, decodeReply } from '../support/wire-client.js';

function headless(name: string, addresses: readonly string[], first = 0): [Service, EndpointSlice] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { clusterIP: 'None', ports: [{ name: 'peer', port: 7000 }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-0`, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'peer', port: 7000, protocol: 'TCP' }],
      endpoints: addresses.map((address, i) => ({ addresses: [address], hostname: `${name}-${first + i}` })),
    },
  ];
}

const manyAddresses = (count: number): string[] => Array.from({ length: count }, (_, i) => `10.4.${Math.floor(i / 250)}.${(i % 250) + 1}`);

describe('encoding an answer larger than a DNS message', () => {
  const store = new ObjectStore();
  const slices: EndpointSlice[] = [];
  const [service] = headless('huge', []);
  // Five slices of 1,000: 5,000 A records take 80,000 bytes.
  for (let s = 0; s < 5; s++) {
    const [, slice] = headless('huge', manyAddresses(5000).slice(s * 1000, (s + 1) * 1000), s * 1000);
    slices.push({ ...slice, metadata: { ...slice.metadata, name: `huge-${s}` } });
  }
  store.apply([service, ...slices]);
  const index = new RecordIndex(store, KUBEADM);
  const qname = 'huge.default.svc.cluster.local.';

  it('keeps the whole records that fit 65,535 bytes and sets TC, with and without OPT', () => {
    const result = answer({ name: qname, type: QTYPE.A }, index);
    const prepared = encodeReply(qname, result)!;
    for (const edns of [undefined, 4096]) {
      const query = buildQueryPacket(qname, 'A', edns ? { edns } : {});
      const parsed = parseQuery(query);
      if (!parsed.ok) throw new Error('query did not parse');
      const reply = renderAnswer(query, parsed.query, prepared, 65535);
      const decoded = decodeReply(reply);
      expect(decoded.errors).toBe(0);
      expect(decoded.header.tc).toBe(1);
      // 16 bytes per A record (its owner a pointer to the question), after the header, question and OPT.
      const room = 65535 - parsed.query.questionEnd - (edns ? 11 : 0);
      expect(decoded.answer).toHaveLength(Math.floor(room / 16));
      expect(reply.length).toBe(parsed.query.questionEnd + 16 * Math.floor(room / 16) + (edns ? 11 : 0));
    }
  });

  it('cuts SRV in the answer section first: no glue when the SRV records alone fill the message', () => {
    const result = answer({ name: qname, type: QTYPE.SRV }, index);
    const query = buildQueryPacket(qname, 'SRV');
    const parsed = parseQuery(query);
    if (!parsed.ok) throw new Error('query did not parse');
    const decoded = decodeReply(renderAnswer(query, parsed.query, encodeReply(qname, result)!, 65535));
    expect(decoded.header.tc).toBe(1);
    expect(decoded.answer.length).toBeGreaterThan(1000);
    expect(decoded.answer.length).toBeLessThan(5000);
    expect(decoded.additional).toEqual([]);
  });
});

/** A RecordSource over an index whose service() throws for one Service while `broken` is set. */
function breakable(index: RecordIndex, name: string): RecordSource & { broken: boolean } {
  const source = {
    broken: false,
    config: index.config,
    zones: index.zones,
    serial: () => index.serial(),
    namespaceExists: (namespace: string) => index.namespaceExists(namespace),
    service: (namespace: string, service: string) => {
      if (source.broken && service === name) throw new Error('injected failure');
      return index.service(namespace, service);
    },
    reverse: (address: string) => index.reverse(address),
    podIpExists: (namespace: string, ip: string) => index.podIpExists(namespace, ip),
  };
  return source;
}

function askA(responder: Responder, name: string): { rcode: string; answer: string[] } {
  const reply = responder.respond(buildQueryPacket(name, 'A'), 'udp') as Buffer;
  const decoded = decodeReply(reply);
  return { rcode: decoded.rcode, answer: decoded.answer };
}

describe('a name whose answer cannot be prepared', () => {
  it('does not stop the other names of the change, is logged once, and is never answered from before the change', () => {
    const storeErrors: unknown[] = [];
    const store = new ObjectStore({ onListenerError: (error) => storeErrors.push(error) });
    store.apply([...headless('bad', ['10.5.0.1']), ...headless('good', ['10.6.0.1'])]);
    const index = new RecordIndex(store, KUBEADM);
    const source = breakable(index, 'bad');
    const logs: string[] = [];
    const prepared = new PreparedAnswers(source, index, { log: (line) => logs.push(line) });
    const responder = new Responder(source, prepared);
    const bad = 'bad.default.svc.cluster.local';
    const good = 'good.default.svc.cluster.local';
    expect(askA(responder, bad).answer).toEqual([`${bad}. 30 IN A 10.5.0.1`]);

    // One change moves both; preparing "bad" (first in the batch) fails.
    source.broken = true;
    store.apply([headless('bad', ['10.5.0.2'])[1], headless('good', ['10.6.0.2'])[1]]);
    expect(storeErrors).toEqual([]);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/could not prepare \d+ answers? \(first: .*bad\.default\.svc\.cluster\.local\. .*injected failure\)/);
    expect(askA(responder, good).answer).toEqual([`${good}. 30 IN A 10.6.0.2`]);
    expect(askA(responder, `good-0.${good}`).answer).toEqual([`good-0.${good}. 30 IN A 10.6.0.2`]);
    // Not 10.5.0.1: SERVFAIL while the registry cannot answer for it...
    expect(askA(responder, bad)).toEqual({ rcode: 'SERVFAIL', answer: [] });
    // ...and the current answer as soon as it can, though nothing changed since.
    source.broken = false;
    expect(askA(responder, bad)).toEqual({ rcode: 'NOERROR', answer: [`${bad}. 30 IN A 10.5.0.2`] });
    prepared.close();
    index.close();
  });
});

describe('the record index tells every listener', () => {
  it('even when one before it throws; the store hears of the error', () => {
    const storeErrors: unknown[] = [];
    const store = new ObjectStore({ onListenerError: (error) => storeErrors.push(error) });
    const index = new RecordIndex(store, KUBEADM);
    const heard: string[][] = [];
    index.onChange(() => {
      throw new Error('first listener broke');
    });
    index.onChange((change) => heard.push(change.names));
    store.apply(headless('svc', ['10.7.0.1']));
    expect(heard).toHaveLength(1);
    expect(heard[0]).toContain('svc.default.svc.cluster.local.');
    expect(storeErrors).toHaveLength(1);
    expect((storeErrors[0] as Error).message).toBe('first listener broke');
    index.close();
  });
});

describe('udpMaxSize', () => {
  it('defaults to 1232 and takes 512 to 4096', () => {
    expect(resolveOptions({}).udpMaxSize).toBe(1232);
    expect(resolveOptions({ udpMaxSize: 512 }).udpMaxSize).toBe(512);
    expect(resolveOptions({ udpMaxSize: 4096 }).udpMaxSize).toBe(4096);
    for (const bad of [511, 4097, 1232.5, 65535]) {
      expect(() => resolveOptions({ udpMaxSize: bad })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringContaining('udpMaxSize') }));
    }
  });

  it('is the serve flag --udp-max-size, documented in its help with the default', () => {
    const parsed = parseServeArgs(['--udp-max-size', '2048']);
    if (parsed.help) throw new Error('parsed as --help');
    expect(parsed.options?.udpMaxSize).toBe(2048);
    expect(() => parseServeArgs(['--udp-max-size', 'big'])).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(SERVE_HELP).toMatch(/--udp-max-size N[\s\S]*512-4096[\s\S]*Default 1232\./);
  });

  it('lowers a larger EDNS size for the reply and its OPT, and keeps a smaller one', () => {
    const store = new ObjectStore();
    store.apply(headless('big', manyAddresses(100)));
    const index = new RecordIndex(store, KUBEADM);
    const prepared = new PreparedAnswers(index, index);
    const responder = new Responder(index, prepared, { udpMaxSize: 1500 });
    const name = '_peer._tcp.big.default.svc.cluster.local';
    for (const [asked, expected] of [[65535, 1500], [1000, 1000]] as const) {
      const reply = responder.respond(buildQueryPacket(name, 'SRV', { edns: asked }), 'udp') as Buffer;
      expect(reply.length).toBeLessThanOrEqual(expected);
      expect(reply.readUInt16BE(2) & 0x0200).toBe(0x0200);
      expect(reply.readUInt16BE(reply.length - 11 + 3)).toBe(expected);
    }
    // TCP is not capped, but its OPT advertises the capped size too (bufsize rewrites the request).
    const tcp = responder.respond(buildQueryPacket(name, 'SRV', { edns: 65535 }), 'tcp');
    const whole = Buffer.isBuffer(tcp) ? tcp : Buffer.concat(tcp as Buffer[]);
    expect(decodeReply(whole).answer).toHaveLength(100);
    expect(whole.readUInt16BE(whole.length - 11 + 3)).toBe(1500);
    prepared.close();
    index.close();
  });
});
