// The official Python client (Debian's python3-kubernetes) against the API, as a
// child process: list, patch the scale, create a StatefulSet, and a watch
// stream (it sends watch=True, which the API server reads as a watch) that
// receives events while this test scales the set.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/cluster.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';

/** An interpreter that imports kubernetes: Debian's (apt-get install python3-kubernetes), or whatever python3 is first on PATH. */
const PYTHON = ['/usr/bin/python3', 'python3'].find((python) => {
  try {
    execFileSync(python, ['-c', 'import kubernetes'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
if (!PYTHON) console.warn('clients-python: skipped, no python3 with the kubernetes module (apt-get install -y python3-kubernetes)');

const SCRIPT = `
import json, sys
from kubernetes import client, config, watch

config.load_kube_config(sys.argv[1])
v1 = client.CoreV1Api()
apps = client.AppsV1Api()

def out(**fields):
    print(json.dumps(fields), flush=True)

pods = v1.list_namespaced_pod('default')
out(step='list', names=[p.metadata.name for p in pods.items], rv=pods.metadata.resource_version)

scale = apps.patch_namespaced_stateful_set_scale('kubia', 'default', {'spec': {'replicas': 3}})
out(step='scale', replicas=scale.spec.replicas)

body = client.V1StatefulSet(
    metadata=client.V1ObjectMeta(name='web'),
    spec=client.V1StatefulSetSpec(
        service_name='web',
        replicas=1,
        selector=client.V1LabelSelector(match_labels={'app': 'web'}),
        template=client.V1PodTemplateSpec(
            metadata=client.V1ObjectMeta(labels={'app': 'web'}),
            spec=client.V1PodSpec(containers=[client.V1Container(name='web', image='nginx:1.27')]),
        ),
    ),
)
created = apps.create_namespaced_stateful_set('default', body)
out(step='create', name=created.metadata.name, uid=created.metadata.uid, strategy=created.spec.update_strategy.type)

for event in watch.Watch().stream(v1.list_namespaced_pod, 'default', label_selector='app=kubia', timeout_seconds=5):
    out(step='event', type=event['type'], name=event['object'].metadata.name, ip=event['object'].status.pod_ip)
out(step='done')
`;

interface Line {
  step: string;
  [key: string]: unknown;
}

describe.runIf(PYTHON)('the Python client (python3-kubernetes)', () => {
  let cluster: StartedCluster;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hdns-client-python-'));
    cluster = await startCluster({ manifests: [KUBIA_EXAMPLE], kubeconfig: join(dir, 'config') });
    writeFileSync(join(dir, 'client.py'), SCRIPT);
  });
  afterAll(() => cluster.close());

  it('lists, patches the scale, creates a StatefulSet and streams a watch while the set scales', async () => {
    const child = spawn(PYTHON!, [join(dir, 'client.py'), join(dir, 'config')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines: Line[] = [];
    let scaled = false;
    for await (const text of createInterface(child.stdout)) {
      const line = JSON.parse(text) as Line;
      lines.push(line);
      // Once the watch has delivered the three members it starts with, scale down under it.
      if (!scaled && lines.filter((l) => l.step === 'event').length === 3) {
        scaled = true;
        cluster.scale('kubia', 1);
      }
    }
    const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', resolve)));
    expect(code, stderr).toBe(0);

    expect(lines[0]).toMatchObject({ step: 'list', names: ['kubia-0', 'kubia-1'] });
    expect(lines[1]).toEqual({ step: 'scale', replicas: 3 });
    expect(lines[2]).toMatchObject({ step: 'create', name: 'web', strategy: 'RollingUpdate' });
    expect(cluster.store.get('StatefulSet', 'default', 'web')?.metadata.uid).toBe(lines[2]!.uid);

    const events = lines.filter((l) => l.step === 'event').map((l) => `${String(l.type)} ${String(l.name)}`);
    // The initial events (a watch from "now" gets the current pods first), then the scale down from the highest ordinal.
    expect(events.slice(0, 3).sort()).toEqual(['ADDED kubia-0', 'ADDED kubia-1', 'ADDED kubia-2']);
    const rest = events.slice(3);
    expect(rest).toContain('DELETED kubia-2');
    expect(rest).toContain('DELETED kubia-1');
    expect(rest.indexOf('DELETED kubia-2')).toBeLessThan(rest.indexOf('DELETED kubia-1'));
    expect(rest.some((e) => e.endsWith('kubia-0'))).toBe(false);
    // The stream ends when the server closes it at timeoutSeconds.
    expect(lines.at(-1)).toEqual({ step: 'done' });
    expect((await cluster.resolver().resolveSrv('kubia.default.svc.cluster.local')).map((s) => s.name)).toEqual(['kubia-0.kubia.default.svc.cluster.local']);
  }, 30_000);
});
