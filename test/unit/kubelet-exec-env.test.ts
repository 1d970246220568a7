// Which containers run locally (exec.ts) and the environment they get (env.ts),
// as tables. Expansion cases follow Kubernetes' expansion_test.go.

import { describe, expect, it } from 'vitest';
import { containerEnv, expandVars, fieldValue, serviceLinkVars } from '../../src/kubelet/env.js';
import { asksForExec, imageMatches, localCommand, parseExecFlag, stampExecDirs, validateExecMap } from '../../src/kubelet/exec.js';
import type { Container, Pod, Service } from '../../src/model/types.js';

const pod = (containers: Partial<Container>[], annotations?: Record<string, string>, extra: Partial<Pod['spec']> = {}): Pod =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'kubia-0', namespace: 'default', uid: 'u-1', labels: { app: 'kubia' }, ...(annotations ? { annotations } : {}) },
    spec: { nodeName: 'headless-dns', containers: containers.map((c, i) => ({ name: `c${i}`, ...c })), ...extra },
    status: { podIP: '127.10.0.7', podIPs: [{ ip: '127.10.0.7' }], hostIP: '127.0.0.1' },
  }) as Pod;

describe('image matching', () => {
  it.each([
    ['luksa/kubia-pet-peers', 'luksa/kubia-pet-peers', true],
    ['luksa/kubia-pet-peers', 'luksa/kubia-pet-peers:latest', true],
    ['luksa/kubia-pet-peers', 'docker.io/luksa/kubia-pet-peers:v2', true],
    ['luksa/kubia-pet-peers:v2', 'luksa/kubia-pet-peers:v2', true],
    ['luksa/kubia-pet-peers:v2', 'luksa/kubia-pet-peers:v3', false],
    ['luksa/kubia-pet-peers:latest', 'luksa/kubia-pet-peers', true],
    ['nginx', 'docker.io/library/nginx:1.27', true],
    ['nginx', 'nginx-extra', false],
    ['localhost:5000/app', 'localhost:5000/app:dev', true],
    ['localhost:5000/app', 'app', false],
    ['ghcr.io/x/app', 'ghcr.io/x/app@sha256:abc', true],
    ['ghcr.io/x/app@sha256:abc', 'ghcr.io/x/app@sha256:def', false],
  ])('%s ~ %s: %s', (key, image, expected) => {
    expect(imageMatches(key, image)).toBe(expected);
  });
});

describe('--exec and exec', () => {
  it('parses IMAGE=COMMAND and IMAGE', () => {
    expect(parseExecFlag('luksa/kubia=node app.js')).toEqual(['luksa/kubia', 'node app.js']);
    expect(parseExecFlag('luksa/kubia=node --flag=x app.js')).toEqual(['luksa/kubia', 'node --flag=x app.js']);
    expect(parseExecFlag('luksa/kubia')).toEqual(['luksa/kubia', true]);
  });
  it.each([['=node app.js'], ['luksa/kubia='], ['two words=x']])('refuses %j', (flag) => {
    expect(() => parseExecFlag(flag)).toThrow(/--exec/);
  });
  it('validates the fixture option', () => {
    expect(validateExecMap({ a: 'node x.js', b: ['node', 'y.js'], c: true }, 'exec')).toEqual({ a: 'node x.js', b: ['node', 'y.js'], c: true });
    expect(() => validateExecMap('node', 'exec')).toThrow(/exec must be an object/);
    expect(() => validateExecMap({ a: '' }, 'exec')).toThrow(/exec\["a"\] must be/);
    expect(() => validateExecMap({ a: [] }, 'exec')).toThrow(/exec\["a"\] must be/);
    expect(() => validateExecMap({ a: false }, 'exec')).toThrow(/exec\["a"\] must be/);
  });
});

