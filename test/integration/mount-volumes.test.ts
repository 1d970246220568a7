// --mount-volumes (issue 13 item 5): a member sees its claim at its real
// mountPath, in a user and mount namespace of its own; the machine's own
// directories are left as they were.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountNamespaces } from '../../src/kubelet/mounts.js';
import { startCluster, type StartedCluster } from '../../src/index.js';
import type { KubeObject, Pod } from '../../src/model/types.js';

const support = mountNamespaces();
if (!support.ok) console.warn(`mount-volumes: skipped: ${support.reason}`);
// A path the machine does not have: made under an overlay of /var, inside the member's namespace only.
const MOUNT = '/var/hdns-test-data';

describe.skipIf(!support.ok)('members with their volumes at their mountPaths', () => {
  let dir: string;
  let cluster: StartedCluster;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hdns-mounts-'));
    writeFileSync(
      join(dir, 'writer.js'),
      `const fs = require('node:fs');
fs.appendFileSync('${MOUNT}/hello.txt', process.env.HOSTNAME + '\\n');
console.log('wrote ' + fs.readFileSync('${MOUNT}/hello.txt', 'utf8').trim().split('\\n').join(','));
setInterval(() => {}, 1000);`,
    );
    cluster = await startCluster({ exec: { 'example/writer': ['node', join(dir, 'writer.js')] }, mountVolumes: true });
  });
  afterAll(async () => {
    await cluster?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the app writes to its mountPath and the data is in its claim, kept across a delete', async () => {
    expect(existsSync(MOUNT)).toBe(false);
    cluster.apply([
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'w', namespace: 'default' }, spec: { clusterIP: 'None', selector: { app: 'w' }, ports: [{ port: 80 }] } },
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'w', namespace: 'default' },
        spec: {
          serviceName: 'w',
          replicas: 1,
          selector: { matchLabels: { app: 'w' } },
          template: { metadata: { labels: { app: 'w' } }, spec: { containers: [{ name: 'app', image: 'example/writer', volumeMounts: [{ name: 'data', mountPath: MOUNT }] }] } },
          volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } } }],
        },
      },
    ] as KubeObject[]);
    const logged = async (text: string): Promise<void> => {
      const end = Date.now() + 15_000;
      for (;;) {
        let lines: string[] = [];
        try {
          lines = cluster.logs('w-0');
        } catch {
          // still being created
        }
        if (lines.includes(text)) return;
        if (Date.now() > end) throw new Error(`w-0 did not say "${text}": ${lines.join(' | ')}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    await logged('wrote w-0');
    const claim = cluster.get('PersistentVolumeClaim', 'data-w-0') as { spec: { volumeName: string } };
    const volume = cluster.get('PersistentVolume', claim.spec.volumeName) as { spec: { hostPath: { path: string } } };
    expect(readFileSync(join(volume.spec.hostPath.path, 'hello.txt'), 'utf8')).toBe('w-0\n');
    // Nothing was made on the machine itself.
    expect(existsSync(MOUNT)).toBe(false);
    const uid = (cluster.get('Pod', 'w-0') as Pod).metadata.uid;
    cluster.deletePod('w-0', { gracePeriodSeconds: 0 });
    const end = Date.now() + 15_000;
    while ((cluster.get('Pod', 'w-0') as Pod | undefined)?.metadata.uid === uid && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 50));
    await logged('wrote w-0,w-0');
  }, 40_000);
});
