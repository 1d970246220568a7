// API defaulting and validation as the API server does it (pkg/apis/apps/v1 and
// core/v1 defaults.go, apps and core validation): a table of input object →
// stored object, and one of input → the causes, naming the field.

import { describe, expect, it } from 'vitest';
import type { FieldCause } from '../../src/errors.js';
import type { KubeObject, StatefulSet } from '../../src/model/types.js';
import { imageTag, validateObject, validateUpdate } from '../../src/model/validate.js';
import { ObjectStore } from '../../src/store/store.js';

type Json = Record<string, unknown>;

function stored(raw: unknown): Json {
  const { object, causes } = validateObject(raw);
  expect(causes).toEqual([]);
  return object as unknown as Json;
}

function causesOf(raw: unknown): FieldCause[] {
  const { object, causes } = validateObject(raw);
  expect(object).toBeUndefined();
  return causes;
}

const container = { name: 'kubia', image: 'luksa/kubia-pet', ports: [{ name: 'http', containerPort: 8080 }] };

function sts(spec: Json = {}, template: Json = {}): Json {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'kubia' },
    spec: {
      serviceName: 'kubia',
      selector: { matchLabels: { app: 'kubia' } },
      template: { metadata: { labels: { app: 'kubia' } }, spec: { containers: [container], ...template } },
      ...spec,
    },
  };
}

function svc(spec: Json, name = 'kubia'): Json {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec };
}

function pod(spec: Json): Json {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec };
}

const claim = { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } } };

/** What `kubectl get -o yaml` shows of a container and a pod template on a 1.32 cluster. */
const DEFAULTED_CONTAINER = {
  ...container,
  ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
  imagePullPolicy: 'Always',
  resources: {},
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
};
const DEFAULTED_POD_SPEC = {
  containers: [DEFAULTED_CONTAINER],
  dnsPolicy: 'ClusterFirst',
  restartPolicy: 'Always',
  schedulerName: 'default-scheduler',
  securityContext: {},
  terminationGracePeriodSeconds: 30,
};

describe('StatefulSet defaults (apps/v1 SetDefaults_StatefulSet)', () => {
  it('the book kubia set is stored as a 1.32 cluster shows it', () => {
    const object = stored(sts({ replicas: 2, volumeClaimTemplates: [claim] }));
    expect(object.spec).toEqual({
      serviceName: 'kubia',
      replicas: 2,
      selector: { matchLabels: { app: 'kubia' } },
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      template: { metadata: { labels: { app: 'kubia' }, creationTimestamp: null }, spec: DEFAULTED_POD_SPEC },
      volumeClaimTemplates: [
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: 'data', creationTimestamp: null },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } }, volumeMode: 'Filesystem' },
          status: { phase: 'Pending' },
        },
      ],
    });
    // minReadySeconds is a plain int32 in apps/v1: an omitted 0, never written.
    expect(object.spec).not.toHaveProperty('minReadySeconds');
    // enableServiceLinks is a Pod default (SetDefaults_Pod), not a template one.
    expect((object.spec as StatefulSet['spec']).template.spec).not.toHaveProperty('enableServiceLinks');
  });

  const strategies: [string, unknown, unknown][] = [
    ['absent', undefined, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }],
    ['empty', {}, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }],
    ['type "" (Go zero value)', { type: '' }, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }],
    // Go fills rollingUpdate in only when it set the type itself.
    ['RollingUpdate alone keeps no rollingUpdate', { type: 'RollingUpdate' }, { type: 'RollingUpdate' }],
    ['rollingUpdate {} gets partition 0', { type: 'RollingUpdate', rollingUpdate: {} }, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }],
    ['partition kept', { rollingUpdate: { partition: 2 } }, { type: 'RollingUpdate', rollingUpdate: { partition: 2 } }],
    ['maxUnavailable kept, not defaulted', { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '50%' } }, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '50%', partition: 0 } }],
    ['OnDelete', { type: 'OnDelete' }, { type: 'OnDelete' }],
  ];
  it.each(strategies)('updateStrategy %s', (_name, given, expected) => {
    const object = stored(sts(given === undefined ? {} : { updateStrategy: given }));
    expect((object.spec as Json).updateStrategy).toEqual(expected);
  });

  const fields: [string, Json, Json][] = [
    ['replicas 1', {}, { replicas: 1 }],
    ['replicas 0 kept', { replicas: 0 }, { replicas: 0 }],
    ['podManagementPolicy "" becomes OrderedReady', { podManagementPolicy: '' }, { podManagementPolicy: 'OrderedReady' }],
    ['Parallel kept', { podManagementPolicy: 'Parallel' }, { podManagementPolicy: 'Parallel' }],
    ['revisionHistoryLimit 0 kept', { revisionHistoryLimit: 0 }, { revisionHistoryLimit: 0 }],
    ['minReadySeconds kept', { minReadySeconds: 5 }, { minReadySeconds: 5 }],
    ['retention half given', { persistentVolumeClaimRetentionPolicy: { whenScaled: 'Delete' } }, { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' } }],
  ];
  it.each(fields)('%s', (_name, given, expected) => {
    expect(stored(sts(given)).spec).toMatchObject(expected);
  });

  it('a template that names its own values keeps them', () => {
    const object = stored(sts({}, { dnsPolicy: 'Default', terminationGracePeriodSeconds: 0, schedulerName: 'mine', securityContext: { runAsUser: 1 } }));
    expect((object.spec as StatefulSet['spec']).template.spec).toMatchObject({ dnsPolicy: 'Default', terminationGracePeriodSeconds: 0, schedulerName: 'mine', securityContext: { runAsUser: 1 } });
  });
});

