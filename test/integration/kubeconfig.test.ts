// `--kubeconfig FILE` merges (issue 11, item 4). It used to overwrite the file:
// a kubeconfig holding other contexts lost them all. Now, as kind, k3d and
// minikube do, our cluster, user and context are added (or updated), everything
// else is kept, current-context changes only when asked, the file is written
// atomically with mode 0600, and our entries go again when serve exits.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dump, load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { startCluster } from '../../src/cluster.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { hasKubectl } from '../support/kubectl.js';
import { refusedServe, startServe } from '../support/serve.js';

const exec = promisify(execFile);

interface Config {
  'current-context'?: string;
  clusters: { name: string; cluster: Record<string, unknown> }[];
  users: { name: string; user: Record<string, unknown> }[];
  contexts: { name: string; context: Record<string, unknown> }[];
}

/** A kubeconfig as a user has one: two clusters of their own, the first current. */
const THEIRS: Config = {
  'current-context': 'work',
  clusters: [
    { name: 'work', cluster: { server: 'https://work.example:6443', 'certificate-authority-data': 'V09SSw==' } },
    { name: 'kind-kind', cluster: { server: 'https://127.0.0.1:40000' } },
  ],
  users: [
    { name: 'work-admin', user: { token: 'work-token' } },
    { name: 'kind-kind', user: { 'client-certificate-data': 'Q0VSVA==' } },
  ],
  contexts: [
    { name: 'work', context: { cluster: 'work', user: 'work-admin', namespace: 'prod' } },
    { name: 'kind-kind', context: { cluster: 'kind-kind', user: 'kind-kind' } },
  ],
};

function theirKubeconfig(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'hdns-kc-')), 'config');
  writeFileSync(file, dump({ apiVersion: 'v1', kind: 'Config', preferences: {}, ...THEIRS }), { mode: 0o600 });
  return file;
}

const read = (file: string): Config => load(readFileSync(file, 'utf8')) as Config;
const names = (config: Config): string[] => config.contexts.map((c) => c.name);

describe('serve --kubeconfig FILE merges into FILE', () => {
  it('keeps the other contexts and current-context, adds ours (0600), and takes ours out on exit', async () => {
    const file = theirKubeconfig();
    const serving = await startServe(['-f', KUBIA_EXAMPLE, '--kubeconfig', file]);
    try {
      const config = read(file);
      expect(names(config)).toEqual(['work', 'kind-kind', 'headless-dns']);
      expect(config['current-context']).toBe('work');
      expect(config.clusters.find((c) => c.name === 'headless-dns')!.cluster.server).toBe(serving.api);
      // Theirs, byte for byte in value.
      for (const list of ['clusters', 'users', 'contexts'] as const) expect(config[list].filter((e) => e.name !== 'headless-dns')).toEqual(THEIRS[list]);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(serving.stderr()).toContain(`kubeconfig: merged context headless-dns into ${file} (current-context stays "work": use kubectl --context headless-dns)`);
      if (hasKubectl) {
        const { stdout } = await exec('kubectl', ['--kubeconfig', file, '--context', 'headless-dns', 'get', 'pods', '-o', 'name']);
        expect(stdout).toBe('pod/kubia-0\npod/kubia-1\n');
      }
    } finally {
      expect(await serving.stop()).toBe(0);
    }
    const after = read(file);
    expect(after).toMatchObject(THEIRS);
    expect(names(after)).toEqual(['work', 'kind-kind']);
    expect(after.clusters.map((c) => c.name)).toEqual(['work', 'kind-kind']);
  });

  it('--kubeconfig-set-current makes ours current while it runs, and puts the old one back', async () => {
    const file = theirKubeconfig();
    const serving = await startServe(['-f', KUBIA_EXAMPLE, '--kubeconfig', file, '--kubeconfig-set-current']);
    try {
      expect(read(file)['current-context']).toBe('headless-dns');
      if (hasKubectl) expect((await exec('kubectl', ['--kubeconfig', file, 'get', 'pods', '-o', 'name'])).stdout).toBe('pod/kubia-0\npod/kubia-1\n');
    } finally {
      await serving.stop();
    }
    expect(read(file)['current-context']).toBe('work');
    expect(names(read(file))).toEqual(['work', 'kind-kind']);
  });

  it.runIf(hasKubectl)('changes kubectl makes meanwhile are kept; only our entries go', async () => {
    const file = theirKubeconfig();
    const serving = await startServe(['-f', KUBIA_EXAMPLE, '--kubeconfig', file, '--kubeconfig-set-current']);
    try {
      // kubectl rewrites the whole file in its own key order; ours must still be recognised.
      await exec('kubectl', ['--kubeconfig', file, 'config', 'set-context', 'kind-kind', '--namespace', 'dev']);
      await exec('kubectl', ['--kubeconfig', file, 'config', 'set-cluster', 'later', '--server', 'https://later.example']);
    } finally {
      await serving.stop();
    }
    // kubectl writes its entries sorted by name.
    const after = read(file);
    expect(names(after).sort()).toEqual(['kind-kind', 'work']);
    expect(after.contexts.find((c) => c.name === 'kind-kind')!.context.namespace).toBe('dev');
    expect(after.clusters.map((c) => c.name).sort()).toEqual(['kind-kind', 'later', 'work']);
    expect(after['current-context']).toBe('work');
  });

  it('a file that did not exist is created (ours current) and deleted again on close', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hdns-kc-')), 'nested', 'config');
    const cluster = await startCluster({ kubeconfig: file });
    expect(read(file)['current-context']).toBe('headless-dns');
    expect(cluster.kubeconfig).toEqual({ path: file, context: 'headless-dns' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await cluster.close();
    expect(existsSync(file)).toBe(false);
  });

  it('--kubeconfig default merges into the file $KUBECONFIG names', async () => {
    const file = theirKubeconfig();
    const serving = await startServe(['-f', KUBIA_EXAMPLE, '--kubeconfig', 'default'], { ...process.env, KUBECONFIG: file });
    try {
      expect(names(read(file))).toEqual(['work', 'kind-kind', 'headless-dns']);
    } finally {
      // Stopped the moment it is ready: serve listens for SIGTERM before it prints the ready line.
      expect(await serving.stop()).toBe(0);
    }
    expect(names(read(file))).toEqual(['work', 'kind-kind']);
  });

  it('refuses a file that is not a kubeconfig, and leaves it as it was', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hdns-kc-')), 'config');
    writeFileSync(file, 'apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n');
    const refused = await refusedServe(['-f', KUBIA_EXAMPLE, '--kubeconfig', file]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/INVALID_OPTION: --kubeconfig .* is not a kubeconfig \(kind "Pod"\)/);
    expect(readFileSync(file, 'utf8')).toBe('apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n');
  });
});