describe('which container runs, and how', () => {
  it('a mapped image runs its command with /bin/sh -c; others stay emulated', () => {
    const p = pod([{ image: 'luksa/kubia:v1' }, { image: 'busybox' }]);
    expect(localCommand(p, 0, { 'luksa/kubia': 'node app.js' }, false)).toEqual({ argv: ['/bin/sh', '-c', 'node app.js'], expand: false, source: '--exec luksa/kubia' });
    expect(localCommand(p, 1, { 'luksa/kubia': 'node app.js' }, false)).toBeUndefined();
  });
  it('IMAGE alone runs the manifest command and args, expanded later; no command is a problem', () => {
    const p = pod([{ image: 'app', command: ['node', 'server.js'], args: ['--name', '$(POD)'] }, { image: 'other', args: ['x'] }]);
    expect(localCommand(p, 0, { app: true }, false)).toEqual({ argv: ['node', 'server.js', '--name', '$(POD)'], expand: true, source: '--exec app' });
    expect(localCommand(p, 1, { other: true }, false)).toEqual({ problem: expect.stringContaining('container c1 has no command') });
  });
  it('annotations count only when the cluster runs commands: first container, or a named one', () => {
    const p = pod([{ image: 'a' }, { image: 'b' }], { 'headless-dns.io/exec': 'node a.js', 'headless-dns.io/exec.c1': 'node b.js', 'headless-dns.io/exec-dir': '/srv/app' });
    expect(localCommand(p, 0, {}, false)).toBeUndefined();
    expect(localCommand(p, 0, {}, true)).toMatchObject({ argv: ['/bin/sh', '-c', 'node a.js'], cwd: '/srv/app', source: 'annotation headless-dns.io/exec' });
    expect(localCommand(p, 1, {}, true)).toMatchObject({ argv: ['/bin/sh', '-c', 'node b.js'], source: 'annotation headless-dns.io/exec.c1' });
  });
  it('an image mapping wins over an annotation', () => {
    const p = pod([{ image: 'a' }], { 'headless-dns.io/exec': 'node a.js' });
    expect(localCommand(p, 0, { a: 'node other.js' }, true)).toMatchObject({ argv: ['/bin/sh', '-c', 'node other.js'] });
  });
  it('manifests from files get exec-dir; a set asks through its template', () => {
    const set = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 's' }, spec: { selector: {}, template: { metadata: { annotations: { 'headless-dns.io/exec': 'node app.js' } }, spec: { containers: [] } } } };
    expect(asksForExec([set as never])).toBe(true);
    const [stamped] = stampExecDirs([{ source: `${process.cwd()}/package.json: document 1`, object: set as never }]);
    expect((stamped!.object as typeof set).spec.template.metadata.annotations).toEqual({ 'headless-dns.io/exec': 'node app.js', 'headless-dns.io/exec-dir': process.cwd() });
    // stdin and URLs have no directory.
    expect(stampExecDirs([{ source: '-: document 1', object: set as never }])[0]!.object).toBe(set);
  });
});

describe('$(VAR) expansion (expansion_test.go)', () => {
  const vars: Record<string, string> = { VAR_A: 'A', VAR_B: 'B', VAR_C: 'C', VAR_REF: '$(VAR_A)', VAR_EMPTY: '' };
  const lookup = (name: string): string | undefined => vars[name];
  it.each([
    ['$(VAR_A)', 'A'],
    ['___$(VAR_B)___', '___B___'],
    ['$(VAR_A)-$(VAR_A)', 'A-A'],
    ['$(VAR_A)-1', 'A-1'],
    ['$(VAR_A)_$(VAR_B)_$(VAR_C)', 'A_B_C'],
    ['$(VAR_DNE)', '$(VAR_DNE)'],
    ['$(VAR_EMPTY)', ''],
    ['$(VAR_REF)', '$(VAR_A)'],
    ['$$(VAR_B)', '$(VAR_B)'],
    ['$$$$$$(BIG_MONEY)', '$$$(BIG_MONEY)'],
    ['$$(VAR_A)$(VAR_A)', '$(VAR_A)A'],
    ['$(VAR_A', '$(VAR_A'],
    ['$(', '$('],
    ['$VAR_A', '$VAR_A'],
    ['$', '$'],
    ['f000-$$VAR_A', 'f000-$VAR_A'],
    ['$()', '$()'],
    ['$(VAR_A)$(VAR_DNE', 'A$(VAR_DNE'],
  ])('%j → %j', (input, expected) => {
    expect(expandVars(input, lookup)).toBe(expected);
  });
});

