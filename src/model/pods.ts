// Pod facts the controllers share, as kubelet and the API report them.

import type { OwnerReference, Pod, PodCondition } from './types.js';
import { rfc3339At } from './timestamp.js';

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function isTerminating(pod: Pod): boolean {
  return pod.metadata.deletionTimestamp !== undefined;
}

export function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export function isRunningAndReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && isPodReady(pod) && !isTerminating(pod);
}

export function controllerOf(pod: Pod): OwnerReference | undefined {
  return pod.metadata.ownerReferences?.find((ref) => ref.controller);
}

/** The conditions kubelet reports for a running pod, Ready or not. */
export function runningConditions(ready: boolean, at: string): PodCondition[] {
  const status = ready ? 'True' : 'False';
  return [
    { type: 'PodReadyToStartContainers', status: 'True', lastTransitionTime: at },
    { type: 'Initialized', status: 'True', lastTransitionTime: at },
    { type: 'Ready', status, lastTransitionTime: at },
    { type: 'ContainersReady', status, lastTransitionTime: at },
    { type: 'PodScheduled', status: 'True', lastTransitionTime: at },
  ];
}

/**
 * The current time as the API server writes it (RFC 3339, whole seconds).
 * Objects written in the same second share one string.
 */
export function nowTimestamp(): string {
  return rfc3339At(Date.now());
}
