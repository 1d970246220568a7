// The StatefulSets chapter of Kubernetes in Action, replayed with real kubectl
// against the API, with DNS checked after every step.

import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/cluster.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { hasKubectl, kubectlFor } from '../support/kubectl.js';

const KUBIA = 'kubia.default.svc.cluster.local';

async function srvTargets(cluster: StartedCluster): Promise<string[]> {
  try {
    return (await cluster.resolver().resolveSrv(KUBIA)).map((s) => s.name).sort();
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOTFOUND') return [];
    throw error;
  }
}

async function a(cluster: StartedCluster, name: string): Promise<string[] | 'NXDOMAIN'> {
  try {
    return (await cluster.resolver().resolve4(name)).sort();
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOTFOUND') return 'NXDOMAIN';
    throw error;
  }
}

const member = (i: number): string => `kubia-${i}.${KUBIA}`;

describe.runIf(hasKubectl)('the kubia scenario through kubectl', () => {
  let cluster: StartedCluster;
  let kubectl: (...args: string[]) => Promise<string>;
  beforeAll(async () => {
    cluster = await startCluster({});
    kubectl = kubectlFor(cluster.api.url);
  });
  afterAll(() => cluster.close());

  it('apply → two pods in SRV', async () => {
    expect(await kubectl('apply', '-f', KUBIA_EXAMPLE)).toMatch(/service\/kubia created\nstatefulset.apps\/kubia created/);
    expect(await srvTargets(cluster)).toEqual([member(0), member(1)]);
    // A set with volumeClaimTemplates is "configured" on every re-apply, as on a real
    // cluster (kubernetes/kubernetes#66450): the stored templates carry the API's
    // defaults (apiVersion, kind, status), so kubectl's patch replaces the list with
    // the file's, which the server defaults back to what it was: nothing changes.
    const before = cluster.store.get('StatefulSet', 'default', 'kubia')!.metadata.resourceVersion;
    expect(await kubectl('apply', '-f', KUBIA_EXAMPLE)).toMatch(/service\/kubia unchanged\nstatefulset.apps\/kubia configured/);
    expect(cluster.store.get('StatefulSet', 'default', 'kubia')!.metadata.resourceVersion).toBe(before);
  });

  it('get prints what a cluster prints', async () => {
    const pods = await kubectl('get', 'pods');
    expect(pods).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
    expect(pods).toMatch(/kubia-0\s+1\/1\s+Running\s+0\s+\d+s/);
    expect(await kubectl('get', 'pods', '-o', 'wide')).toMatch(/kubia-1\s+1\/1\s+Running\s+0\s+\d+s\s+127\.10\.0\.2\s+headless-dns/);
    expect(await kubectl('get', 'pod', 'kubia-0', '-o', 'yaml')).toMatch(/hostname: kubia-0\n[\s\S]*subdomain: kubia/);
    expect(await kubectl('get', 'sts')).toMatch(/kubia\s+2\/2/);
    expect(await kubectl('get', 'svc')).toMatch(/kubia\s+ClusterIP\s+None\s+<none>\s+80\/TCP/);
    expect(await kubectl('get', 'endpointslices')).toMatch(/kubia-\w+\s+IPv4\s+80\s+127\.10\.0\.1,127\.10\.0\.2/);
  });

  it('scale to 3 → kubia-2 appears', async () => {
    expect(await kubectl('scale', 'sts', 'kubia', '--replicas=3')).toContain('statefulset.apps/kubia scaled');
    expect(await srvTargets(cluster)).toEqual([member(0), member(1), member(2)]);
    expect(await a(cluster, member(2))).toEqual(['127.10.0.3']);
  });

  it('delete pod kubia-0 → same name, a new IP, and the PTR moves', async () => {
    const [before] = (await a(cluster, member(0))) as string[];
    expect(await kubectl('delete', 'pod', 'kubia-0')).toContain('pod "kubia-0" deleted');
    const after = await a(cluster, member(0));
    expect(after).toHaveLength(1);
    expect(after).not.toEqual([before]);
    await expect(cluster.resolver().reverse(before!)).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(await cluster.resolver().reverse((after as string[])[0]!)).toEqual([member(0)]);
  });

  it('readiness false → out of SRV, the headless set and its own name; back when true', async () => {
    const ready = (status: 'True' | 'False') =>
      kubectl('patch', 'pod', 'kubia-1', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { conditions: [{ type: 'Ready', status }] } }));
    expect(await ready('False')).toContain('pod/kubia-1 patched');
    expect(await srvTargets(cluster)).toEqual([member(0), member(2)]);
    expect(await a(cluster, KUBIA)).toHaveLength(2);
    expect(await a(cluster, member(1))).toBe('NXDOMAIN');
    expect(await kubectl('get', 'pods')).toMatch(/kubia-1\s+0\/1\s+Running/);
    await ready('True');
    expect(await srvTargets(cluster)).toEqual([member(0), member(1), member(2)]);

    // With publishNotReadyAddresses an unready member stays in DNS.
    await kubectl('patch', 'svc', 'kubia', '--type=merge', '-p', '{"spec":{"publishNotReadyAddresses":true}}');
    await ready('False');
    expect(await srvTargets(cluster)).toEqual([member(0), member(1), member(2)]);
    expect(await a(cluster, member(1))).toHaveLength(1);
    await kubectl('patch', 'svc', 'kubia', '--type=merge', '-p', '{"spec":{"publishNotReadyAddresses":false}}');
    expect(await a(cluster, member(1))).toBe('NXDOMAIN');
    await ready('True');
  });

  it('scale to 1 → kubia-1 and kubia-2 NXDOMAIN', async () => {
    await kubectl('scale', 'sts', 'kubia', '--replicas=1');
    expect(await srvTargets(cluster)).toEqual([member(0)]);
    expect(await a(cluster, member(1))).toBe('NXDOMAIN');
    expect(await a(cluster, member(2))).toBe('NXDOMAIN');
  });

  it('delete -f removes everything, and DNS with it', async () => {
    expect(await kubectl('delete', '-f', KUBIA_EXAMPLE)).toMatch(/service "kubia" deleted\nstatefulset.apps "kubia" deleted/);
    expect(await srvTargets(cluster)).toEqual([]);
    expect(await a(cluster, member(0))).toBe('NXDOMAIN');
    expect(cluster.store.list('Pod')).toEqual([]);
  });

  it('Status errors reach kubectl as a cluster would word them', async () => {
    await expect(kubectl('get', 'pod', 'nope')).rejects.toMatchObject({ stderr: expect.stringContaining('Error from server (NotFound): pods "nope" not found') });
    await expect(kubectl('scale', 'sts', 'nope', '--replicas=1')).rejects.toMatchObject({ stderr: expect.stringContaining('statefulsets.apps "nope" not found') });
    await expect(kubectl('scale', 'sts', 'kubia', '--replicas=-1')).rejects.toMatchObject({ stderr: expect.stringContaining('--replicas=COUNT') });
  });
});

