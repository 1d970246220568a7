// Rolling updates of the book's kubia StatefulSet through real kubectl:
// set image, rollout status|history|undo|restart, partition, OnDelete, with
// DNS (Node's resolver against the cluster) compared with the store after
// every step, and a rollout held at an unready member released step by step.

import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/cluster.js';
import { START_UNREADY_ANNOTATION } from '../../src/controllers/kubelet.js';
import { isPodReady } from '../../src/model/pods.js';
import type { Pod } from '../../src/model/types.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { hasKubectl, kubectlFor } from '../support/kubectl.js';

const KUBIA = 'kubia.default.svc.cluster.local';
const member = (name: string): string => `${name}.${KUBIA}`;
const HASH = 'controller-revision-hash';

const empty = (error: unknown): boolean => ['ENOTFOUND', 'ENODATA'].includes((error as { code?: string }).code ?? '');

async function srvTargets(cluster: StartedCluster): Promise<string[]> {
  try {
    return (await cluster.resolver().resolveSrv(KUBIA)).map((s) => s.name).sort();
  } catch (error) {
    if (empty(error)) return [];
    throw error;
  }
}

async function headlessA(cluster: StartedCluster): Promise<string[]> {
  try {
    return (await cluster.resolver().resolve4(KUBIA)).sort();
  } catch (error) {
    if (empty(error)) return [];
    throw error;
  }
}

function pods(cluster: StartedCluster): Pod[] {
  return cluster.list('Pod', { labelSelector: 'app=kubia' }).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name, 'en', { numeric: true }));
}

/** The SRV set, the headless A set and each member's own name agree with the store's Ready, not terminating pods. */
async function dnsAgrees(cluster: StartedCluster): Promise<void> {
  const ready = pods(cluster).filter((p) => isPodReady(p) && !p.metadata.deletionTimestamp);
  expect(await srvTargets(cluster)).toEqual(ready.map((p) => member(p.metadata.name)).sort());
  expect(await headlessA(cluster)).toEqual(ready.map((p) => p.status!.podIP!).sort());
  for (const pod of ready) expect(await cluster.resolver().resolve4(member(pod.metadata.name))).toEqual([pod.status!.podIP]);
}

const revisions = (cluster: StartedCluster) => {
  const status = cluster.get('StatefulSet', 'kubia')!.status as { currentRevision: string; updateRevision: string };
  return { current: status.currentRevision, update: status.updateRevision };
};
const hashes = (cluster: StartedCluster) => pods(cluster).map((p) => p.metadata.labels?.[HASH]);
const uids = (cluster: StartedCluster) => pods(cluster).map((p) => p.metadata.uid);

/** A raw watch of pods from now on: the event order a client sees. */
async function watchPods(cluster: StartedCluster) {
  const response = await fetch(`${cluster.api.url}/api/v1/namespaces/default/pods?watch=true&resourceVersion=${cluster.store.currentResourceVersion}`);
  const reader = response.body!.getReader();
  const events: { type: string; name: string; ip: string | undefined }[] = [];
  let buffered = '';
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffered += Buffer.from(value!).toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const event = JSON.parse(buffered.slice(0, newline)) as { type: string; object: Pod };
        events.push({ type: event.type, name: event.object.metadata.name, ip: event.object.status?.podIP });
        buffered = buffered.slice(newline + 1);
      }
    }
  })();
  return {
    events,
    stop: async () => {
      await reader.cancel().catch(() => undefined);
      await reading;
    },
  };
}

