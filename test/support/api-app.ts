// An API app over a store holding the kubia example, with controllers running, for inject() tests.

import { buildApiApp, type ApiApp } from '../../src/api/app.js';
import { Metrics } from '../../src/api/metrics.js';
import { ControllerManager } from '../../src/controllers/manager.js';
import { loadManifests } from '../../src/model/manifest.js';
import { parseCidr } from '../../src/store/allocator.js';
import { ObjectStore } from '../../src/store/store.js';
import { KUBIA_EXAMPLE } from './fixture.js';

export interface TestApi {
  store: ObjectStore;
  api: ApiApp;
  close(): Promise<void>;
}

export function kubiaApi(): TestApi {
  const store = new ObjectStore();
  const controllers = new ControllerManager(store, { podCidr: parseCidr('127.10.0.0/16')!, startUnready: false, podGraceSeconds: 0, log: () => undefined });
  store.apply(loadManifests([KUBIA_EXAMPLE]).objects.map((m) => m.object));
  const api = buildApiApp({ store, pods: controllers.terminator, metrics: new Metrics(store), packageVersion: '0.0.0', serverAddress: () => '127.0.0.1:0' });
  return {
    store,
    api,
    close: async () => {
      await api.app.close();
      controllers.close();
    },
  };
}