describe.runIf(hasKubectl)('OrderedReady with --start-unready', () => {
  let cluster: StartedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ startUnready: true });
  });
  afterAll(() => cluster.close());

  it('stops at kubia-0 until it is made ready', async () => {
    const kubectl = kubectlFor(cluster.api.url);
    await kubectl('apply', '-f', KUBIA_EXAMPLE);
    expect(await kubectl('get', 'pods', '-o', 'name')).toBe('pod/kubia-0\n');
    expect(await srvTargets(cluster)).toEqual([]);
    await kubectl('patch', 'pod', 'kubia-0', '--subresource=status', '--type=merge', '-p', '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}');
    expect(await kubectl('get', 'pods', '-o', 'name')).toBe('pod/kubia-0\npod/kubia-1\n');
    expect(await srvTargets(cluster)).toEqual([member(0)]);
  });
});

describe.runIf(hasKubectl)('watch', () => {
  let cluster: StartedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ kubeconfig: join(mkdtempSync(join(tmpdir(), 'hdns-kc-')), 'config') });
  });
  afterAll(() => cluster.close());

  it('a raw watch and kubectl get pods -w see every event in order, with increasing resourceVersions', async () => {
    const kubectl = kubectlFor(cluster.api.url);
    const raw = await fetch(`${cluster.api.url}/api/v1/namespaces/default/pods?watch=true&resourceVersion=${cluster.store.currentResourceVersion}`);
    const reader = raw.body!.getReader();
    const events: { type: string; object: { metadata: { name: string; resourceVersion: string; uid: string } } }[] = [];
    let buffered = '';
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffered += Buffer.from(value).toString('utf8');
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buffered.slice(0, newline)));
          buffered = buffered.slice(newline + 1);
        }
      }
    })();
    const watcher = spawn('kubectl', ['--kubeconfig', cluster.options.kubeconfig!, '--cache-dir', mkdtempSync(join(tmpdir(), 'hdns-kc-')), 'get', 'pods', '-w', '--output-watch-events']);
    let watched = '';
    watcher.stdout.on('data', (d) => (watched += d));
    await new Promise((resolve) => setTimeout(resolve, 400));

    await kubectl('apply', '-f', KUBIA_EXAMPLE);
    await kubectl('delete', 'pod', 'kubia-0');
    await kubectl('scale', 'sts', 'kubia', '--replicas=1');
    await new Promise((resolve) => setTimeout(resolve, 400));
    watcher.kill();
    await cluster.close();
    await reading;

    const summary = events.map((e) => `${e.type} ${e.object.metadata.name}`);
    expect(summary[0]).toBe('ADDED kubia-0');
    expect(summary).toContain('DELETED kubia-1');
    expect(summary.filter((s) => s === 'DELETED kubia-0')).toHaveLength(1);
    expect(summary.filter((s) => s === 'ADDED kubia-0')).toHaveLength(2);
    const versions = events.map((e) => Number(e.object.metadata.resourceVersion));
    expect(versions).toEqual([...versions].sort((x, y) => x - y));
    expect(new Set(versions).size).toBe(versions.length);
    // Two kubia-0 pods existed one after the other, never together.
    const uids = [...new Set(events.filter((e) => e.object.metadata.name === 'kubia-0').map((e) => e.object.metadata.uid))];
    expect(uids).toHaveLength(2);

    expect(watched).toMatch(/EVENT\s+NAME\s+READY\s+STATUS/);
    expect(watched).toMatch(/ADDED\s+kubia-0/);
    expect(watched).toMatch(/DELETED\s+kubia-0/);
    expect(watched).toMatch(/DELETED\s+kubia-1/);
  });
});

