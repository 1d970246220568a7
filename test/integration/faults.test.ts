// DNS faults (issue 16 item 2) through real clients: Node's Resolver with its
// timeout and tries, dig (retrying over TCP when truncated), and the API.
// Faults change replies, never the registry.

import { promises as dns } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type StartedCluster } from '../../src/index.js';
import { dig, hasDig } from '../support/dig.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';

let cluster: StartedCluster;
const KUBIA0 = 'kubia-0.kubia.default.svc.cluster.local';
const KUBIA1 = 'kubia-1.kubia.default.svc.cluster.local';

beforeAll(async () => {
  cluster = await startCluster({ manifests: [KUBIA_EXAMPLE], queryLog: true });
});
afterAll(() => cluster?.close());

const resolver = (timeout: number, tries: number): dns.Resolver => {
  const r = new dns.Resolver({ timeout, tries });
  r.setServers([cluster.dnsServer]);
  return r;
};

describe('faults from the fixture', () => {
  it('rcode: SERVFAIL for one name and type; other types and names as before; remove() ends it; the registry is untouched', async () => {
    const before = cluster.get('Pod', 'kubia-0')!.metadata.resourceVersion;
    const fault = cluster.faults.add({ name: KUBIA0, type: 'A', rcode: 'SERVFAIL' });
    await expect(resolver(1000, 1).resolve4(KUBIA0)).rejects.toMatchObject({ code: 'ESERVFAIL' });
    await expect(resolver(1000, 1).resolve6(KUBIA0)).rejects.toMatchObject({ code: 'ENODATA' });
    expect(await resolver(1000, 1).resolve4(KUBIA1)).toHaveLength(1);
    expect(cluster.faults.list()).toEqual([expect.objectContaining({ id: fault.id, hits: 1 })]);
    fault.remove();
    expect(await resolver(1000, 1).resolve4(KUBIA0)).toHaveLength(1);
    expect(cluster.get('Pod', 'kubia-0')!.metadata.resourceVersion).toBe(before);
  });

  it('delay: a client with a shorter timeout times out; a patient one gets the answer late', async () => {
    const fault = cluster.faults.add({ name: KUBIA1, delay: 400 });
    await expect(resolver(150, 1).resolve4(KUBIA1)).rejects.toMatchObject({ code: 'ETIMEOUT' });
    const started = Date.now();
    expect(await resolver(2000, 1).resolve4(KUBIA1)).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
    fault.remove();
  });

  it('drop once: the Resolver\'s second try is answered', async () => {
    cluster.faults.add({ name: KUBIA1, drop: 1, count: 1 });
    expect(await resolver(300, 2).resolve4(KUBIA1)).toHaveLength(1);
    // count reached: the rule is gone.
    expect(cluster.faults.list()).toEqual([]);
  });

  it('a glob matches names below it, not the name itself', async () => {
    const fault = cluster.faults.add({ name: '*.kubia.default.svc.cluster.local', rcode: 'NXDOMAIN' });
    await expect(resolver(1000, 1).resolve4(KUBIA1)).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(await resolver(1000, 1).resolve4('kubia.default.svc.cluster.local')).toHaveLength(2);
    fault.remove();
  });

  it('a bad rule is refused, naming the field', () => {
    expect(() => cluster.faults.add({ name: KUBIA0, rcode: 'BROKEN' as never })).toThrow(/rcode: Unsupported value: "BROKEN"/);
    expect(() => cluster.faults.add({ name: KUBIA0 })).toThrow(/needs an effect/);
    expect(cluster.faults.list()).toEqual([]);
  });

  it('stale: answers with the membership of N seconds ago; the registry and other names stay current', async () => {
    const srv = 'kubia.default.svc.cluster.local';
    const members = async (): Promise<string[]> => (await resolver(1000, 1).resolveSrv(srv)).map((r) => r.name).sort();
    // History is to the second: the scale must come a second after the set was made.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    cluster.scale('kubia', 3);
    await cluster.waitForReadyMembers('kubia', 3);
    expect(await members()).toHaveLength(3);
    const fault = cluster.faults.add({ name: srv, stale: 1 });
    expect(await members()).toEqual([KUBIA0, KUBIA1]);
    expect(await resolver(1000, 1).resolve4(srv)).toHaveLength(2);
    // A member's own name is not under the rule: it answers as now.
    expect(await resolver(1000, 1).resolve4('kubia-2.kubia.default.svc.cluster.local')).toHaveLength(1);
    expect(cluster.get('StatefulSet', 'kubia')!.spec!.replicas).toBe(3);
    // The query log names the rule that changed the answer.
    expect(cluster.queries({ name: srv, type: 'SRV' }).at(-1)).toMatchObject({ fault: fault.id, answers: 2 });
    fault.remove();
    expect(await members()).toHaveLength(3);
    expect(cluster.queries({ name: srv, type: 'SRV' }).at(-1)).toMatchObject({ fault: null, answers: 3 });
    cluster.scale('kubia', 2);
    expect(() => cluster.faults.add({ name: srv, stale: 601 })).toThrow(/stale: Invalid value: 601/);
    expect(() => cluster.faults.add({ name: srv, stale: 5, rcode: 'SERVFAIL' })).toThrow(/stale: an answer as of the past/);
  });

  it('a rule switched off matches nothing and stays listed; switched on, it applies again', async () => {
    const fault = cluster.faults.add({ name: KUBIA0, type: 'A', rcode: 'REFUSED' });
    await expect(resolver(1000, 1).resolve4(KUBIA0)).rejects.toMatchObject({ code: 'EREFUSED' });
    expect(cluster.faults.setEnabled(fault.id, false)).toBe(true);
    expect(await resolver(1000, 1).resolve4(KUBIA0)).toHaveLength(1);
    expect(cluster.faults.list()).toEqual([expect.objectContaining({ id: fault.id, enabled: false, hits: 1 })]);
    cluster.faults.setEnabled(fault.id, true);
    await expect(resolver(1000, 1).resolve4(KUBIA0)).rejects.toMatchObject({ code: 'EREFUSED' });
    expect(cluster.faults.setEnabled('fault-999', true)).toBe(false);
    fault.remove();
  });

  it('reset() removes every rule', () => {
    cluster.faults.add({ name: KUBIA0, rcode: 'REFUSED' });
    cluster.reset();
    expect(cluster.faults.list()).toEqual([]);
  });
});

