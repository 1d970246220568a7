// Runs the controllers on store events. Events only mark what needs
// reconciling, as a controller's work queue does; the reconciles run when the
// store is idle (every batch delivered), one stage at a time in the order a
// new pod travels: StatefulSet → kubelet → EndpointSlice. A set scaled to 10
// is then reconciled once per round, not once per event, and its slice is
// written once its pods have addresses. By the time a write returns, every
// reconcile it caused has run and committed.

import type { Pod } from '../model/types.js';
import type { Cidr } from '../store/allocator.js';
import type { ObjectStore, StoreEvent } from '../store/store.js';
import { SERVICE_NAME_LABEL } from '../model/types.js';
import { EndpointSliceController, MANAGED_BY, MANAGED_BY_LABEL } from './endpointslice.js';
import { controllerOf } from '../model/pods.js';
import { systemClock, type Clock } from '../model/clock.js';
import { NodeLifecycleController, nodeNames } from './nodelifecycle.js';
import { Kubelet } from './kubelet.js';
import { StoredEventRecorder } from './events.js';
import { LeaseController } from './leases.js';
import { StatefulSetController } from './statefulset.js';
import { PodTerminator } from './terminator.js';
import { VolumeController, claimTemplates } from './volumes.js';
import type { EventRecorder } from './events.js';
import type { LocalPods } from './kubelet.js';

export interface ControllerOptions {
  podCidr: Cidr;
  startUnready: boolean;
  /** Grace period of pod deletions that do not name one. */
  podGraceSeconds: number;
  log: (message: string) => void;
  /** Nodes the emulated kubelets register at start (headless-dns, headless-dns-m02, ...). Default 1. */
  nodes?: number;
  /** The clock node evictions wait on. Default: the system clock. */
  clock?: Clock;
  /** Where the node lifecycle controller, the scheduler and taint eviction record events. Default: a bounded in-memory list. */
  recorder?: EventRecorder;
  /** The directory the claims' directories go in (`<state>.volumes`); default a temporary one, removed on close (volumes.ts). */
  volumeRoot?: string;
  /** How long a stored Event lives after its last write (the API server's --event-ttl). Default 3600. */
  eventTtlSeconds?: number;
  /** The process runtime, when containers run as local processes (src/kubelet/runtime.ts); made once the recorder exists. */
  localPods?: (recorder: EventRecorder) => LocalPods;
}

export class ControllerManager {
  readonly terminator: PodTerminator;
  readonly nodes: NodeLifecycleController;
  private readonly kubelet: Kubelet;
  private readonly leases: LeaseController;
  private readonly statefulSets: StatefulSetController;
  private readonly endpointSlices: EndpointSliceController;
  readonly volumes: VolumeController;
  /** The process runtime, when there is one. */
  readonly localPods: LocalPods | undefined;
  /** The recorder every controller reports to: Events stored through the store (events.ts), unless options.recorder is given. */
  readonly recorder: EventRecorder;
  private readonly unsubscribe: () => void;
  private readonly unsubscribeIdle: () => void;
  /** Work marked by events, by stage. */
  private deletedSets = new Map<string, { namespace: string; name: string; uid: string | undefined }>();
  private sets = new Dirty();
  private pods = new Dirty();
  private nodeNames = new Set<string>();
  private services = new Dirty();
  /** Storage work: owners gone (garbage collection), sets whose spec moved, claims, volumes. */
  private storage = { owners: new Set<string>(), sets: new Dirty(), claims: new Dirty(), volumes: new Set<string>() };

