// Runs the controllers on store events. Reconciles happen inside the store's
// event delivery, so by the time a write returns, every reconcile it caused has
// run and committed (the store announces those commits in order afterwards).

import type { KubeObject, Pod } from '../model/types.js';
import type { Cidr } from '../store/allocator.js';
import type { ObjectStore, StoreEvent } from '../store/store.js';
import { SERVICE_NAME_LABEL } from '../model/types.js';
import { EndpointSliceController, MANAGED_BY, MANAGED_BY_LABEL } from './endpointslice.js';
import { controllerOf } from '../model/pods.js';
import { Kubelet } from './kubelet.js';
import { LeaseController } from './leases.js';
import { StatefulSetController } from './statefulset.js';
import { PodTerminator } from './terminator.js';

export interface ControllerOptions {
  podCidr: Cidr;
  startUnready: boolean;
  /** Grace period of pod deletions that do not name one. */
  podGraceSeconds: number;
  log: (message: string) => void;
}

export class ControllerManager {
  readonly terminator: PodTerminator;
  private readonly kubelet: Kubelet;
  private readonly leases: LeaseController;
  private readonly statefulSets: StatefulSetController;
  private readonly endpointSlices: EndpointSliceController;
  private readonly unsubscribe: () => void;

  constructor(
    store: ObjectStore,
    private readonly options: ControllerOptions,
  ) {
    this.terminator = new PodTerminator(store, options.podGraceSeconds, (error) => options.log(`pod termination: ${String(error)}`));
    this.kubelet = new Kubelet(store, options.podCidr, options.startUnready);
    this.statefulSets = new StatefulSetController(store, { deletePod: (pod) => this.terminator.delete(pod) });
    this.endpointSlices = new EndpointSliceController(store);
    this.leases = new LeaseController(store, options.log);
    this.unsubscribe = store.subscribe((events) => this.onEvents(events));
    // Objects that were there before the controllers started.
    this.run(() => this.kubelet.syncAll(store.list('Pod').map((pod) => [pod.metadata.namespace ?? 'default', pod.metadata.name] as const)));
    for (const set of store.list('StatefulSet')) this.run(() => this.statefulSets.reconcile(set.metadata.namespace ?? 'default', set.metadata.name));
    for (const service of store.list('Service')) this.run(() => this.endpointSlices.reconcile(service.metadata.namespace ?? 'default', service.metadata.name));
  }

  close(): void {
    this.unsubscribe();
    this.terminator.close();
    this.leases.close();
  }

  /** A failing reconcile is logged, never thrown into the write that caused it. */
  private run(reconcile: () => void): void {
    try {
      reconcile();
    } catch (error) {
      this.options.log(`controller: ${(error as Error).message}`);
    }
  }

  private onEvents(events: readonly StoreEvent[]): void {
    const sets = new Map<string, string | undefined>();
    const deletedSets = new Map<string, string | undefined>();
    const services = new Set<string>();
    const pods = new Set<string>();
    const key = (object: KubeObject): string => `${object.metadata.namespace ?? 'default'}/${object.metadata.name}`;
    for (const event of events) {
      const object = event.object;
      switch (object.kind) {
        case 'StatefulSet':
          if (event.type === 'DELETED') deletedSets.set(key(object), object.metadata.uid);
          else sets.set(key(object), object.metadata.uid);
          break;
        case 'Pod': {
          const before = event.previous as Pod | undefined;
          this.kubelet.notePod(before, event.type === 'DELETED' ? undefined : object);
          if (event.type !== 'DELETED') pods.add(key(object));
          const owner = controllerOf(object);
          if (owner?.kind === 'StatefulSet') sets.set(`${object.metadata.namespace ?? 'default'}/${owner.name}`, owner.uid);
          const namespace = object.metadata.namespace ?? 'default';
          for (const service of this.endpointSlices.servicesSelecting(namespace, object.metadata.labels, before?.metadata.labels)) {
            services.add(key(service));
          }
          break;
        }
        case 'Service':
          services.add(key(object));
          break;
        case 'EndpointSlice':
          // Someone touched a slice the controller owns: put it back the way it should be.
          if (object.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY) {
            const service = object.metadata.labels[SERVICE_NAME_LABEL];
            if (service) services.add(`${object.metadata.namespace ?? 'default'}/${service}`);
          }
          break;
        case 'Lease':
          this.leases.watch(object, event.type === 'DELETED');
          break;
        case 'Namespace':
          break;
      }
    }
    if (pods.size) {
      this.run(() =>
        this.kubelet.syncAll(
          [...pods].map((id) => {
            const [namespace = 'default', name = ''] = id.split('/');
            return [namespace, name] as const;
          }),
        ),
      );
    }
    for (const [id, uid] of deletedSets) {
      const [namespace = 'default', name = ''] = id.split('/');
      this.run(() => this.statefulSets.reconcileDeleted(namespace, name, uid));
    }
    for (const id of sets.keys()) {
      const [namespace = 'default', name = ''] = id.split('/');
      this.run(() => this.statefulSets.reconcile(namespace, name));
    }
    for (const id of services) {
      const [namespace = 'default', name = ''] = id.split('/');
      this.run(() => this.endpointSlices.reconcile(namespace, name));
    }
  }
}
