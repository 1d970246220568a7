// API defaulting and validation as real kubectl sees them: what `get -o yaml`
// and `describe` show after `kubectl apply -f examples/kubia`, `rollout status`
// on the defaulted strategy, and bad input refused with a Status naming the field.

import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/cluster.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { hasKubectl } from '../support/kubectl.js';

type Json = Record<string, unknown>;
interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** kubectl with its exit code and both streams, so refusals can be read. */
function kubectlRunner(url: string): (args: string[], stdin?: string) => Promise<Run> {
  const cache = mkdtempSync(join(tmpdir(), 'hdns-kubectl-'));
  return (args, stdin) =>
    new Promise((resolve) => {
      const child = execFile('kubectl', ['--server', url, '--cache-dir', cache, ...args], { env: { ...process.env, KUBECONFIG: '/dev/null' } }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end(stdin ?? '');
    });
}

function statefulSet(name: string, spec: Json): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      serviceName: 'kubia',
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'luksa/kubia-pet' }] } },
      ...spec,
    },
  });
}

describe.runIf(hasKubectl)('defaults and validation through kubectl', () => {
  let cluster: StartedCluster;
  let kubectl: (args: string[], stdin?: string) => Promise<Run>;

  beforeAll(async () => {
    cluster = await startCluster({});
    kubectl = kubectlRunner(cluster.api.url);
    const applied = await kubectl(['apply', '-f', KUBIA_EXAMPLE]);
    expect(applied.code, applied.stderr).toBe(0);
  });
  afterAll(() => cluster.close());

  async function yamlOf(...what: string[]): Promise<Json> {
    const got = await kubectl(['get', ...what, '-o', 'yaml']);
    expect(got.code, got.stderr).toBe(0);
    return load(got.stdout) as Json;
  }

  it('kubectl get sts -o yaml shows the apps/v1 and pod template defaults', async () => {
    const spec = (await yamlOf('sts', 'kubia')).spec as Json;
    expect(spec).toMatchObject({
      podManagementPolicy: 'OrderedReady',
      replicas: 2,
      revisionHistoryLimit: 10,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
    });
    expect(spec).not.toHaveProperty('minReadySeconds');
    const template = spec.template as { metadata: Json; spec: Json & { containers: Json[] } };
    expect(template.metadata).toEqual({ creationTimestamp: null, labels: { app: 'kubia' } });
    expect(template.spec).toMatchObject({ dnsPolicy: 'ClusterFirst', restartPolicy: 'Always', schedulerName: 'default-scheduler', securityContext: {}, terminationGracePeriodSeconds: 30 });
    expect(template.spec).not.toHaveProperty('enableServiceLinks');
    expect(template.spec.containers[0]).toMatchObject({
      image: 'luksa/kubia-pet',
      imagePullPolicy: 'Always',
      ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }],
      resources: {},
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
    });
    expect(spec.volumeClaimTemplates).toEqual([
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { creationTimestamp: null, name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } }, volumeMode: 'Filesystem' },
        status: { phase: 'Pending' },
      },
    ]);
  });

  it('the headless Service and the pods are shown with their defaults', async () => {
    expect((await yamlOf('svc', 'kubia')).spec).toMatchObject({
      clusterIP: 'None',
      clusterIPs: ['None'],
      internalTrafficPolicy: 'Cluster',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 }],
      sessionAffinity: 'None',
      type: 'ClusterIP',
    });
    const pod = (await yamlOf('pod', 'kubia-0')).spec as Json & { containers: Json[] };
    expect(pod).toMatchObject({ dnsPolicy: 'ClusterFirst', enableServiceLinks: true, restartPolicy: 'Always', schedulerName: 'default-scheduler', terminationGracePeriodSeconds: 30 });
    expect(pod.containers[0]).toMatchObject({ imagePullPolicy: 'Always', terminationMessagePolicy: 'File' });
  });

  it('kubectl describe sts shows the update strategy', async () => {
    const described = await kubectl(['describe', 'sts', 'kubia']);
    expect(described.code, described.stderr).toBe(0);
    expect(described.stdout).toMatch(/Update Strategy:\s+RollingUpdate\n\s+Partition:\s+0/);
  });

  it('kubectl rollout status takes the defaulted RollingUpdate strategy', async () => {
    const status = await kubectl(['rollout', 'status', 'sts/kubia', '--watch=false']);
    expect(`${status.stdout}${status.stderr}`).not.toMatch(/only available for RollingUpdate/);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/roll out/);
  });

  const refusals: [string, Json, string][] = [
    ['an unknown updateStrategy type', { updateStrategy: { type: 'Sometimes' } }, `spec.updateStrategy: Invalid value: {"type":"Sometimes"}: must be 'RollingUpdate' or 'OnDelete'`],
    ['rollingUpdate with OnDelete', { updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } } }, "spec.updateStrategy.rollingUpdate: Invalid value: {\"partition\":1}: only allowed for updateStrategy 'RollingUpdate'"],
    ['a negative partition', { updateStrategy: { rollingUpdate: { partition: -1 } } }, 'spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0'],
    ['maxUnavailable 0', { updateStrategy: { rollingUpdate: { maxUnavailable: 0 } } }, 'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: cannot be 0'],
    ['maxUnavailable over 100%', { updateStrategy: { rollingUpdate: { maxUnavailable: '101%' } } }, 'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "101%": must not be greater than 100%'],
    ['an unknown retention policy', { persistentVolumeClaimRetentionPolicy: { whenScaled: 'Keep' } }, 'spec.persistentVolumeClaimRetentionPolicy.whenScaled: Unsupported value: "Keep": supported values: "Retain", "Delete"'],
    ['a claim template without access modes', { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { resources: { requests: { storage: '1Mi' } } } }] }, 'spec.volumeClaimTemplates[0].spec.accessModes: Required value: at least 1 access mode is required'],
    ['two claim templates of one name', { volumeClaimTemplates: [1, 2].map(() => ({ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } } })) }, 'spec.volumeClaimTemplates[1].metadata.name: Duplicate value: "data"'],
    ['a template that may finish', { template: { metadata: { labels: { app: 'bad' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } }, 'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
  ];
  it.each(refusals)('kubectl apply of a set with %s is refused naming the field', async (_name, spec, message) => {
    const applied = await kubectl(['apply', '-f', '-'], statefulSet('bad', spec));
    expect(applied.code).not.toBe(0);
    expect(applied.stderr).toContain('The StatefulSet "bad" is invalid');
    expect(applied.stderr).toContain(message);
    expect(cluster.store.get('StatefulSet', 'default', 'bad')).toBeUndefined();
  });

  it('a change to a field an update may not touch is forbidden; an allowed one goes through', async () => {
    const forbidden = await kubectl(['patch', 'sts', 'kubia', '--type', 'merge', '-p', '{"spec":{"podManagementPolicy":"Parallel"}}']);
    expect(forbidden.code).not.toBe(0);
    expect(forbidden.stderr).toContain(
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    );
    const claims = await kubectl(['patch', 'sts', 'kubia', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/volumeClaimTemplates/0/spec/resources/requests/storage","value":"2Mi"}]']);
    expect(claims.stderr).toContain('spec: Forbidden: updates to statefulset spec');
    const allowed = await kubectl(['patch', 'sts', 'kubia', '--type', 'merge', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":1}},"minReadySeconds":3}}']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(((await yamlOf('sts', 'kubia')).spec as Json).updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { partition: 1 } });
  });

  it('Service names may start with a digit, and DNS answers for them', async () => {
    const services = [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: '123-abc' }, spec: { selector: { app: 'kubia' }, ports: [{ port: 80, targetPort: 8080 }] } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: '1-peers' }, spec: { clusterIP: 'None', selector: { app: 'kubia' }, ports: [{ name: 'http', port: 80 }] } },
    ];
    const applied = await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: services }));
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toBe('service/123-abc created\nservice/1-peers created\n');
    const clusterIp = (cluster.store.get('Service', 'default', '123-abc') as { spec: { clusterIP: string } }).spec.clusterIP;
    expect(await cluster.resolver().resolve4('123-abc.default.svc.cluster.local')).toEqual([clusterIp]);
    const podIps = cluster.store.list('Pod', 'default').map((p) => (p as { status: { podIP: string } }).status.podIP).sort();
    expect((await cluster.resolver().resolve4('1-peers.default.svc.cluster.local')).sort()).toEqual(podIps);
    expect((await cluster.resolver().resolveSrv('_http._tcp.1-peers.default.svc.cluster.local')).map((s) => s.port)).toEqual([80, 80]);
    // Still a DNS-1123 label: no leading hyphen, no dots.
    const bad = await kubectl(['apply', '-f', '-'], JSON.stringify({ ...services[0], metadata: { name: 'abc-' } }));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('The Service "abc-" is invalid: metadata.name: Invalid value: "abc-": a lowercase RFC 1123 label must consist of');
  });
});