describe('container and pod defaults (core/v1 SetDefaults_PodSpec, _Pod, _Container, _Probe)', () => {
  const pulls: [string, string, string][] = [
    ['no tag', 'luksa/kubia', 'Always'],
    [':latest', 'luksa/kubia:latest', 'Always'],
    ['a tag', 'luksa/kubia:v1', 'IfNotPresent'],
    ['a registry port, no tag', 'localhost:5000/kubia', 'Always'],
    ['a registry port and a tag', 'localhost:5000/kubia:1.0', 'IfNotPresent'],
    ['a digest only', `nginx@sha256:${'a'.repeat(64)}`, 'IfNotPresent'],
    ['latest and a digest', `nginx:latest@sha256:${'a'.repeat(64)}`, 'Always'],
    ['not a reference (upper case)', 'Nginx', 'IfNotPresent'],
  ];
  it.each(pulls)('imagePullPolicy for %s', (_name, image, policy) => {
    const object = stored(pod({ containers: [{ name: 'c', image }] }));
    expect((object.spec as { containers: Json[] }).containers[0]!.imagePullPolicy).toBe(policy);
  });

  it('imageTag reads the reference as parsers.ParseImageName does', () => {
    expect(imageTag('busybox')).toBe('latest');
    expect(imageTag('docker.io/library/busybox:1.36')).toBe('1.36');
    expect(imageTag('[::1]:5000/busybox')).toBe('latest');
  });

  it('a Pod gets the pod spec defaults and enableServiceLinks', () => {
    expect(stored(pod({ containers: [container] })).spec).toEqual({ ...DEFAULTED_POD_SPEC, enableServiceLinks: true });
  });

  it('probes get their timings and httpGet its path and scheme; hooks too', () => {
    const probe = { httpGet: { port: 8080 } };
    const object = stored(pod({ containers: [{ name: 'c', image: 'i:1', readinessProbe: probe, livenessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 5 }, lifecycle: { preStop: { httpGet: { port: 80, path: '/stop' } } } }] }));
    const c = (object.spec as { containers: Json[] }).containers[0]!;
    expect(c.readinessProbe).toEqual({ httpGet: { port: 8080, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
    expect(c.livenessProbe).toEqual({ tcpSocket: { port: 'http' }, timeoutSeconds: 1, periodSeconds: 5, successThreshold: 1, failureThreshold: 3 });
    expect(c.lifecycle).toEqual({ preStop: { httpGet: { port: 80, path: '/stop', scheme: 'HTTP' } } });
  });

  it('a Pod takes requests from limits; init containers, volumes and field refs are defaulted', () => {
    const object = stored(
      pod({
        initContainers: [{ name: 'init', image: 'busybox:1' }],
        containers: [{ name: 'c', image: 'i:1', resources: { limits: { cpu: '1' }, requests: { memory: '1Mi' } }, env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] }],
        volumes: [{ name: 'scratch' }, { name: 'cfg', configMap: { name: 'x' } }],
      }),
    );
    const spec = object.spec as Json & { containers: Json[]; initContainers: Json[] };
    expect(spec.containers[0]!.resources).toEqual({ limits: { cpu: '1' }, requests: { cpu: '1', memory: '1Mi' } });
    expect(spec.containers[0]!.env).toEqual([{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name', apiVersion: 'v1' } } }]);
    expect(spec.initContainers[0]).toMatchObject({ imagePullPolicy: 'IfNotPresent', terminationMessagePolicy: 'File', resources: {} });
    expect(spec.volumes).toEqual([{ name: 'scratch', emptyDir: {} }, { name: 'cfg', configMap: { name: 'x', defaultMode: 420 } }]);
  });
});

describe('Service defaults (core/v1 SetDefaults_Service)', () => {
  const cases: [string, Json, Json][] = [
    ['ClusterIP', { selector: { app: 'a' }, ports: [{ port: 80 }] }, { type: 'ClusterIP', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] }],
    ['headless', { clusterIP: 'None', selector: { app: 'a' }, ports: [{ port: 80, targetPort: 8080 }] }, { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], sessionAffinity: 'None', internalTrafficPolicy: 'Cluster', ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] }],
    ['NodePort', { type: 'NodePort', ports: [{ port: 80 }] }, { externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster' }],
    ['LoadBalancer', { type: 'LoadBalancer', ports: [{ port: 80 }] }, { externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster', allocateLoadBalancerNodePorts: true }],
    ['ClientIP affinity gets its timeout', { sessionAffinity: 'ClientIP', ports: [{ port: 80 }] }, { sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } } }],
    ['targetPort 0 is unset', { ports: [{ port: 80, targetPort: 0 }] }, { ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] }],
    ['ExternalName: targetPort too, no traffic policy', { type: 'ExternalName', externalName: 'example.com', ports: [{ port: 80 }] }, { sessionAffinity: 'None', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] }],
  ];
  it.each(cases)('%s', (_name, spec, expected) => {
    expect(stored(svc(spec)).spec).toMatchObject(expected);
  });

  it('ExternalName gets no internalTrafficPolicy', () => {
    expect(stored(svc({ type: 'ExternalName', externalName: 'example.com' })).spec).not.toHaveProperty('internalTrafficPolicy');
  });

  it('headless Services get their IP families from the store, as the allocator gives them', () => {
    const store = new ObjectStore();
    const [withSelector, without] = store.apply([
      stored(svc({ clusterIP: 'None', selector: { app: 'a' }, ports: [{ port: 80 }] }, 'a')) as unknown as KubeObject,
      stored(svc({ clusterIP: 'None', ports: [{ port: 80 }] }, 'b')) as unknown as KubeObject,
    ]);
    expect(withSelector!.kind === 'Service' && withSelector.spec).toMatchObject({ ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'] });
    expect(without!.kind === 'Service' && without.spec).toMatchObject({ ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] });
  });

  it('a Service name may start with a digit (DNS-1123 label, Kubernetes 1.36)', () => {
    expect(stored(svc({ ports: [{ port: 80 }] }, '123-abc')).metadata).toMatchObject({ name: '123-abc' });
    expect(causesOf(svc({ ports: [{ port: 80 }] }, '-abc'))[0]).toMatchObject({ field: 'metadata.name' });
    expect(causesOf(svc({ ports: [{ port: 80 }] }, 'a.b'))[0]).toMatchObject({ field: 'metadata.name' });
  });
});

describe('StatefulSet validation (apps ValidateStatefulSetSpec)', () => {
  const bad: [string, Json, string, string][] = [
    ['unknown strategy type', { updateStrategy: { type: 'Sometimes' } }, 'spec.updateStrategy', "must be 'RollingUpdate' or 'OnDelete'"],
    ['rollingUpdate with OnDelete', { updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } } }, 'spec.updateStrategy.rollingUpdate', "only allowed for updateStrategy 'RollingUpdate'"],
    ['negative partition', { updateStrategy: { rollingUpdate: { partition: -1 } } }, 'spec.updateStrategy.rollingUpdate.partition', 'must be greater than or equal to 0'],
    ['fractional partition', { updateStrategy: { rollingUpdate: { partition: 1.5 } } }, 'spec.updateStrategy.rollingUpdate.partition', 'int32'],
    ['maxUnavailable 0', { updateStrategy: { rollingUpdate: { maxUnavailable: 0 } } }, 'spec.updateStrategy.rollingUpdate.maxUnavailable', 'cannot be 0'],
    ['maxUnavailable negative', { updateStrategy: { rollingUpdate: { maxUnavailable: -1 } } }, 'spec.updateStrategy.rollingUpdate.maxUnavailable', 'must be greater than or equal to 0'],
    ['maxUnavailable 0%', { updateStrategy: { rollingUpdate: { maxUnavailable: '0%' } } }, 'spec.updateStrategy.rollingUpdate.maxUnavailable', 'cannot be 0'],
    ['maxUnavailable 150%', { updateStrategy: { rollingUpdate: { maxUnavailable: '150%' } } }, 'spec.updateStrategy.rollingUpdate.maxUnavailable', 'must not be greater than 100%'],
    ['maxUnavailable not a percentage', { updateStrategy: { rollingUpdate: { maxUnavailable: 'half' } } }, 'spec.updateStrategy.rollingUpdate.maxUnavailable', 'a valid percent string'],
    ['maxUnavailable a boolean', { updateStrategy: { rollingUpdate: { maxUnavailable: true } } }, 'spec.updateStrategy.rollingUpdate.maxUnavailable', 'must be an integer or percentage'],
    ['whenDeleted unknown', { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Keep' } }, 'spec.persistentVolumeClaimRetentionPolicy.whenDeleted', 'supported values: "Retain", "Delete"'],
    ['whenScaled unknown', { persistentVolumeClaimRetentionPolicy: { whenScaled: 'delete' } }, 'spec.persistentVolumeClaimRetentionPolicy.whenScaled', 'Unsupported value: "delete"'],
    ['podManagementPolicy unknown', { podManagementPolicy: 'Chaos' }, 'spec.podManagementPolicy', "must be 'OrderedReady' or 'Parallel'"],
    ['minReadySeconds negative', { minReadySeconds: -1 }, 'spec.minReadySeconds', 'must be greater than or equal to 0'],
    ['revisionHistoryLimit not an int32', { revisionHistoryLimit: 2 ** 31 }, 'spec.revisionHistoryLimit', 'int32'],
    ['claim template without a name', { volumeClaimTemplates: [{ spec: claim.spec }] }, 'spec.volumeClaimTemplates[0].metadata.name', 'Required value'],
    ['claim template named as no volume may be', { volumeClaimTemplates: [{ ...claim, metadata: { name: 'Data_1' } }] }, 'spec.volumeClaimTemplates[0].metadata.name', 'RFC 1123 label'],
    ['claim templates with one name', { volumeClaimTemplates: [claim, claim] }, 'spec.volumeClaimTemplates[1].metadata.name', 'Duplicate value: "data"'],
    ['claim template without access modes', { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { resources: { requests: { storage: '1Mi' } } } }] }, 'spec.volumeClaimTemplates[0].spec.accessModes', 'at least 1 access mode is required'],
    ['claim template with an unknown access mode', { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { ...claim.spec, accessModes: ['ReadWriteSometimes'] } }] }, 'spec.volumeClaimTemplates[0].spec.accessModes', 'Unsupported value'],
    ['claim template without storage', { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }] }, 'spec.volumeClaimTemplates[0].spec.resources[storage]', 'Required value'],
    ['claim template with storage 0', { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { ...claim.spec, resources: { requests: { storage: '0' } } } }] }, 'spec.volumeClaimTemplates[0].spec.resources[storage]', 'must be greater than zero'],
    ['claim template with storage "lots"', { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { ...claim.spec, resources: { requests: { storage: 'lots' } } } }] }, 'spec.volumeClaimTemplates[0].spec.resources[storage]', 'quantities must match'],
    ['volumeClaimTemplates not a list', { volumeClaimTemplates: { name: 'data' } }, 'spec.volumeClaimTemplates', 'must be of type array'],
  ];
  it.each(bad)('%s', (_name, spec, field, message) => {
    const causes = causesOf(sts(spec));
    expect(causes.map((c) => c.field)).toContain(field);
    expect(causes.find((c) => c.field === field)!.message).toContain(message);
  });

  const badTemplate: [string, Json, string, string][] = [
    ['restartPolicy Never', { restartPolicy: 'Never' }, 'spec.template.spec.restartPolicy', 'supported values: "Always"'],
    ['restartPolicy unknown', { restartPolicy: 'Sometimes' }, 'spec.template.spec.restartPolicy', 'Unsupported value'],
    ['activeDeadlineSeconds', { activeDeadlineSeconds: 10 }, 'spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in StatefulSet is not Supported'],
    ['dnsPolicy unknown', { dnsPolicy: 'Sometimes' }, 'spec.template.spec.dnsPolicy', 'supported values: "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"'],
    ['imagePullPolicy unknown', { containers: [{ ...container, imagePullPolicy: 'Maybe' }] }, 'spec.template.spec.containers[0].imagePullPolicy', 'Unsupported value: "Maybe"'],
    ['probe without a handler', { containers: [{ ...container, readinessProbe: { periodSeconds: 1 } }] }, 'spec.template.spec.containers[0].readinessProbe', 'must specify a handler type'],
    ['probe with two handlers', { containers: [{ ...container, readinessProbe: { exec: { command: ['true'] }, tcpSocket: { port: 80 } } }] }, 'spec.template.spec.containers[0].readinessProbe.tcpSocket', 'may not specify more than 1 handler type'],
    ['probe with a negative period', { containers: [{ ...container, readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: -1 } }] }, 'spec.template.spec.containers[0].readinessProbe.periodSeconds', 'must be greater than or equal to 0'],
    ['liveness succeeding twice', { containers: [{ ...container, livenessProbe: { tcpSocket: { port: 80 }, successThreshold: 2 } }] }, 'spec.template.spec.containers[0].livenessProbe.successThreshold', 'must be 1'],
    ['httpGet scheme unknown', { containers: [{ ...container, readinessProbe: { httpGet: { port: 80, scheme: 'FTP' } } }] }, 'spec.template.spec.containers[0].readinessProbe.httpGet.scheme', 'Unsupported value: "FTP"'],
  ];
  it.each(badTemplate)('template %s', (_name, template, field, message) => {
    const causes = causesOf(sts({}, template));
    expect(causes.map((c) => c.field)).toContain(field);
    expect(causes.find((c) => c.field === field)!.message).toContain(message);
  });

  const good: [string, Json][] = [
    ['maxUnavailable 2', { updateStrategy: { rollingUpdate: { maxUnavailable: 2 } } }],
    ['maxUnavailable 100%', { updateStrategy: { rollingUpdate: { maxUnavailable: '100%' } } }],
    ['partition beyond replicas', { replicas: 2, updateStrategy: { rollingUpdate: { partition: 5 } } }],
    // apps validation does not check its sign; the history controller keeps only live revisions.
    ['revisionHistoryLimit negative', { revisionHistoryLimit: -1 }],
    ['retention Delete/Delete', { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' } }],
    ['claim template with storage class and Block mode', { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { ...claim.spec, storageClassName: 'standard', volumeMode: 'Block' } }] }],
    ['claim storage as a number', { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { ...claim.spec, resources: { requests: { storage: 1048576 } } } }] }],
    ['JSON nulls for defaulted fields', { updateStrategy: null, podManagementPolicy: null, revisionHistoryLimit: null, persistentVolumeClaimRetentionPolicy: null, volumeClaimTemplates: null }],
  ];
  it.each(good)('accepts %s', (_name, spec) => {
    expect(validateObject(sts(spec)).causes).toEqual([]);
  });
});