describe('the environment', () => {
  it('env in order, each value expanded against the ones before it and the Service variables', () => {
    const p = pod([{ env: [{ name: 'A', value: 'x' }, { name: 'B', value: '$(A)-$(C)' }, { name: 'C', value: 'c' }, { name: 'D', value: '$(KUBIA_PUBLIC_SERVICE_HOST)' }] }]);
    const services = [{ kind: 'Service', metadata: { name: 'kubia-public', namespace: 'default' }, spec: { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }] } }] as Service[];
    const env = containerEnv(p, p.spec.containers[0]!, services);
    expect(env.slice(0, 4)).toEqual([['A', 'x'], ['B', 'x-$(C)'], ['C', 'c'], ['D', '10.96.0.10']]);
    expect(Object.fromEntries(env)).toMatchObject({ KUBIA_PUBLIC_SERVICE_HOST: '10.96.0.10', KUBIA_PUBLIC_SERVICE_PORT: '80', KUBIA_PUBLIC_SERVICE_PORT_HTTP: '80', KUBIA_PUBLIC_PORT: 'tcp://10.96.0.10:80', KUBIA_PUBLIC_PORT_80_TCP: 'tcp://10.96.0.10:80', KUBIA_PUBLIC_PORT_80_TCP_PROTO: 'tcp', KUBIA_PUBLIC_PORT_80_TCP_PORT: '80', KUBIA_PUBLIC_PORT_80_TCP_ADDR: '10.96.0.10' });
  });
  it('headless Services make no variables; enableServiceLinks false makes none at all; a container env wins', () => {
    const headless = { kind: 'Service', metadata: { name: 'kubia', namespace: 'default' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } } as Service;
    expect(serviceLinkVars([headless])).toEqual([]);
    const ip = { kind: 'Service', metadata: { name: 'db', namespace: 'default' }, spec: { clusterIP: '10.96.0.3', ports: [{ port: 5432 }] } } as Service;
    const off = pod([{}], undefined, { enableServiceLinks: false });
    expect(containerEnv(off, off.spec.containers[0]!, [ip])).toEqual([]);
    const own = pod([{ env: [{ name: 'DB_SERVICE_HOST', value: 'mine' }] }]);
    expect(Object.fromEntries(containerEnv(own, own.spec.containers[0]!, [ip])).DB_SERVICE_HOST).toBe('mine');
  });
  it.each([
    ['metadata.name', 'kubia-0'],
    ['metadata.namespace', 'default'],
    ['metadata.uid', 'u-1'],
    ["metadata.labels['app']", 'kubia'],
    ["metadata.annotations['none']", ''],
    ['spec.nodeName', 'headless-dns'],
    ['spec.serviceAccountName', 'default'],
    ['status.podIP', '127.10.0.7'],
    ['status.podIPs', '127.10.0.7'],
    ['status.hostIP', '127.0.0.1'],
  ])('fieldRef %s = %j', (path, value) => {
    expect(fieldValue(pod([{}]), path)).toBe(value);
  });
  it('ConfigMap and Secret references fail the container unless optional', () => {
    const p = pod([{ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'x' } } }] }]);
    expect(() => containerEnv(p, p.spec.containers[0]!, [])).toThrow(/configmap "cfg" not found/);
    const optional = pod([{ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'x', optional: true } } }] }]);
    expect(containerEnv(optional, optional.spec.containers[0]!, [])).toEqual([]);
  });
});
