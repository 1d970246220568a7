// Local processes that stand in for pods hold a Lease and renew it. A pod
// whose lease runs out (its process died without saying so) is taken out of
// DNS: marked unready, as kubelet marks a pod whose container stopped.

import type { Lease, Pod } from '../model/types.js';
import type { ObjectStore } from '../store/store.js';
import { nowTimestamp } from '../model/pods.js';

/** On a pod: the name of the Lease (same namespace) that keeps it alive. */
export const LEASE_ANNOTATION = 'headless-dns.io/lease';
/** On a pod: a local process stands in for it (the kubelet emulation leaves it alone). */
export const LOCAL_PROCESS_ANNOTATION = 'headless-dns.io/local-process';

function expiry(lease: Lease): number | undefined {
  const renewed = Date.parse(lease.spec?.renewTime ?? lease.spec?.acquireTime ?? '');
  const duration = lease.spec?.leaseDurationSeconds;
  if (Number.isNaN(renewed) || !duration) return undefined;
  return renewed + duration * 1000;
}

export function markUnready(pod: Pod, reason: string): Pod {
  const at = nowTimestamp();
  const conditions = (pod.status?.conditions ?? []).filter((c) => c.type !== 'Ready' && c.type !== 'ContainersReady');
  conditions.push({ type: 'Ready', status: 'False', reason, lastTransitionTime: at }, { type: 'ContainersReady', status: 'False', reason, lastTransitionTime: at });
  const containerStatuses = ((pod.status?.containerStatuses ?? []) as Record<string, unknown>[]).map((c) => ({ ...c, ready: false }));
  return { ...pod, status: { ...pod.status, conditions, containerStatuses } };
}

export class LeaseController {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly store: ObjectStore,
    private readonly log: (message: string) => void,
  ) {
    for (const lease of store.list('Lease')) this.watch(lease);
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** (Re)arms the expiry timer of a lease; call on every Lease event. */
  watch(lease: Lease, deleted = false): void {
    const key = `${lease.metadata.namespace ?? 'default'}/${lease.metadata.name}`;
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    if (deleted) return;
    const at = expiry(lease);
    if (at === undefined) return;
    const timer = setTimeout(() => this.expire(lease.metadata.namespace ?? 'default', lease.metadata.name), Math.max(0, at - Date.now()));
    timer.unref();
    this.timers.set(key, timer);
  }

  private expire(namespace: string, name: string): void {
    this.timers.delete(`${namespace}/${name}`);
    const lease = this.store.get('Lease', namespace, name);
    const at = lease && expiry(lease);
    if (!lease || at === undefined) return;
    if (at > Date.now()) return this.watch(lease);
    for (const pod of this.store.list('Pod', namespace)) {
      if (pod.metadata.annotations?.[LEASE_ANNOTATION] !== name) continue;
      if (!pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
      this.log(`lease ${namespace}/${name} expired: pod ${pod.metadata.name} is no longer ready`);
      try {
        this.store.apply([markUnready(pod, 'LeaseExpired')]);
      } catch (error) {
        this.log(`lease ${namespace}/${name}: ${(error as Error).message}`);
      }
    }
  }
}