  constructor(
    private readonly store: ObjectStore,
    private readonly options: ControllerOptions,
  ) {
    this.recorder = options.recorder ?? new StoredEventRecorder(store, { clock: options.clock ?? systemClock, ...(options.eventTtlSeconds !== undefined ? { ttlSeconds: options.eventTtlSeconds } : {}), onError: (error) => options.log(`events: ${String(error)}`) });
    this.nodes = new NodeLifecycleController(store, {
      clock: options.clock ?? systemClock,
      recorder: this.recorder,
      deletePod: (pod, grace) => this.terminator.delete(pod, grace),
      resumeTermination: (pod) => this.terminator.resume(pod),
      log: options.log,
    });
    const local = options.localPods?.(this.recorder);
    this.localPods = local;
    this.terminator = new PodTerminator(store, options.podGraceSeconds, (error) => options.log(`pod termination: ${String(error)}`), (pod) => this.nodes.kubeletUp(pod.spec.nodeName), this.recorder, (pod) => local?.runs(pod) ?? false);
    this.kubelet = new Kubelet(store, options.podCidr, options.startUnready, this.nodes, this.recorder, local);
    this.volumes = new VolumeController(store, { ...(options.volumeRoot ? { root: options.volumeRoot } : {}), log: options.log, recorder: this.recorder });
    this.statefulSets = new StatefulSetController(store, { deletePod: (pod) => this.terminator.delete(pod), volumes: this.volumes, recorder: this.recorder, clock: options.clock ?? systemClock, log: options.log });
    this.endpointSlices = new EndpointSliceController(store);
    this.leases = new LeaseController(store, options.log);
    this.unsubscribe = store.subscribe((events) => this.onEvents(events));
    this.unsubscribeIdle = store.onIdle(() => this.drain());
    // Objects that were there before the controllers started.
    this.run(() => this.nodes.register(nodeNames(options.nodes ?? 1)));
    for (const node of store.list('Node')) this.run(() => this.nodes.reconcile(node.metadata.name));
    this.run(() => this.kubelet.syncAll(store.list('Pod').map((pod) => [pod.metadata.namespace ?? 'default', pod.metadata.name] as const)));
    for (const set of store.list('StatefulSet')) this.run(() => this.statefulSets.reconcile(set.metadata.namespace ?? 'default', set.metadata.name));
    for (const service of store.list('Service')) {
      // Not in a cascade yet: a split reconcile is simply run again until done.
      this.run(() => {
        while (!this.endpointSlices.reconcile(service.metadata.namespace ?? 'default', service.metadata.name));
      });
    }
    this.run(() => this.volumes.ensureDirectories());
    for (const claim of store.list('PersistentVolumeClaim')) this.run(() => this.volumes.reconcileClaim(claim.metadata.namespace ?? 'default', claim.metadata.name));
    for (const volume of store.list('PersistentVolume')) this.run(() => this.volumes.reconcileVolume(volume.metadata.name));
  }

  close(): void {
    this.unsubscribe();
    this.unsubscribeIdle();
    this.terminator.close();
    this.nodes.close();
    this.statefulSets.close();
    this.leases.close();
    this.volumes.close();
    if (this.recorder instanceof StoredEventRecorder && !this.options.recorder) this.recorder.close();
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
    for (const event of events) {
      const object = event.object;
      const namespace = object.metadata.namespace ?? 'default';
      switch (object.kind) {
        case 'StatefulSet':
          if (event.type === 'DELETED' || (object.metadata.generation !== event.previous?.metadata.generation && claimTemplates(object).length)) {
            this.storage.sets.add(namespace, object.metadata.name);
          }
          if (event.type === 'DELETED' && object.metadata.uid) this.storage.owners.add(object.metadata.uid);
          if (event.type === 'DELETED') {
            this.deletedSets.set(`${namespace}/${object.metadata.name}`, { namespace, name: object.metadata.name, uid: object.metadata.uid });
            this.sets.delete(namespace, object.metadata.name);
          } else this.sets.add(namespace, object.metadata.name);
          break;
        case 'Pod': {
          const before = event.previous as Pod | undefined;
          this.kubelet.notePod(before, event.type === 'DELETED' ? undefined : object);
          // An address freed up: pods that waited for one are tried again.
          if (event.type === 'DELETED' && (object as Pod).status?.podIP && this.kubelet.waitingForAddress.size) {
            for (const key of this.kubelet.waitingForAddress) {
              const at = key.indexOf('/');
              this.pods.add(key.slice(0, at), key.slice(at + 1));
            }
          }
          this.nodes.notePod(before, event.type === 'DELETED' ? undefined : object);
          this.statefulSets.notePod(before, event.type === 'DELETED' ? undefined : object);
          for (const claim of this.volumes.notePod(before, event.type === 'DELETED' ? undefined : object)) this.storage.claims.add(namespace, claim);
          if (event.type === 'DELETED' && object.metadata.uid) this.storage.owners.add(object.metadata.uid);
          if (event.type !== 'DELETED') this.pods.add(namespace, object.metadata.name);
          const owner = controllerOf(object);
          if (owner?.kind === 'StatefulSet') this.sets.add(namespace, owner.name);
          for (const service of this.endpointSlices.servicesSelecting(namespace, object.metadata.labels, before?.metadata.labels)) {
            this.markService(namespace, service.metadata.name);
          }
          break;
        }
        case 'Service':
          this.markService(namespace, object.metadata.name);
          break;
        case 'EndpointSlice':
          // Someone touched a slice the controller owns: put it back the way it should be.
          if (object.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY && !this.endpointSlices.wroteLast(object, event.type === 'DELETED')) {
            const service = object.metadata.labels[SERVICE_NAME_LABEL];
            if (service) this.markService(namespace, service);
          }
          break;
        case 'ControllerRevision': {
          // The revision handlers of the StatefulSet controller: a revision changed or deleted by someone else is looked at again.
          const owner = object.metadata.ownerReferences?.find((ref) => ref.controller);
          if (owner?.kind === 'StatefulSet') this.sets.add(namespace, owner.name);
          break;
        }
        case 'Lease':
          this.leases.watch(object, event.type === 'DELETED');
          break;
        case 'PersistentVolumeClaim':
          this.storage.claims.add(namespace, object.metadata.name);
          if (object.spec.volumeName) this.storage.volumes.add(object.spec.volumeName);
          // A set may wait for this claim to be gone before it makes the member again.
          if (event.type === 'DELETED') for (const set of this.volumes.setsWanting(namespace, object.metadata.name)) this.sets.add(namespace, set);
          break;
        case 'PersistentVolume':
          if (event.type === 'DELETED') this.volumes.volumeGone(object);
          else this.storage.volumes.add(object.metadata.name);
          break;
        case 'Node':
          this.nodeNames.add(object.metadata.name);
          break;
        case 'Namespace':
          break;
      }
    }
  }

