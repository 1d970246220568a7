// Server-side dry run (dryRun=All) through real kubectl: delete, apply, create,
// scale and diff with --dry-run=server must answer what the write would do and
// change nothing: not the store, not DNS, not a watch, not the state journal,
// not the cluster IP allocator.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ClusterEvent, type StartedCluster, startCluster } from '../../src/cluster.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { hasKubectl } from '../support/kubectl.js';

const execFileAsync = promisify(execFile);
const KUBIA = 'kubia.default.svc.cluster.local';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe.runIf(hasKubectl)('server-side dry run through kubectl', () => {
  let cluster: StartedCluster;
  let dir: string;
  let state: string;
  let kubectl: (...args: string[]) => Promise<Run>;
  let events: ClusterEvent[] = [];
  let startVersion: string;
  // The kubia manifests with 4 replicas instead of 2 (what apply and diff are given).
  let scaledManifest: string;
  const web = (name: string): string => JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80 }] } });

  const srv = async (): Promise<string[]> => (await cluster.resolver().resolveSrv(KUBIA)).map((s) => s.name).sort();
  const pods = (): string[] => cluster.list('Pod').map((p) => p.metadata.name).sort();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hdns-dry-run-'));
    state = join(dir, 'state.jsonl');
    cluster = await startCluster({ state });
    const cache = mkdtempSync(join(tmpdir(), 'hdns-kubectl-'));
    kubectl = async (...args) => {
      try {
        const { stdout, stderr } = await execFileAsync('kubectl', ['--server', cluster.api.url, '--cache-dir', cache, ...args], { env: { ...process.env, KUBECONFIG: '/dev/null' } });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const failed = error as { code?: number; stdout?: string; stderr?: string };
        return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
      }
    };
    // Applied by kubectl, so apply and diff have a last-applied configuration to patch from.
    const applied = await kubectl('apply', '-f', KUBIA_EXAMPLE);
    expect(applied, applied.stderr).toMatchObject({ code: 0 });
    expect(applied.stdout).toContain('statefulset.apps/kubia created');
    scaledManifest = join(dir, 'kubia-statefulset.yaml');
    writeFileSync(scaledManifest, readFileSync(join(KUBIA_EXAMPLE, 'kubia-statefulset.yaml'), 'utf8').replace('replicas: 2', 'replicas: 4'));
    writeFileSync(join(dir, 'web.json'), web('web'));
    cluster.onEvent((event) => events.push(event));
    startVersion = cluster.store.currentResourceVersion;
  });
  afterAll(() => cluster?.close());

  beforeEach(() => {
    events = [];
  });

  /** What every dry run must leave as it was. */
  async function expectUnchanged(): Promise<void> {
    expect(events).toEqual([]);
    expect(cluster.store.currentResourceVersion).toBe(startVersion);
    expect(pods()).toEqual(['kubia-0', 'kubia-1']);
    expect(cluster.get('StatefulSet', 'kubia')?.spec.replicas).toBe(2);
    expect(await srv()).toEqual([`kubia-0.${KUBIA}`, `kubia-1.${KUBIA}`]);
  }

  it('delete sts --dry-run=server reports the delete and deletes nothing (no cascade to the pods)', async () => {
    const run = await kubectl('delete', 'sts', 'kubia', '--dry-run=server');
    expect(run).toMatchObject({ code: 0, stdout: 'statefulset.apps "kubia" deleted (server dry run)\n' });
    expect((await kubectl('get', 'sts', 'kubia', '-o', 'name')).stdout).toBe('statefulset.apps/kubia\n');
    await expectUnchanged();
  });

  it('delete pod --dry-run=server with a grace period answers it terminating and leaves it running', async () => {
    const run = await kubectl('delete', 'pod', 'kubia-0', '--dry-run=server', '--grace-period=30');
    expect(run).toMatchObject({ code: 0, stdout: 'pod "kubia-0" deleted (server dry run)\n' });
    expect(cluster.get('Pod', 'kubia-0')?.metadata.deletionTimestamp).toBeUndefined();
    // The answer itself, as the DELETE returns it: marked terminating, same resourceVersion.
    const before = cluster.get('Pod', 'kubia-0')!;
    const response = await fetch(`${cluster.api.url}/api/v1/namespaces/default/pods/kubia-0`, {
      method: 'DELETE',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 30, dryRun: ['All'] }),
    });
    expect(response.status).toBe(200);
    const answered = (await response.json()) as { metadata: { deletionTimestamp?: string; deletionGracePeriodSeconds?: number; resourceVersion?: string } };
    expect(answered.metadata.deletionTimestamp).toBeDefined();
    expect(answered.metadata.deletionGracePeriodSeconds).toBe(30);
    expect(answered.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    await expectUnchanged();
  });

  it('apply --dry-run=server answers the changed object and changes nothing', async () => {
    const run = await kubectl('apply', '--dry-run=server', '-f', scaledManifest);
    expect(run).toMatchObject({ code: 0, stdout: 'statefulset.apps/kubia configured (server dry run)\n' });
    // The answer is the object as the write would leave it.
    expect((await kubectl('apply', '--dry-run=server', '-f', scaledManifest, '-o', 'jsonpath={.spec.replicas} {.metadata.generation}')).stdout).toBe('4 2');
    await expectUnchanged();
  });

  it('create --dry-run=server answers the object as stored (uid, no resourceVersion) and creates nothing', async () => {
    const run = await kubectl('create', '--dry-run=server', '-f', join(dir, 'web.json'), '-o', 'json');
    expect(run.code).toBe(0);
    const answered = JSON.parse(run.stdout) as { metadata: Record<string, unknown>; spec: { clusterIP?: string; type?: string } };
    expect(answered.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(answered.metadata.creationTimestamp).toBeDefined();
    expect(answered.metadata.resourceVersion).toBeUndefined();
    expect(answered.spec.clusterIP).toBeDefined();
    expect((await kubectl('create', '--dry-run=server', '-f', join(dir, 'web.json'))).stdout).toBe('service/web created (server dry run)\n');
    expect(cluster.get('Service', 'web')).toBeUndefined();
    expect((await kubectl('get', 'svc', 'web')).stderr).toContain('services "web" not found');
    await expectUnchanged();
  });

  it('create --dry-run=server runs the checks a create runs: an existing object is refused', async () => {
    const run = await kubectl('create', '--dry-run=server', '-f', KUBIA_EXAMPLE);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('services "kubia" already exists');
    expect(run.stderr).toContain('statefulsets.apps "kubia" already exists');
    await expectUnchanged();
  });

  it('scale --dry-run=server reports the scale and scales nothing', async () => {
    const run = await kubectl('scale', 'sts', 'kubia', '--replicas=5', '--dry-run=server');
    expect(run).toMatchObject({ code: 0, stdout: 'statefulset.apps/kubia scaled (server dry run)\n' });
    await expectUnchanged();
  });

  it('kubectl diff shows replicas 2 → 4 (exit 1) and changes nothing', async () => {
    const run = await kubectl('diff', '-f', scaledManifest);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^-\s+replicas: 2$/m);
    expect(run.stdout).toMatch(/^\+\s+replicas: 4$/m);
    await expectUnchanged();
    // Against what is live, the unchanged manifests differ in nothing.
    expect(await kubectl('diff', '-f', KUBIA_EXAMPLE)).toMatchObject({ code: 0, stdout: '' });
    await expectUnchanged();
  });

  it('a dryRun value other than All is refused before anything is done, in the words of the API server', async () => {
    const response = await fetch(`${cluster.api.url}/apis/apps/v1/namespaces/default/statefulsets/kubia?dryRun=Some`, {
      method: 'DELETE',
    });
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({
      reason: 'Invalid',
      message: 'DeleteOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Some"}: supported values: "All"',
      details: { group: 'meta.k8s.io', kind: 'DeleteOptions', causes: [{ reason: 'FieldValueNotSupported', field: 'dryRun' }] },
    });
    const created = await fetch(`${cluster.api.url}/api/v1/namespaces/default/services?dryRun=All&dryRun=x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: web('web'),
    });
    expect(created.status).toBe(422);
    expect(((await created.json()) as { message: string }).message).toBe('CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"All", "x"}: supported values: "All"');
    await expectUnchanged();
  });

  it('after all of it: no watch event since the start, the state journal untouched, the next cluster IP the one it would have been', async () => {
    const size = statSync(state).size;
    // A watch from the resourceVersion before the dry runs replays every event since: there is none.
    const watched = await Promise.all(
      ['/api/v1/pods', '/api/v1/services', '/apis/apps/v1/statefulsets', '/apis/discovery.k8s.io/v1/endpointslices'].map(async (path) =>
        (await fetch(`${cluster.api.url}${path}?watch=true&resourceVersion=${startVersion}&timeoutSeconds=1`)).text(),
      ),
    );
    expect(watched).toEqual(['', '', '', '']);
    expect(statSync(state).size).toBe(size);

    // Allocation: a dry-run create between two real ones takes no address.
    const create = async (name: string, dryRun = false): Promise<string> => {
      const response = await fetch(`${cluster.api.url}/api/v1/namespaces/default/services${dryRun ? '?dryRun=All' : ''}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: web(name),
      });
      expect(response.status).toBe(201);
      return ((await response.json()) as { spec: { clusterIP: string } }).spec.clusterIP;
    };
    const first = await create('first');
    const before = cluster.store.currentResourceVersion;
    await create('between', true);
    expect(cluster.store.currentResourceVersion).toBe(before);
    const second = await create('second');
    const next = (ip: string): string => ip.replace(/\d+$/, (last) => String(Number(last) + 1));
    expect(second).toBe(next(first));
    // And the real write is journaled (the journal is live, so its silence above means something).
    expect(statSync(state).size).toBeGreaterThan(size);
  });
});