describe.runIf(hasDig)('faults seen by dig, and through the API', () => {
  it('truncate: dig retries over TCP and gets the answer', async () => {
    const fault = cluster.faults.add({ name: 'kubia.default.svc.cluster.local', type: 'SRV', truncate: true });
    const answer = await dig(cluster.dns.port, 'kubia.default.svc.cluster.local', 'SRV');
    expect(answer.raw).toContain('Truncated, retrying in TCP mode');
    expect(answer.answer).toHaveLength(2);
    fault.remove();
  });

  it('tcpClose: a TCP query gets no answer', async () => {
    const fault = cluster.faults.add({ name: KUBIA0, tcpClose: true });
    const answer = await dig(cluster.dns.port, KUBIA0, 'A', ['+tcp']).catch((error: { stdout?: string }) => ({ rcode: '', answer: [], raw: error.stdout ?? '' }));
    expect(answer.answer).toEqual([]);
    // Over UDP the rule does not apply.
    expect((await dig(cluster.dns.port, KUBIA0, 'A')).answer).toHaveLength(1);
    fault.remove();
  });

  it('POST /debug/faults adds a rule dig sees; GET lists it with its hits; DELETE removes it', async () => {
    const posted = await fetch(`${cluster.api.url}/debug/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: KUBIA0, type: 'A', rcode: 'SERVFAIL' }) });
    expect(posted.status).toBe(201);
    const rule = (await posted.json()) as { id: string };
    expect((await dig(cluster.dns.port, KUBIA0, 'A')).rcode).toBe('SERVFAIL');
    const listed = (await (await fetch(`${cluster.api.url}/debug/faults`)).json()) as { items: { id: string; hits: number }[] };
    expect(listed.items).toEqual([expect.objectContaining({ id: rule.id, hits: 1 })]);
    expect((await fetch(`${cluster.api.url}/debug/faults/${rule.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await dig(cluster.dns.port, KUBIA0, 'A')).rcode).toBe('NOERROR');
    const bad = await fetch(`${cluster.api.url}/debug/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: KUBIA0, drop: 2 }) });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { message: string }).message).toContain('drop: Invalid value: 2');
    expect((await fetch(`${cluster.api.url}/debug/faults/nope`, { method: 'DELETE' })).status).toBe(404);
  });

  it('metrics show each rule\'s hits and the queries each effect changed; PATCH switches a rule off', async () => {
    const metric = async (pattern: RegExp): Promise<number> => Number(pattern.exec(await (await fetch(`${cluster.api.url}/metrics`)).text())?.[1] ?? NaN);
    const rcodesBefore = await metric(/^headless_dns_dns_faults_applied_total\{effect="rcode"\} (\d+)$/m);
    const rule = cluster.faults.add({ name: KUBIA1, type: 'A', rcode: 'SERVFAIL' });
    await dig(cluster.dns.port, KUBIA1, 'A');
    await dig(cluster.dns.port, KUBIA1, 'A', ['+tcp']);
    expect(await metric(new RegExp(`^headless_dns_dns_fault_hits\\{id="${rule.id}",name="${KUBIA1.replaceAll('.', '\\.')}",type="A"\\} (\\d+)$`, 'm'))).toBe(2);
    expect(await metric(/^headless_dns_dns_faults_applied_total\{effect="rcode"\} (\d+)$/m)).toBe(rcodesBefore + 2);
    const patch = (body: string): Promise<Response> => fetch(`${cluster.api.url}/debug/faults/${rule.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body });
    const off = await patch('{"enabled": false}');
    expect(off.status).toBe(200);
    expect(await off.json()).toMatchObject({ id: rule.id, enabled: false });
    expect((await dig(cluster.dns.port, KUBIA1, 'A')).rcode).toBe('NOERROR');
    expect((await patch('{"enabled": "no"}')).status).toBe(422);
    expect((await fetch(`${cluster.api.url}/debug/faults/fault-999`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"enabled": true}' })).status).toBe(404);
    rule.remove();
  });
});

describe('faults for the register preload and for a whole serve run', () => {
  it('an app with the preload sees the fault in dns.lookup', async () => {
    const { execFile } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const register = fileURLToPath(new URL('../../dist/register.js', import.meta.url));
    const fault = cluster.faults.add({ name: KUBIA0, type: 'A', rcode: 'SERVFAIL' });
    const out = await new Promise<string>((resolve) =>
      execFile(process.execPath, ['--import', register, '-e', `require('node:dns').lookup('${KUBIA0}', { family: 4 }, (e, a) => console.log(e ? e.code : a))`], { env: { ...process.env, HEADLESS_DNS: cluster.dnsServer } }, (_error, stdout) => resolve(stdout.trim())),
    );
    fault.remove();
    expect(out).toBe('ESERVFAIL');
  });

  it.runIf(hasDig)('serve --fault applies for the whole run; a rule that is not JSON is refused', async () => {
    const { startServe, refusedServe } = await import('../support/serve.js');
    const served = await startServe(['--fault', JSON.stringify({ name: KUBIA0, type: 'A', rcode: 'REFUSED' })]);
    try {
      const port = Number(/ready dns=127\.0\.0\.1:(\d+)/.exec(served.stdout())![1]);
      expect((await dig(port, KUBIA0, 'A')).rcode).toBe('REFUSED');
      expect((await dig(port, KUBIA1, 'A')).rcode).toBe('NOERROR');
    } finally {
      await served.stop();
    }
    const refused = await refusedServe(['--fault', '{nope']);
    expect(refused.stderr).toContain('--fault must be a JSON rule');
  });
});
