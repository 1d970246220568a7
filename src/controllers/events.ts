// The event recorder every controller calls (client-go's record.EventRecorder):
// `record(object, 'Normal', 'SuccessfulCreate', 'create Pod kubia-0 in StatefulSet kubia successful')`.
// Until the Event kind is stored and served (issue: Events), records go to a
// bounded in-memory list, so controllers can already say what they do.

import type { KubeObject } from '../model/types.js';

export type EventType = 'Normal' | 'Warning';

export interface RecordedEvent {
  involved: { kind: string; namespace?: string; name: string; uid?: string; apiVersion: string; resourceVersion?: string; fieldPath?: string };
  type: EventType;
  reason: string;
  message: string;
  /** The component that reports it, as `source.component`: `statefulset-controller`, `kubelet`, ... */
  component: string;
}

export interface EventRecorder {
  record(object: KubeObject, type: EventType, reason: string, message: string, component: string, fieldPath?: string): void;
}

/** Keeps the last events in memory; the Events controller replaces it with one that stores Event objects. */
export class MemoryEventRecorder implements EventRecorder {
  readonly events: RecordedEvent[] = [];

  constructor(private readonly limit = 1000) {}

  record(object: KubeObject, type: EventType, reason: string, message: string, component: string, fieldPath?: string): void {
    this.events.push({
      involved: {
        kind: object.kind,
        apiVersion: object.apiVersion,
        name: object.metadata.name,
        ...(object.metadata.namespace !== undefined ? { namespace: object.metadata.namespace } : {}),
        ...(object.metadata.uid !== undefined ? { uid: object.metadata.uid } : {}),
        ...(object.metadata.resourceVersion !== undefined ? { resourceVersion: object.metadata.resourceVersion } : {}),
        ...(fieldPath !== undefined ? { fieldPath } : {}),
      },
      type,
      reason,
      message,
      component,
    });
    if (this.events.length > this.limit) this.events.splice(0, this.events.length - this.limit);
  }
}
