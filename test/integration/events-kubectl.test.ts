// Events as real kubectl sees them: `kubectl get events` (core/v1, the server's
// Table), the Events section of `kubectl describe` (its involvedObject field
// selector), `--field-selector`, the events.k8s.io/v1 view, a watch, and a
// repeated event folded into one with its count.

import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/cluster.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { hasKubectl, kubectlFor } from '../support/kubectl.js';

interface EventJson {
  metadata: { name: string };
  involvedObject: { kind: string; name: string; fieldPath?: string };
  reason: string;
  message: string;
  count: number;
  source: { component?: string; host?: string };
}

describe.runIf(hasKubectl)('events through kubectl', () => {
  let cluster: StartedCluster;
  let kubectl: (...args: string[]) => Promise<string>;
  const events = async (...args: string[]): Promise<EventJson[]> => (JSON.parse(await kubectl('get', 'events', '-o', 'json', ...args)) as { items: EventJson[] }).items;

  beforeAll(async () => {
    cluster = await startCluster({});
    kubectl = kubectlFor(cluster.api.url);
    await kubectl('apply', '-f', KUBIA_EXAMPLE);
  });
  afterAll(() => cluster.close());

  it('kubectl get events lists what the controllers and the kubelet did', async () => {
    const table = await kubectl('get', 'events');
    expect(table).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n/);
    expect(table).toMatch(/\d+s\s+Normal\s+SuccessfulCreate\s+statefulset\/kubia\s+create Pod kubia-0 in StatefulSet kubia successful/);
    expect(table).toMatch(/Normal\s+SuccessfulCreate\s+statefulset\/kubia\s+create Pod kubia-1 in StatefulSet kubia successful/);
    for (const pod of ['kubia-0', 'kubia-1']) {
      expect(table).toMatch(new RegExp(`Normal\\s+Scheduled\\s+pod/${pod}\\s+Successfully assigned default/${pod} to headless-dns`));
      expect(table).toMatch(new RegExp(`Normal\\s+Pulled\\s+pod/${pod}\\s+Container image "luksa/kubia-pet" already present on machine`));
      expect(table).toMatch(new RegExp(`Normal\\s+Created\\s+pod/${pod}\\s+Created container: kubia`));
      expect(table).toMatch(new RegExp(`Normal\\s+Started\\s+pod/${pod}\\s+Started container kubia`));
    }
    const wide = await kubectl('get', 'events', '-o', 'wide');
    expect(wide).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+SUBOBJECT\s+SOURCE\s+MESSAGE\s+FIRST SEEN\s+COUNT\s+NAME\n/);
    expect(wide).toMatch(/Started\s+pod\/kubia-0\s+spec\.containers\{kubia\}\s+kubelet, headless-dns\s+Started container kubia\s+\d+s\s+1\s+kubia-0\.[0-9a-f]+\n/);
  });

  it('kubectl describe shows the Events of the object', async () => {
    const sts = await kubectl('describe', 'sts', 'kubia');
    expect(sts).toMatch(/Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n\s+----\s+------\s+----\s+----\s+-------\n/);
    expect(sts).toMatch(/Normal\s+SuccessfulCreate\s+\d+s\s+statefulset-controller\s+create Pod kubia-0 in StatefulSet kubia successful/);
    expect(sts).toMatch(/Normal\s+SuccessfulCreate\s+\d+s\s+statefulset-controller\s+create Pod kubia-1 in StatefulSet kubia successful/);
    // Only the set's own: describe selects involvedObject name, namespace, kind and uid.
    expect(sts).not.toMatch(/Started container/);
    const pod = await kubectl('describe', 'pod', 'kubia-0');
    expect(pod).toMatch(/Normal\s+Scheduled\s+\d+s\s+default-scheduler\s+Successfully assigned default\/kubia-0 to headless-dns/);
    expect(pod).toMatch(/Normal\s+Started\s+\d+s\s+kubelet\s+Started container kubia/);
    expect(pod).not.toMatch(/kubia-1/);
  });

  it('--field-selector involvedObject.name picks one object', async () => {
    const only = await events('--field-selector', 'involvedObject.name=kubia-0');
    expect(new Set(only.map((e) => e.involvedObject.name))).toEqual(new Set(['kubia-0']));
    expect(only.map((e) => e.reason).sort()).toEqual(['Created', 'Pulled', 'Scheduled', 'Started']);
    const bad = await kubectl('get', 'events', '--field-selector', 'spec.bogus=1').catch((error: { stderr: string }) => error.stderr);
    expect(bad).toMatch(/field label not supported: spec.bogus/);
  });

  it('kubectl get events.events.k8s.io lists the same Events in the v1 group', async () => {
    const core = await events();
    const v1 = JSON.parse(await kubectl('get', 'events.events.k8s.io', '-o', 'json')) as { items: { apiVersion: string; metadata: { name: string }; regarding: { name: string }; note: string; reportingController?: string; deprecatedCount: number }[] };
    expect(v1.items.map((e) => e.metadata.name).sort()).toEqual(core.map((e) => e.metadata.name).sort());
    const started = v1.items.find((e) => e.regarding.name === 'kubia-0' && e.note === 'Started container kubia');
    expect(started).toMatchObject({ apiVersion: 'events.k8s.io/v1', reportingController: 'kubelet', deprecatedCount: 1 });
    expect(await kubectl('get', 'events.events.k8s.io')).toMatch(/Normal\s+Started\s+pod\/kubia-0\s+Started container kubia/);
    const selected = JSON.parse(await kubectl('get', 'events.events.k8s.io', '--field-selector', 'regarding.name=kubia-1', '-o', 'json')) as { items: { regarding: { name: string } }[] };
    expect(selected.items.length).toBeGreaterThan(0);
    expect(selected.items.every((e) => e.regarding.name === 'kubia-1')).toBe(true);
    expect(await kubectl('api-resources', '--api-group', 'events.k8s.io')).toMatch(/events\s+ev\s+events\.k8s\.io\/v1\s+true\s+Event/);
  });

  it('a watch sees new events, and a repeat folds into one Event with count 2', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'hdns-kubectl-'));
    const watch = spawn('kubectl', ['--server', cluster.api.url, '--cache-dir', cache, 'get', 'events', '--watch-only', '-o', 'json', '--field-selector', 'involvedObject.kind=StatefulSet'], {
      env: { ...process.env, KUBECONFIG: '/dev/null' },
    });
    let seen = '';
    watch.stdout.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      // kubia-1 is deleted and made again: the same "create Pod kubia-1" event a second time.
      await kubectl('delete', 'pod', 'kubia-1', '--grace-period=0', '--force');
      const deadline = Date.now() + 10_000;
      while (!/"count": 2/.test(seen) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(seen).toMatch(/create Pod kubia-1 in StatefulSet kubia successful/);
      expect(seen).toMatch(/"count": 2/);
    } finally {
      watch.kill();
    }
    const folded = (await events('--field-selector', 'involvedObject.name=kubia,reason=SuccessfulCreate')).filter((e) => e.message === 'create Pod kubia-1 in StatefulSet kubia successful');
    expect(folded).toHaveLength(1);
    expect(folded[0]!.count).toBe(2);
    expect(await kubectl('describe', 'sts', 'kubia')).toMatch(/SuccessfulCreate\s+\d+s \(x2 over \d+s\)\s+statefulset-controller\s+create Pod kubia-1 in StatefulSet kubia successful/);
    // The kubelet said it stopped the old kubia-1 before it went.
    expect((await events('--field-selector', 'involvedObject.name=kubia-1,reason=Killing')).map((e) => [e.message, e.involvedObject.fieldPath])).toEqual([['Stopping container kubia', 'spec.containers{kubia}']]);
  });
});
