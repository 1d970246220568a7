// What kubelet and the network plugin do for an emulated pod: a pod that has no
// IP yet (and is not finished) gets one from the pod range and starts running,
// Ready at once unless it is told to start unready.

import { HeadlessDnsError } from '../errors.js';
import { nowTimestamp, runningConditions } from '../model/pods.js';
import type { Pod, PodCondition } from '../model/types.js';
import type { PodPlacement } from './nodelifecycle.js';
import { freezeJson } from '../model/json.js';
import { AddressAllocator, type Cidr } from '../store/allocator.js';
import type { ObjectStore } from '../store/store.js';
import { LOCAL_PROCESS_ANNOTATION } from './leases.js';
import type { EventRecorder } from './events.js';

/** A pod (or a StatefulSet, for its pods) with this annotation set to "true" starts unready. */
export const START_UNREADY_ANNOTATION = 'headless-dns.io/start-unready';

/**
 * The process runtime (src/kubelet/runtime.ts), for pods whose containers run as
 * local processes: the kubelet gives them an IP and a node as any pod, then
 * leaves their status to it.
 */
export interface LocalPods {
  runs(pod: Pod): boolean;
  /** The status written with the pod's IP: containers being created, not ready. */
  pendingStatus(pod: Pod, at: string): Pod['status'];
}

/** Every node is this machine. */
const HOST_IPS = freezeJson([{ ip: '127.0.0.1' }]);

interface ContainerStatus {
  name: string;
  image: string;
  imageID: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  state: { running: { startedAt: string } };
}

export class Kubelet {
  private readonly ips: AddressAllocator;
  private readonly used = new Set<string>();
  /** Pods left Pending because the pod range had no address (namespace/name): tried again when one frees up. */
  readonly waitingForAddress = new Set<string>();
  /**
   * The last status parts handed out, frozen: pods started in the same second
   * with the same readiness and containers share them instead of each holding a copy.
   */
  private lastConditions: { ready: boolean; at: string; conditions: PodCondition[] } | undefined;
  private readonly lastContainerStatuses = new WeakMap<object, { ready: boolean; at: string; statuses: ContainerStatus[] }>();

  constructor(
    private readonly store: ObjectStore,
    podCidr: Cidr,
    private readonly startUnready: boolean,
    /** Where pods run (nodelifecycle.ts): which node a new pod is bound to, and whether a node's kubelet is up. */
    private readonly placement?: PodPlacement,
    /** Where the kubelet's pod events go (Pulled, Created, Started). */
    private readonly recorder?: EventRecorder,
    private readonly local?: LocalPods,
  ) {
    this.ips = new AddressAllocator(podCidr, (ip) => this.used.has(ip), 1n);
    for (const pod of store.list('Pod')) this.notePod(undefined, pod);
  }

  /** Keeps the set of pod IPs in use current; called with every pod event. */
  notePod(before: Pod | undefined, after: Pod | undefined): void {
    if (!after && before) this.waitingForAddress.delete(`${before.metadata.namespace ?? 'default'}/${before.metadata.name}`);
    for (const ip of before?.status?.podIPs?.map((p) => p.ip) ?? (before?.status?.podIP ? [before.status.podIP] : [])) this.used.delete(ip);
    for (const ip of after?.status?.podIPs?.map((p) => p.ip) ?? (after?.status?.podIP ? [after.status.podIP] : [])) this.used.add(ip);
  }

  /** Starts the pods among these that have no IP yet, in one write. */
  syncAll(keys: Iterable<readonly [namespace: string, name: string]>): void {
    const started: Pod[] = [];
    for (const [namespace, name] of keys) {
      const pod = this.started(namespace, name);
      if (pod) started.push(pod);
    }
    if (started.length) this.store.apply(started, 'update', true);
    // A local process's Created and Started come from the runtime, when they happen.
    if (this.recorder) for (const pod of started) if (pod.status?.podIP) this.recordStarted(pod, this.recorder, this.local?.runs(pod) ?? false);
  }

  /**
   * What a kubelet reports as it starts a pod's containers (pkg/kubelet/images
   * and kuberuntime, v1.32 wording), about each container (fieldPath
   * spec.containers{name}). An emulated node has every image, so none is pulled.
   */
  private recordStarted(pod: Pod, recorder: EventRecorder, local: boolean): void {
    const source = { component: 'kubelet', host: typeof pod.spec.nodeName === 'string' ? pod.spec.nodeName : 'headless-dns' };
    for (const container of pod.spec.containers) {
      const fieldPath = `spec.containers{${container.name}}`;
      recorder.record(pod, 'Normal', 'Pulled', `Container image ${JSON.stringify(container.image ?? '')} already present on machine`, source, fieldPath);
      if (local) continue;
      recorder.record(pod, 'Normal', 'Created', `Created container: ${container.name}`, source, fieldPath);
      recorder.record(pod, 'Normal', 'Started', `Started container ${container.name}`, source, fieldPath);
    }
  }

  sync(namespace: string, name: string): void {
    this.syncAll([[namespace, name]]);
  }

