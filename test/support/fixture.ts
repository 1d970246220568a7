import { fileURLToPath } from 'node:url';
import { loadManifests } from '../../src/model/manifest.js';
import { RecordIndex } from '../../src/records/index.js';
import type { DnsConfig } from '../../src/records/build.js';
import { ObjectStore } from '../../src/store/store.js';

export const FIXTURE = fileURLToPath(new URL('../fixtures/cluster.yaml', import.meta.url));
export const KUBIA_EXAMPLE = fileURLToPath(new URL('../../examples/kubia', import.meta.url));

export const KUBEADM: DnsConfig = { zone: 'cluster.local.', ttl: 30, pods: 'insecure', reverse: true, nsAddresses: ['127.0.0.1'] };

export function fixtureIndex(config: Partial<DnsConfig> = {}, path = FIXTURE): { store: ObjectStore; index: RecordIndex } {
  const store = new ObjectStore();
  store.apply(loadManifests([path]).objects.map((m) => m.object));
  return { store, index: new RecordIndex(store, { ...KUBEADM, ...config }) };
}