describe('StatefulSet updates (apps ValidateStatefulSetUpdate)', () => {
  const base = stored(sts({ replicas: 2, volumeClaimTemplates: [claim] })) as unknown as StatefulSet;
  const FORBIDDEN = "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";
  const updates: [string, Json, boolean][] = [
    ['replicas', { replicas: 5 }, true],
    ['template', { template: { metadata: { labels: { app: 'kubia' } }, spec: { containers: [{ ...container, image: 'luksa/kubia-pet-peers' }] } } }, true],
    ['updateStrategy', { updateStrategy: { type: 'OnDelete' } }, true],
    ['retention policy', { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete' } }, true],
    ['minReadySeconds', { minReadySeconds: 10 }, true],
    ['ordinals', { ordinals: { start: 3 } }, true],
    ['nothing', {}, true],
    ['podManagementPolicy', { podManagementPolicy: 'Parallel' }, false],
    ['serviceName', { serviceName: 'other' }, false],
    ['selector', { selector: { matchLabels: { app: 'kubia', tier: 'x' } }, template: { metadata: { labels: { app: 'kubia', tier: 'x' } }, spec: { containers: [container] } } }, false],
    ['revisionHistoryLimit', { revisionHistoryLimit: 3 }, false],
    ['claim template storage', { volumeClaimTemplates: [{ ...claim, spec: { ...claim.spec, resources: { requests: { storage: '2Mi' } } } }] }, false],
    ['claim templates dropped', { volumeClaimTemplates: [] }, false],
  ];
  it.each(updates)('changing %s', (_name, spec, allowed) => {
    const next = stored({ ...base, spec: { ...base.spec, ...spec } }) as unknown as StatefulSet;
    const causes = validateUpdate(next, base);
    if (allowed) expect(causes).toEqual([]);
    else expect(causes).toEqual([{ reason: 'FieldValueForbidden', field: 'spec', message: FORBIDDEN }]);
  });

  it('a set stored before defaults existed can still be updated', () => {
    const old = { ...base, spec: { ...base.spec } } as StatefulSet;
    delete old.spec.revisionHistoryLimit;
    delete old.spec.podManagementPolicy;
    old.spec.volumeClaimTemplates = [claim as unknown as NonNullable<StatefulSet['spec']['volumeClaimTemplates']>[number]];
    expect(validateUpdate({ ...base, spec: { ...base.spec, replicas: 3 } }, old)).toEqual([]);
  });

  it('the store refuses a forbidden update whoever writes it', () => {
    const store = new ObjectStore();
    const [created] = store.apply([base]);
    const changed = { ...created!, spec: { ...(created as StatefulSet).spec, serviceName: 'other' } } as StatefulSet;
    expect(() => store.apply([changed])).toThrow(/spec: Forbidden: updates to statefulset spec/);
    expect(() => store.apply([{ ...created!, spec: { ...(created as StatefulSet).spec, replicas: 4 } } as StatefulSet])).not.toThrow();
  });
});