  /** The pod as kubelet would start it, or undefined when there is nothing to start. */
  private started(namespace: string, name: string): Pod | undefined {
    let pod = this.store.get('Pod', namespace, name);
    if (!pod || pod.status?.podIP || pod.metadata.deletionTimestamp) return undefined;
    // A local process stands in for this pod: it reports its own address and readiness.
    if (pod.metadata.annotations?.[LOCAL_PROCESS_ANNOTATION]) return undefined;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return undefined;
    let nodeName = typeof pod.spec.nodeName === 'string' && pod.spec.nodeName ? pod.spec.nodeName : undefined;
    let scheduled = false;
    if (this.placement) {
      if (nodeName === undefined) {
        // The scheduler's part: bind the pod to a node that can take it, or say why none can.
        const choice = this.placement.schedule(pod);
        if ('unschedulable' in choice) return this.unschedulable(pod, choice.unschedulable);
        nodeName = choice.node;
        scheduled = true;
      } else if (!this.placement.kubeletUp(nodeName)) {
        // Bound to a node whose kubelet is down (or that does not exist): nobody starts it.
        return undefined;
      }
    }
    let ip: string;
    try {
      ip = this.ips.allocate();
    } catch (error) {
      if (error instanceof HeadlessDnsError) return this.noAddress(pod, nodeName, error.message, scheduled);
      throw error;
    }
    this.used.add(ip);
    this.waitingForAddress.delete(`${namespace}/${name}`);
    if (pod.status?.reason === 'NoPodAddress') {
      // It waited for an address: what it said about that no longer holds.
      const { reason: _reason, message: _message, ...rest } = pod.status;
      pod = { ...pod, status: rest };
    }
    const ready = !(this.startUnready || pod.metadata.annotations?.[START_UNREADY_ANNOTATION] === 'true');
    const now = nowTimestamp();
    if (scheduled) this.placement?.recordScheduled(pod, nodeName!);
    if (this.local?.runs(pod)) {
      const base = { ...pod, spec: { ...pod.spec, nodeName: nodeName ?? 'headless-dns' } };
      return { ...base, status: { ...this.local.pendingStatus(base, now), hostIP: '127.0.0.1', hostIPs: HOST_IPS, podIP: ip, podIPs: [{ ip }], startTime: now } };
    }
    return {
      ...pod,
      spec: { ...pod.spec, nodeName: nodeName ?? 'headless-dns' },
      status: {
        ...(pod.status ?? {}),
        phase: 'Running',
        hostIP: '127.0.0.1',
        hostIPs: HOST_IPS,
        podIP: ip,
        podIPs: [{ ip }],
        startTime: now,
        conditions: this.conditions(ready, now),
        containerStatuses: this.containerStatuses(pod.spec.containers, ready, now),
      },
    };
  }

  /**
   * The pod range is used up: as with a CNI whose IPAM has no address left, the
   * pod stays Pending with its containers being created, and the kubelet says
   * why (FailedCreatePodSandBox), once; it starts when an address frees up.
   */
  private noAddress(pod: Pod, nodeName: string | undefined, reason: string, scheduled: boolean): Pod | undefined {
    this.waitingForAddress.add(`${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`);
    if (pod.status?.reason === 'NoPodAddress') return undefined;
    if (scheduled && nodeName) this.placement?.recordScheduled(pod, nodeName);
    const message = `failed to set up the pod network: failed to allocate for range 0: ${reason}`;
    const source = { component: 'kubelet', host: nodeName ?? 'headless-dns' };
    this.recorder?.record(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${message}`, source);
    const now = nowTimestamp();
    const waiting = { waiting: { reason: 'ContainerCreating' } };
    return {
      ...pod,
      spec: { ...pod.spec, nodeName: nodeName ?? 'headless-dns' },
      status: {
        ...(pod.status ?? {}),
        phase: 'Pending',
        reason: 'NoPodAddress',
        message,
        hostIP: '127.0.0.1',
        hostIPs: HOST_IPS,
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
          { type: 'Ready', status: 'False', lastTransitionTime: now, reason: 'ContainersNotReady', message: `containers with unready status: [${pod.spec.containers.map((c) => c.name).join(' ')}]` },
        ],
        containerStatuses: pod.spec.containers.map((c) => ({ name: c.name, image: c.image ?? '', imageID: '', ready: false, started: false, restartCount: 0, state: waiting })),
      },
    };
  }

  /** A pod no node can take stays Pending with PodScheduled False (written once per distinct reason). */
  private unschedulable(pod: Pod, message: string): Pod | undefined {
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (scheduled?.status === 'False' && scheduled.message === message) return undefined;
    this.placement?.recordUnschedulable(pod, message);
    const condition: PodCondition = { type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: nowTimestamp(), reason: 'Unschedulable', message };
    return { ...pod, status: { ...(pod.status ?? {}), phase: 'Pending', conditions: [condition] } };
  }

  private conditions(ready: boolean, at: string): PodCondition[] {
    const last = this.lastConditions;
    if (last?.ready === ready && last.at === at) return last.conditions;
    const conditions = freezeJson(runningConditions(ready, at));
    this.lastConditions = { ready, at, conditions };
    return conditions;
  }

  private containerStatuses(containers: Pod['spec']['containers'], ready: boolean, at: string): ContainerStatus[] {
    const last = this.lastContainerStatuses.get(containers);
    if (last?.ready === ready && last.at === at) return last.statuses;
    const statuses = freezeJson(
      containers.map((container) => ({
        name: container.name,
        image: container.image ?? '',
        imageID: '',
        ready,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: at } },
      })),
    );
    if (Object.isFrozen(containers)) this.lastContainerStatuses.set(containers, { ready, at, statuses });
    return statuses;
  }
}
