// Server-side printing through real kubectl: `kubectl get KIND NAME` must print
// the same columns as `kubectl get KIND` (the API server answers a one-row
// Table for a single object too), and each kind's columns and cells must be
// the API server's printers' (pkg/printers/internalversion/printers.go).

import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/cluster.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { hasKubectl } from '../support/kubectl.js';

const execFileAsync = promisify(execFile);

/** kubectl's table output as header cells and rows of cells (columns are two or more spaces apart). */
function parseTable(output: string): { header: string[]; rows: string[][] } {
  const [header = '', ...rows] = output.trimEnd().split('\n');
  return { header: header.trim().split(/\s{2,}/), rows: rows.map((row) => row.trim().split(/\s{2,}/)) };
}

/** The cells of a row but AGE, which may tick between two commands. */
function withoutAge(table: { header: string[] }, row: string[] | undefined): string[] {
  const at = table.header.indexOf('AGE');
  return (row ?? []).filter((_, i) => i !== at);
}

const AGE = /^\d+s$/;

describe.runIf(hasKubectl)('kubectl get prints what a cluster prints', () => {
  let cluster: StartedCluster;
  let kubectl: (...args: string[]) => Promise<string>;
  let slice: string;

  beforeAll(async () => {
    cluster = await startCluster({ manifests: [KUBIA_EXAMPLE] });
    const cache = mkdtempSync(join(tmpdir(), 'hdns-kubectl-'));
    kubectl = async (...args) =>
      (await execFileAsync('kubectl', ['--server', cluster.api.url, '--cache-dir', cache, ...args], { env: { ...process.env, KUBECONFIG: '/dev/null' } })).stdout;
    const dir = mkdtempSync(join(tmpdir(), 'hdns-tables-'));
    // A ClusterIP Service with two ports and a two-label selector (printed sorted by key), selecting no pod.
    const extra = [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { tier: 'front', app: 'web' }, ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] } },
      { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'held' }, spec: { holderIdentity: 'kubia-0' } },
      { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'free' }, spec: {} },
    ];
    writeFileSync(join(dir, 'extra.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: extra }));
    await kubectl('create', '-f', join(dir, 'extra.json'));
    slice = cluster.list('EndpointSlice', { labelSelector: 'kubernetes.io/service-name=kubia' })[0]!.metadata.name;
  });
  afterAll(() => cluster?.close());

  // Each resource: the list and one object of it print the same header, and that object's row alike.
  const cases: [string, string, string[]][] = [
    ['pods', 'kubia-1', ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']],
    ['statefulsets', 'kubia', ['NAME', 'READY', 'AGE']],
    ['services', 'kubia', ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']],
    ['namespaces', 'default', ['NAME', 'STATUS', 'AGE']],
    ['leases', 'held', ['NAME', 'HOLDER', 'AGE']],
  ];
  it.each(cases)('get %s and get %s NAME print the same columns', async (resource, name, header) => {
    const list = parseTable(await kubectl('get', resource));
    const one = parseTable(await kubectl('get', resource, name));
    expect(list.header).toEqual(header);
    expect(one.header).toEqual(header);
    expect(one.rows).toHaveLength(1);
    expect(withoutAge(one, one.rows[0])).toEqual(withoutAge(list, list.rows.find((row) => row[0] === name)));
  });

  it('get pod kubia-1, and -o wide', async () => {
    const one = parseTable(await kubectl('get', 'pod', 'kubia-1'));
    expect(one.rows[0]).toEqual(['kubia-1', '1/1', 'Running', '0', expect.stringMatching(AGE)]);
    const wide = parseTable(await kubectl('get', 'pod', 'kubia-1', '-o', 'wide'));
    expect(wide.header).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    expect(wide.rows[0]).toEqual(['kubia-1', '1/1', 'Running', '0', expect.stringMatching(AGE), '127.10.0.2', 'headless-dns', '<none>', '<none>']);
    const listed = parseTable(await kubectl('get', 'pods', '-o', 'wide'));
    expect(listed.header).toEqual(wide.header);
    expect(withoutAge(listed, listed.rows.find((row) => row[0] === 'kubia-1'))).toEqual(withoutAge(wide, wide.rows[0]));
  });

  it('a restarted container shows when: RESTARTS "2 (90s ago)"', async () => {
    const finishedAt = new Date(Date.now() - 90_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const status = { containerStatuses: [{ name: 'kubia', image: 'luksa/kubia-pet', ready: true, restartCount: 2, state: { running: {} }, lastState: { terminated: { exitCode: 1, finishedAt } } }] };
    await kubectl('patch', 'pod', 'kubia-0', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status }));
    expect(parseTable(await kubectl('get', 'pod', 'kubia-0')).rows[0]).toEqual(['kubia-0', '1/1', 'Running', expect.stringMatching(/^2 \(9\ds ago\)$/), expect.stringMatching(AGE)]);
  });

  it('get sts kubia, and -o wide', async () => {
    expect(parseTable(await kubectl('get', 'sts', 'kubia')).rows).toEqual([['kubia', '2/2', expect.stringMatching(AGE)]]);
    const wide = parseTable(await kubectl('get', 'sts', 'kubia', '-o', 'wide'));
    expect(wide.header).toEqual(['NAME', 'READY', 'AGE', 'CONTAINERS', 'IMAGES']);
    expect(wide.rows).toEqual([['kubia', '2/2', expect.stringMatching(AGE), 'kubia', 'luksa/kubia-pet']]);
  });

  it('get svc: headless and ClusterIP, ports as 80/TCP, the selector sorted in -o wide', async () => {
    expect(parseTable(await kubectl('get', 'svc', 'kubia')).rows).toEqual([['kubia', 'ClusterIP', 'None', '<none>', '80/TCP', expect.stringMatching(AGE)]]);
    const wide = parseTable(await kubectl('get', 'svc', 'web', '-o', 'wide'));
    expect(wide.header).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR']);
    const [row] = wide.rows;
    expect(row).toEqual(['web', 'ClusterIP', cluster.get('Service', 'web')!.spec.clusterIP, '<none>', '80/TCP,53/UDP', expect.stringMatching(AGE), 'app=web,tier=front']);
  });

  it('get endpointslices, and one of them', async () => {
    const list = parseTable(await kubectl('get', 'endpointslices'));
    expect(list.header).toEqual(['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE']);
    const one = parseTable(await kubectl('get', 'endpointslice', slice));
    expect(one.header).toEqual(list.header);
    expect(one.rows).toEqual([[slice, 'IPv4', '80', '127.10.0.1,127.10.0.2', expect.stringMatching(AGE)]]);
    expect(withoutAge(list, list.rows.find((row) => row[0] === slice))).toEqual(withoutAge(one, one.rows[0]));
  });

  it('endpoints past three are summed up as "+ N more...", none as <unset>', async () => {
    const endpoints = async (): Promise<string | undefined> => {
      const name = cluster.list('EndpointSlice', { labelSelector: 'kubernetes.io/service-name=kubia' })[0]!.metadata.name;
      return parseTable(await kubectl('get', 'endpointslice', name)).rows[0]?.[3];
    };
    await kubectl('scale', 'sts', 'kubia', '--replicas=5');
    expect(await endpoints()).toBe('127.10.0.1,127.10.0.2,127.10.0.3 + 2 more...');
    await kubectl('scale', 'sts', 'kubia', '--replicas=0');
    expect(await endpoints()).toBe('<unset>');
    await kubectl('scale', 'sts', 'kubia', '--replicas=2');
  });

  it('get ns default', async () => {
    expect(parseTable(await kubectl('get', 'ns', 'default')).rows).toEqual([['default', 'Active', expect.stringMatching(AGE)]]);
  });

  it('get lease: the holder, or an empty cell when nobody holds it', async () => {
    expect(parseTable(await kubectl('get', 'lease', 'held')).rows).toEqual([['held', 'kubia-0', expect.stringMatching(AGE)]]);
    // An empty cell leaves only the gap between NAME and AGE.
    expect(parseTable(await kubectl('get', 'lease', 'free')).rows).toEqual([['free', expect.stringMatching(AGE)]]);
  });

  it('the raw answer: a one-row Table with the list columns and the object resourceVersion', async () => {
    const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
    const get = async (path: string): Promise<{ kind: string; metadata: { resourceVersion: string }; columnDefinitions: unknown[]; rows: { cells: unknown[]; object: { metadata: { name: string } } }[] }> =>
      (await fetch(`${cluster.api.url}${path}`, { headers: { accept } })).json() as never;
    const list = await get('/api/v1/namespaces/default/pods');
    const one = await get('/api/v1/namespaces/default/pods/kubia-0');
    expect(one.kind).toBe('Table');
    expect(one.columnDefinitions).toEqual(list.columnDefinitions);
    expect(one.rows).toHaveLength(1);
    expect(one.rows[0]!.object.metadata.name).toBe('kubia-0');
    expect(one.metadata.resourceVersion).toBe(cluster.get('Pod', 'kubia-0')!.metadata.resourceVersion);
    // Without the Table media type the object itself, as before.
    expect(((await (await fetch(`${cluster.api.url}/api/v1/namespaces/default/pods/kubia-0`)).json()) as { kind: string }).kind).toBe('Pod');
  });
});