  /** Something a Service's slices are made from changed: reconcile it, and from scratch. */
  private markService(namespace: string, name: string): void {
    this.services.add(namespace, name);
    this.endpointSlices.invalidate(namespace, name);
  }

  /**
   * Runs the first stage that has work, and the next ones while nothing was
   * written; a write is delivered (marking more work) before the next stage runs.
   */
  private drain(): void {
    if (this.nodeNames.size) {
      const work = this.nodeNames;
      this.nodeNames = new Set();
      for (const name of work) this.run(() => this.nodes.reconcile(name));
      // A node that may take pods again (back, uncordoned, new): the pods no node could take are tried again.
      for (const pod of this.store.list('Pod')) {
        if (!pod.status?.podIP && !pod.metadata.deletionTimestamp) this.pods.add(pod.metadata.namespace ?? 'default', pod.metadata.name);
      }
      if (this.store.deliveriesPending) return;
    }
    if (this.deletedSets.size) {
      const work = this.deletedSets;
      this.deletedSets = new Map();
      for (const { namespace, name, uid } of work.values()) this.run(() => this.statefulSets.reconcileDeleted(namespace, name, uid));
      if (this.store.deliveriesPending) return;
    }
    if (!this.pods.isEmpty) {
      const work = this.pods;
      this.pods = new Dirty();
      this.run(() => this.kubelet.syncAll(work.entries()));
      if (this.store.deliveriesPending) return;
    }
    if (this.storage.owners.size || !this.storage.sets.isEmpty || !this.storage.claims.isEmpty || this.storage.volumes.size) {
      // Before the StatefulSet stage: claims get the policy's owners before a condemned member goes.
      const work = this.storage;
      this.storage = { owners: new Set(), sets: new Dirty(), claims: new Dirty(), volumes: new Set() };
      for (const uid of work.owners) this.run(() => this.volumes.collect(uid));
      for (const [namespace, name] of work.sets.entries()) this.run(() => this.volumes.reconcileSet(namespace, name));
      for (const [namespace, name] of work.claims.entries()) this.run(() => this.volumes.reconcileClaim(namespace, name));
      for (const name of work.volumes) this.run(() => this.volumes.reconcileVolume(name));
      if (this.store.deliveriesPending) return;
    }
    if (!this.sets.isEmpty) {
      const work = this.sets;
      this.sets = new Dirty();
      for (const [namespace, name] of work.entries()) this.run(() => this.statefulSets.reconcile(namespace, name));
      if (this.store.deliveriesPending) return;
    }
    if (!this.services.isEmpty) {
      const work = this.services;
      this.services = new Dirty();
      for (const [namespace, name] of work.entries()) {
        this.run(() => {
          if (this.endpointSlices.reconcile(namespace, name)) return;
          // Split (a large Service): the rest in the next round, still within this cascade.
          this.services.add(namespace, name);
          this.store.continueLater();
        });
      }
    }
  }
}

/** Names to reconcile, by namespace (the names are the stored strings; nothing is joined per event). */
class Dirty {
  private readonly byNamespace = new Map<string, Set<string>>();

  add(namespace: string, name: string): void {
    let names = this.byNamespace.get(namespace);
    if (!names) this.byNamespace.set(namespace, (names = new Set()));
    names.add(name);
  }

  delete(namespace: string, name: string): void {
    this.byNamespace.get(namespace)?.delete(name);
  }

  get isEmpty(): boolean {
    for (const names of this.byNamespace.values()) if (names.size > 0) return false;
    return true;
  }

  *entries(): IterableIterator<readonly [namespace: string, name: string]> {
    for (const [namespace, names] of this.byNamespace) for (const name of names) yield [namespace, name] as const;
  }
}
