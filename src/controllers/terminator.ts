// Graceful pod deletion, the part kubelet plays: a pod deleted with a grace
// period is marked terminating (deletionTimestamp) and removed when the period
// ends; with no grace period it is removed at once.

import { podGracePeriod } from './nodelifecycle.js';
import type { Pod } from '../model/types.js';
import type { ObjectStore } from '../store/store.js';
import { nowTimestamp } from '../model/pods.js';
import type { EventRecorder } from './events.js';

export class PodTerminator {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly store: ObjectStore,
    readonly defaultGraceSeconds: number,
    private readonly onError: (error: unknown) => void,
    /**
     * Is the kubelet of the pod's node there? A pod on a failed node is not
     * removed when its grace period ends: nobody confirms it stopped, so it stays
     * Terminating until its node is back (resume) or it is force-deleted.
     */
    private readonly kubeletUp: (pod: Pod) => boolean = () => true,
    /** Where the kubelet's Killing events go. */
    private readonly recorder?: EventRecorder,
    /**
     * Pods whose containers are local processes: a delete that names no grace
     * period gives them their own (terminationGracePeriodSeconds, 30 s by
     * default), as the API server does, so they can stop cleanly; the runtime
     * removes them as soon as their processes are gone.
     */
    private readonly runsLocally: (pod: Pod) => boolean = () => false,
  ) {}

  /** Deletes a pod; returns the object as the DELETE call reports it (terminating, or gone). */
  delete(pod: Pod, graceSeconds?: number): Pod {
    // A delete that names no grace period on a failed node takes the pod's own
    // (30 s by default), as the API server does: it must wait for a kubelet that is not there.
    graceSeconds ??= this.kubeletUp(pod) && !this.runsLocally(pod) ? this.defaultGraceSeconds : podGracePeriod(pod) || 1;
    const namespace = pod.metadata.namespace ?? 'default';
    if (pod.metadata.deletionTimestamp) {
      // A second delete may only shorten the grace period, as in the API server.
      if (graceSeconds > 0) return pod;
    }
    // The kubelet stops the containers of a running pod once, at the first delete (kuberuntime killContainer).
    if (this.recorder && !pod.metadata.deletionTimestamp && pod.status?.phase === 'Running' && this.kubeletUp(pod)) {
      const source = { component: 'kubelet', host: typeof pod.spec.nodeName === 'string' ? pod.spec.nodeName : 'headless-dns' };
      for (const container of pod.spec.containers) this.recorder.record(pod, 'Normal', 'Killing', `Stopping container ${container.name}`, source, `spec.containers{${container.name}}`);
    }
    if (graceSeconds <= 0) return this.store.delete('Pod', namespace, pod.metadata.name) as Pod;
    const marked: Pod = {
      ...pod,
      metadata: { ...pod.metadata, deletionTimestamp: nowTimestamp(), deletionGracePeriodSeconds: graceSeconds },
    };
    const [stored] = this.store.apply([marked], 'update') as Pod[];
    // The process runtime removes such a pod once its processes are gone, as a kubelet confirms a stop.
    if (this.runsLocally(pod)) return stored!;
    const key = `${namespace}/${pod.metadata.name}/${pod.metadata.uid ?? ''}`;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      const current = this.store.get('Pod', namespace, pod.metadata.name);
      if (!current || current.metadata.uid !== pod.metadata.uid || !this.kubeletUp(current)) return;
      try {
        this.store.delete('Pod', namespace, pod.metadata.name);
      } catch (error) {
        this.onError(error);
      }
    }, graceSeconds * 1000);
    timer.unref();
    this.timers.set(key, timer);
    return stored!;
  }

  /** The node of a terminating pod is back: its kubelet finishes the termination (now, if its grace period has passed). */
  resume(pod: Pod): void {
    const key = `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}/${pod.metadata.uid ?? ''}`;
    if (!pod.metadata.deletionTimestamp || this.timers.has(key)) return;
    const ends = Date.parse(pod.metadata.deletionTimestamp) + (pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      const current = this.store.get('Pod', pod.metadata.namespace ?? 'default', pod.metadata.name);
      if (!current || current.metadata.uid !== pod.metadata.uid || !this.kubeletUp(current)) return;
      try {
        this.store.delete('Pod', pod.metadata.namespace ?? 'default', pod.metadata.name);
      } catch (error) {
        this.onError(error);
      }
    }, Math.max(0, ends - Date.now()));
    timer.unref();
    this.timers.set(key, timer);
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
