// Graceful pod deletion, the part kubelet plays: a pod deleted with a grace
// period is marked terminating (deletionTimestamp) and removed when the period
// ends; with no grace period it is removed at once.

import type { Pod } from '../model/types.js';
import type { ObjectStore } from '../store/store.js';
import { nowTimestamp } from '../model/pods.js';

export class PodTerminator {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly store: ObjectStore,
    readonly defaultGraceSeconds: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Deletes a pod; returns the object as the DELETE call reports it (terminating, or gone). */
  delete(pod: Pod, graceSeconds = this.defaultGraceSeconds): Pod {
    const namespace = pod.metadata.namespace ?? 'default';
    if (pod.metadata.deletionTimestamp) {
      // A second delete may only shorten the grace period, as in the API server.
      if (graceSeconds > 0) return pod;
    }
    if (graceSeconds <= 0) return this.store.delete('Pod', namespace, pod.metadata.name) as Pod;
    const marked: Pod = {
      ...pod,
      metadata: { ...pod.metadata, deletionTimestamp: nowTimestamp(), deletionGracePeriodSeconds: graceSeconds },
    };
    const [stored] = this.store.apply([marked], 'update') as Pod[];
    const key = `${namespace}/${pod.metadata.name}/${pod.metadata.uid ?? ''}`;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      const current = this.store.get('Pod', namespace, pod.metadata.name);
      if (!current || current.metadata.uid !== pod.metadata.uid) return;
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

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