describe.runIf(hasKubectl)('kubectl details', () => {
  let cluster: StartedCluster;
  let kubectl: (...args: string[]) => Promise<string>;
  beforeAll(async () => {
    cluster = await startCluster({ manifests: [KUBIA_EXAMPLE] });
    kubectl = kubectlFor(cluster.api.url);
  });
  afterAll(() => cluster.close());

  it('manifests served with -f look kubectl-applied: re-applying them changes nothing and warns nothing', async () => {
    const { execFile } = await import('node:child_process');
    const before = cluster.store.get('StatefulSet', 'default', 'kubia')!.metadata.resourceVersion;
    const result = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile('kubectl', ['--server', cluster.api.url, '--cache-dir', mkdtempSync(join(tmpdir(), 'hdns-kc-')), 'apply', '-f', KUBIA_EXAMPLE], (error, stdout, stderr) =>
        error ? reject(error) : resolve({ stdout, stderr }),
      ),
    );
    // "configured", as a real cluster answers a set with volumeClaimTemplates (see above), yet unchanged.
    expect(result.stdout).toBe('service/kubia unchanged\nstatefulset.apps/kubia configured\n');
    expect(result.stderr).toBe('');
    expect(cluster.store.get('StatefulSet', 'default', 'kubia')!.metadata.resourceVersion).toBe(before);
  });

  it('an invalid apply is refused with the cluster wording and changes nothing', async () => {
    const before = JSON.stringify(cluster.store.all());
    const file = join(mkdtempSync(join(tmpdir(), 'hdns-bad-')), 'sts.yaml');
    const { writeFileSync, readFileSync } = await import('node:fs');
    writeFileSync(file, readFileSync(join(KUBIA_EXAMPLE, 'kubia-statefulset.yaml'), 'utf8').replace('replicas: 2', 'replicas: -1'));
    await expect(kubectl('apply', '-f', file)).rejects.toMatchObject({
      stderr: expect.stringContaining('The StatefulSet "kubia" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0'),
    });
    expect(JSON.stringify(cluster.store.all())).toBe(before);
  });

  it('scale with preconditions, patches that change nothing, sorting across namespaces', async () => {
    expect(await kubectl('scale', 'sts', 'kubia', '--current-replicas=2', '--replicas=3')).toContain('scaled');
    const patch = ['patch', 'pod', 'kubia-2', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running"}}'];
    expect(await kubectl(...patch)).toBe('pod/kubia-2 patched (no change)\n');
    expect(await kubectl('get', 'pods', '-A', '--sort-by=.status.podIP')).toMatch(/^NAMESPACE\s+NAME[\s\S]*default\s+kubia-0[\s\S]*kubia-1[\s\S]*kubia-2/);
  });

  it('imperative commands: create namespace (protobuf), run, expose, label, delete namespace', async () => {
    expect(await kubectl('create', 'namespace', 'shop')).toBe('namespace/shop created\n');
    await kubectl('label', 'namespace', 'shop', 'team=a');
    expect(await kubectl('get', 'ns', '--show-labels')).toMatch(/shop\s+Active\s+\d+s\s+team=a/);
    await kubectl('-n', 'shop', 'run', 'web', '--image=nginx', '--port=80');
    await kubectl('-n', 'shop', 'expose', 'pod', 'web', '--port=80', '--name=web');
    expect(await cluster.resolver().resolveSrv('web.shop.svc.cluster.local')).toEqual([{ name: 'web.shop.svc.cluster.local', port: 80, priority: 0, weight: 100 }]);
    const podIp = cluster.store.get('Pod', 'shop', 'web')!.status!.podIP!;
    expect(await cluster.resolver().resolve4(`${podIp.replaceAll('.', '-')}.web.shop.svc.cluster.local`)).toEqual([podIp]);
    await expect(kubectl('create', 'service', 'clusterip', 'x', '--tcp=80')).rejects.toMatchObject({ stderr: expect.stringContaining('protobuf bodies are read for Namespaces only') });
    await kubectl('delete', 'namespace', 'shop');
    await expect(cluster.resolver().resolve4('web.shop.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('/metrics counts DNS queries, objects and events', async () => {
    await cluster.resolver().resolveSrv(KUBIA);
    await cluster.resolver().resolve4(`nope.${KUBIA}`).catch(() => undefined);
    const text = await (await fetch(`${cluster.api.url}/metrics`)).text();
    expect(text).toMatch(/headless_dns_dns_queries_total\{transport="udp",qtype="SRV",rcode="NOERROR"\} [1-9]/);
    expect(text).toMatch(/headless_dns_dns_queries_total\{transport="udp",qtype="A",rcode="NXDOMAIN"\} [1-9]/);
    expect(text).toMatch(/headless_dns_dns_answer_seconds_count [1-9]/);
    expect(text).toContain('headless_dns_objects{kind="Pod"} 3');
    expect(text).toMatch(/headless_dns_store_events_total\{kind="Pod",type="ADDED"\} [1-9]/);
    expect(await (await fetch(`${cluster.api.url}/readyz`)).text()).toBe('ok');
  });
});