describe.runIf(hasKubectl)('rollouts through kubectl (members Ready at once)', () => {
  let cluster: StartedCluster;
  let kubectl: (...args: string[]) => Promise<string>;
  beforeAll(async () => {
    cluster = await startCluster({});
    kubectl = kubectlFor(cluster.api.url);
    await kubectl('apply', '-f', KUBIA_EXAMPLE);
    await kubectl('scale', 'sts', 'kubia', '--replicas=3');
  });
  afterAll(() => cluster.close());

  it('kubectl set image rolls kubia-2, then kubia-1, then kubia-0, each back with a new IP', async () => {
    await dnsAgrees(cluster);
    const before = Object.fromEntries(pods(cluster).map((p) => [p.metadata.name, p.status!.podIP]));
    const first = revisions(cluster);
    expect(first.current).toBe(first.update);
    expect(hashes(cluster)).toEqual([first.update, first.update, first.update]);
    const watch = await watchPods(cluster);
    expect(await kubectl('set', 'image', 'sts/kubia', 'kubia=luksa/kubia-pet-peers')).toBe('statefulset.apps/kubia image updated\n');
    expect(await kubectl('rollout', 'status', 'sts/kubia')).toBe('partitioned roll out complete: 3 new pods have been updated...\n');
    await cluster.waitFor(() => watch.events.filter((e) => e.type === 'ADDED').length === 3 && watch.events.at(-1)!.ip !== undefined);
    await watch.stop();
    // Highest ordinal first, each one gone before it is made again.
    expect(watch.events.filter((e) => e.type === 'DELETED').map((e) => e.name)).toEqual(['kubia-2', 'kubia-1', 'kubia-0']);
    const order = watch.events.filter((e) => e.type !== 'MODIFIED').map((e) => `${e.type} ${e.name}`);
    expect(order).toEqual(['DELETED kubia-2', 'ADDED kubia-2', 'DELETED kubia-1', 'ADDED kubia-1', 'DELETED kubia-0', 'ADDED kubia-0']);
    for (const pod of pods(cluster)) expect(pod.status!.podIP).not.toBe(before[pod.metadata.name]);
    const second = revisions(cluster);
    expect(second.update).not.toBe(first.update);
    expect(second.current).toBe(second.update);
    expect(hashes(cluster)).toEqual([second.update, second.update, second.update]);
    expect(pods(cluster).map((p) => p.spec.containers[0]!.image)).toEqual(['luksa/kubia-pet-peers', 'luksa/kubia-pet-peers', 'luksa/kubia-pet-peers']);
    await dnsAgrees(cluster);
    expect(cluster.get('StatefulSet', 'kubia')!.status).toMatchObject({ replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, availableReplicas: 3, observedGeneration: 3 });
  });

  it('rollout history lists 2 revisions; get controllerrevisions shows their owner and numbers', async () => {
    expect(await kubectl('rollout', 'history', 'sts/kubia')).toMatch(/^statefulset\.apps\/kubia \nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
    expect(await kubectl('rollout', 'history', 'sts/kubia', '--revision', '2')).toMatch(/with revision #2\nPod Template:[\s\S]*Image:\s+luksa\/kubia-pet-peers/);
    const table = await kubectl('get', 'controllerrevisions');
    expect(table).toMatch(/^NAME\s+CONTROLLER\s+REVISION\s+AGE\n/);
    const { update } = revisions(cluster);
    expect(table).toMatch(new RegExp(`${update}\\s+statefulset\\.apps/kubia\\s+2\\s`));
  });

  it('rollout undo rolls back: the pods return to revision 1, renumbered 3', async () => {
    const names = cluster.list('ControllerRevision').sort((a, b) => a.revision - b.revision).map((r) => r.metadata.name);
    expect(await kubectl('rollout', 'undo', 'sts/kubia')).toBe('statefulset.apps/kubia rolled back\n');
    expect(await kubectl('rollout', 'status', 'sts/kubia')).toContain('partitioned roll out complete: 3 new pods have been updated');
    expect(hashes(cluster)).toEqual([names[0], names[0], names[0]]);
    expect(cluster.get('ControllerRevision', names[0]!)!.revision).toBe(3);
    expect(cluster.list('ControllerRevision')).toHaveLength(2);
    expect(pods(cluster).map((p) => p.spec.containers[0]!.image)).toEqual(['luksa/kubia-pet', 'luksa/kubia-pet', 'luksa/kubia-pet']);
    expect(await kubectl('rollout', 'history', 'sts/kubia')).toMatch(/REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/);
    await dnsAgrees(cluster);
  });

  it('a partition: 2 update touches only ordinals >= 2; a member below it that is deleted comes back at the old revision', async () => {
    await kubectl('patch', 'sts', 'kubia', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}');
    const old = revisions(cluster).current;
    const [uid0, uid1] = uids(cluster);
    await kubectl('set', 'image', 'sts/kubia', 'kubia=luksa/kubia-pet:v3');
    expect(await kubectl('rollout', 'status', 'sts/kubia')).toBe('partitioned roll out complete: 1 new pods have been updated...\n');
    const { update, current } = revisions(cluster);
    expect(current).toBe(old);
    expect(hashes(cluster)).toEqual([old, old, update]);
    expect(uids(cluster).slice(0, 2)).toEqual([uid0, uid1]);
    await dnsAgrees(cluster);
    await kubectl('delete', 'pod', 'kubia-1');
    expect(hashes(cluster)).toEqual([old, old, update]);
    expect(pods(cluster)[1]!.metadata.uid).not.toBe(uid1);
    expect(pods(cluster)[1]!.spec.containers[0]!.image).toBe('luksa/kubia-pet');
    await dnsAgrees(cluster);
    // Partition 0: the rest roll.
    await kubectl('patch', 'sts', 'kubia', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}');
    expect(await kubectl('rollout', 'status', 'sts/kubia')).toBe('partitioned roll out complete: 3 new pods have been updated...\n');
    expect(hashes(cluster)).toEqual([update, update, update]);
    expect(revisions(cluster).current).toBe(update);
    await dnsAgrees(cluster);
  });

  it('OnDelete replaces only a pod that is deleted, at the update revision; rollout status refuses it as kubectl does', async () => {
    await kubectl('patch', 'sts', 'kubia', '--type=merge', '-p', '{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}');
    const before = uids(cluster);
    const old = revisions(cluster).current;
    await kubectl('set', 'image', 'sts/kubia', 'kubia=luksa/kubia-pet:v4');
    expect(uids(cluster)).toEqual(before);
    const { update } = revisions(cluster);
    expect(hashes(cluster)).toEqual([old, old, old]);
    await kubectl('delete', 'pod', 'kubia-1');
    expect(hashes(cluster)).toEqual([old, update, old]);
    expect(uids(cluster)[0]).toBe(before[0]);
    expect(uids(cluster)[2]).toBe(before[2]);
    expect(cluster.get('StatefulSet', 'kubia')!.status).toMatchObject({ currentRevision: old, updateRevision: update, currentReplicas: 2, updatedReplicas: 1 });
    await expect(kubectl('rollout', 'status', 'sts/kubia')).rejects.toMatchObject({ stderr: expect.stringContaining('rollout status is only available for RollingUpdate strategy type') });
    await dnsAgrees(cluster);
  });

  it('back to RollingUpdate the rest roll; rollout restart rolls every member', async () => {
    await kubectl('patch', 'sts', 'kubia', '--type=merge', '-p', '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":0}}}}');
    expect(await kubectl('rollout', 'status', 'sts/kubia')).toContain('3 new pods have been updated');
    const { update } = revisions(cluster);
    expect(hashes(cluster)).toEqual([update, update, update]);
    const before = uids(cluster);
    expect(await kubectl('rollout', 'restart', 'sts/kubia')).toBe('statefulset.apps/kubia restarted\n');
    expect(await kubectl('rollout', 'status', 'sts/kubia')).toBe('partitioned roll out complete: 3 new pods have been updated...\n');
    const restarted = revisions(cluster).update;
    expect(restarted).not.toBe(update);
    expect(hashes(cluster)).toEqual([restarted, restarted, restarted]);
    for (const [i, uid] of uids(cluster).entries()) expect(uid).not.toBe(before[i]);
    expect(pods(cluster)[0]!.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    await dnsAgrees(cluster);
    // The controller said what it did, as Kubernetes words it.
    const events = await kubectl('get', 'events', '--field-selector', 'involvedObject.kind=StatefulSet');
    expect(events).toMatch(/SuccessfulDelete\s+statefulset\/kubia\s+delete Pod kubia-2 in StatefulSet kubia successful/);
    expect(events).toMatch(/SuccessfulCreate\s+statefulset\/kubia\s+create Pod kubia-0 in StatefulSet kubia successful/);
  });
});

describe.runIf(hasKubectl)('a rollout held at an unready member (headless-dns.io/start-unready)', () => {
  let cluster: StartedCluster;
  let kubectl: (...args: string[]) => Promise<string>;
  let dir: string;

  /** Makes the next unready member Ready, once it is there, and returns its name. */
  const releaseNext = async (): Promise<string> => {
    await cluster.waitFor(() => pods(cluster).some((p) => p.status?.podIP && !isPodReady(p) && !p.metadata.deletionTimestamp));
    const pod = pods(cluster).find((p) => p.status?.podIP && !isPodReady(p) && !p.metadata.deletionTimestamp)!;
    cluster.setReady(pod.metadata.name, true);
    return pod.metadata.name;
  };

  beforeAll(async () => {
    cluster = await startCluster({});
    kubectl = kubectlFor(cluster.api.url);
    dir = mkdtempSync(join(tmpdir(), 'hdns-rollout-'));
    const set = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'kubia', annotations: { [START_UNREADY_ANNOTATION]: 'true' } },
      spec: {
        serviceName: 'kubia',
        replicas: 3,
        selector: { matchLabels: { app: 'kubia' } },
        template: { metadata: { labels: { app: 'kubia' } }, spec: { containers: [{ name: 'kubia', image: 'luksa/kubia-pet', ports: [{ name: 'http', containerPort: 8080 }] }] } },
      },
    };
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubia' }, spec: { clusterIP: 'None', selector: { app: 'kubia' }, ports: [{ name: 'http', port: 80 }] } };
    writeFileSync(join(dir, 'kubia.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [service, set] }));
    await kubectl('apply', '-f', join(dir, 'kubia.json'));
    for (let i = 0; i < 3; i++) {
      await releaseNext();
      await dnsAgrees(cluster);
    }
    await cluster.waitForRollout('kubia');
  });
  afterAll(() => cluster.close());

  it('each step holds at the new member until it is Ready; DNS agrees with the store at every step; rollout status waits for the end', async () => {
    const first = revisions(cluster).update;
    expect(await kubectl('set', 'image', 'sts/kubia', 'kubia=luksa/kubia-pet-peers')).toContain('image updated');
    // kubectl rollout status (watching) returns only when the rollout is done.
    const status = promisify(execFile)('kubectl', ['--server', cluster.api.url, 'rollout', 'status', 'sts/kubia', '--timeout=20s'], { env: { ...process.env, KUBECONFIG: '/dev/null' } });
    let statusDone = false;
    void status.then(() => (statusDone = true), () => (statusDone = true));
    const update = revisions(cluster).update;
    expect(update).not.toBe(first);
    for (const [step, expected] of [
      ['kubia-2', [first, first, update]],
      ['kubia-1', [first, update, update]],
      ['kubia-0', [update, update, update]],
    ] as const) {
      // Held: the new member is up but not Ready, out of DNS; the others serve.
      await cluster.waitFor(() => hashes(cluster).join() === expected.join() && !!cluster.get('Pod', step)?.status?.podIP);
      expect(isPodReady(cluster.get('Pod', step)!)).toBe(false);
      await dnsAgrees(cluster);
      expect(await srvTargets(cluster)).not.toContain(member(step));
      expect(await kubectl('rollout', 'status', 'sts/kubia', '--watch=false')).toBe('Waiting for 1 pods to be ready...\n');
      expect(statusDone).toBe(false);
      expect(await releaseNext()).toBe(step);
      await dnsAgrees(cluster);
    }
    const { stdout } = await status;
    expect(stdout).toContain('partitioned roll out complete: 3 new pods have been updated...');
    await cluster.waitForRollout('kubia');
    expect(revisions(cluster)).toEqual({ current: update, update });
  });

  it('the fixture drives and awaits a rollout: updateTemplate, restart, waitForRollout', async () => {
    await cluster.updateTemplate('kubia', { spec: { containers: [{ name: 'kubia', image: 'luksa/kubia-pet:v5' }] } });
    await expect(cluster.waitForRollout('kubia', { timeoutMs: 200 })).rejects.toThrow(/not rolled out after 200 ms: Waiting for 1 pods to be ready/);
    for (let i = 0; i < 3; i++) await releaseNext();
    await cluster.waitForRollout('kubia');
    expect(pods(cluster).map((p) => p.spec.containers[0]!.image)).toEqual(['luksa/kubia-pet:v5', 'luksa/kubia-pet:v5', 'luksa/kubia-pet:v5']);
    const before = uids(cluster);
    const set = cluster.restart('kubia');
    expect(set.spec.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeDefined();
    const waiting = cluster.waitForRollout('kubia', { timeoutMs: 5000 });
    for (let i = 0; i < 3; i++) await releaseNext();
    await waiting;
    for (const [i, uid] of uids(cluster).entries()) expect(uid).not.toBe(before[i]);
    await dnsAgrees(cluster);
  });
});
