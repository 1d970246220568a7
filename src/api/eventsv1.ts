// events.k8s.io/v1 Events: a second view of the stored core/v1 Events, as the
// API server serves one storage through both groups. The field mapping is
// pkg/apis/events/v1/conversion.go's: regarding ⇄ involvedObject, note ⇄
// message, reportingController ⇄ reportingComponent, deprecatedSource ⇄
// source, deprecatedFirstTimestamp/LastTimestamp/Count ⇄ first/lastTimestamp/count;
// field selectors take the events.k8s.io names (AddFieldLabelConversionsForEvent).

import type { KubeEvent, KubeObject } from '../model/types.js';
import type { PatchType } from './body.js';
import { type DeleteOptions, type ListOptions, ObjectApi, type ObjectTarget, type WriteOptions } from './objects.js';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import { findResource } from './resources.js';
import { ApiError } from './status.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** core/v1 field → events.k8s.io/v1 field, for the fields that are renamed. */
const RENAMED: readonly (readonly [core: string, v1: string])[] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['reportingComponent', 'reportingController'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
];

/**
 * A stored core/v1 Event as events.k8s.io/v1 shows it. Go's JSON drops empty
 * strings and zero counts there (omitempty) but keeps eventTime (null when unset).
 */
export function toEventsV1(event: KubeObject): Json {
  const out: Json = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: event.metadata };
  const source = event as unknown as Json;
  for (const [key, value] of Object.entries(source)) {
    if (key === 'apiVersion' || key === 'kind' || key === 'metadata') continue;
    const renamed = RENAMED.find(([core]) => core === key)?.[1] ?? key;
    out[renamed] = value;
  }
  out.eventTime ??= null;
  for (const key of ['reportingController', 'reportingInstance', 'action', 'reason', 'note', 'type']) if (out[key] === '') delete out[key];
  if (out.deprecatedCount === 0) delete out.deprecatedCount;
  if (isObject(out.deprecatedSource) && Object.keys(out.deprecatedSource).length === 0) delete out.deprecatedSource;
  for (const key of ['deprecatedFirstTimestamp', 'deprecatedLastTimestamp']) if (out[key] === null) delete out[key];
  return out;
}

/** An events.k8s.io/v1 body as the core/v1 Event the store keeps. */
export function fromEventsV1(body: unknown): unknown {
  if (!isObject(body)) return body;
  if (body.apiVersion !== undefined && body.apiVersion !== 'events.k8s.io/v1') {
    throw ApiError.of('BadRequest', `the API version in the data (${String(body.apiVersion)}) and kind (${String(body.kind)}) do not match the request (events.k8s.io/v1, Event)`);
  }
  const out: Json = { apiVersion: 'v1', kind: 'Event' };
  for (const [key, value] of Object.entries(body)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    const renamed = RENAMED.find(([, v1]) => v1 === key)?.[0] ?? key;
    out[renamed] = value;
  }
  return out;
}

/** events.k8s.io field labels → the core/v1 ones the stored Events are selected by. */
const FIELD_LABELS: Readonly<Record<string, string>> = {
  'regarding.kind': 'involvedObject.kind',
  'regarding.namespace': 'involvedObject.namespace',
  'regarding.name': 'involvedObject.name',
  'regarding.uid': 'involvedObject.uid',
  'regarding.apiVersion': 'involvedObject.apiVersion',
  'regarding.resourceVersion': 'involvedObject.resourceVersion',
  'regarding.fieldPath': 'involvedObject.fieldPath',
  reportingController: 'reportingComponent',
  reason: 'reason',
  type: 'type',
  'metadata.name': 'metadata.name',
  'metadata.namespace': 'metadata.namespace',
};

/**
 * Rewrites an events.k8s.io field selector into core/v1 field labels. Terms
 * split on unescaped commas and a field name ends at the first operator, as
 * fields.ParseSelector reads them; a field with no conversion is refused as
 * the API server refuses it.
 */
export function eventsV1FieldSelector(selector: string | undefined): string | undefined {
  if (!selector) return selector;
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i <= selector.length; i++) {
    const c = selector[i];
    if (escaped) escaped = false;
    else if (c === '\\') escaped = true;
    else if (c === ',' || i === selector.length) {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  return terms
    .map((term) => {
      const at = term.search(/!=|==|=/);
      if (at < 0) return term;
      const field = term.slice(0, at);
      const core = Object.hasOwn(FIELD_LABELS, field) ? FIELD_LABELS[field] : undefined;
      if (core === undefined) throw ApiError.of('BadRequest', `field label not supported: ${field}`);
      return core + term.slice(at);
    })
    .join(',');
}

const isEvent = (value: unknown): value is KubeEvent => isObject(value) && value.kind === 'Event' && value.apiVersion === 'v1';

/**
 * The verbs on events.k8s.io/v1 events: the same stored objects (the target's
 * kind is Event either way), read through toEventsV1 and written through
 * fromEventsV1. A subclass, so every verb the object API gains is served here too.
 */
export class EventsV1Api extends ObjectApi {
  private readonly core = findResource('', 'v1', 'events')!;

  private coreTarget(target: ObjectTarget): ObjectTarget {
    return { ...target, def: this.core };
  }

  override get(target: ObjectTarget, table?: ListOptions['table']): unknown {
    const result = super.get(target, table);
    return isEvent(result) ? toEventsV1(result) : result;
  }

  override list(target: ObjectTarget, options: Parameters<ObjectApi['list']>[1]): unknown {
    const result = super.list(target, { ...options, ...(options.fieldSelector ? { fieldSelector: eventsV1FieldSelector(options.fieldSelector)! } : {}) });
    if (options.table || !isObject(result) || !Array.isArray(result.items)) return result;
    return { ...result, items: result.items.map((item: KubeObject) => toEventsV1(item)) };
  }

  override watch(target: ObjectTarget, options: Parameters<ObjectApi['watch']>[1], response: Parameters<ObjectApi['watch']>[2]): void {
    super.watch(target, { ...options, ...(options.fieldSelector ? { fieldSelector: eventsV1FieldSelector(options.fieldSelector)! } : {}), view: toEventsV1 }, response);
  }

  override create(target: ObjectTarget, body: unknown, options: WriteOptions = {}): KubeObject {
    return toEventsV1(super.create(this.coreTarget(target), fromEventsV1(body), options)) as unknown as KubeObject;
  }

  override update(target: ObjectTarget, body: unknown, options: WriteOptions = {}): unknown {
    const result = super.update(this.coreTarget(target), fromEventsV1(body), options);
    return isEvent(result) ? toEventsV1(result) : result;
  }

  /** A patch applies to the object as this group shows it; the result is stored as core/v1. */
  override patch(target: ObjectTarget, type: PatchType, patch: unknown, options: WriteOptions = {}): unknown {
    let current: unknown;
    try {
      current = this.get(target);
    } catch (error) {
      if (type === 'apply' && error instanceof ApiError && error.code === 404) {
        const body = { ...(isObject(patch) ? patch : {}), metadata: { ...(isObject(patch) && isObject(patch.metadata) ? patch.metadata : {}), name: target.name } };
        return { created: true, object: this.create(target, body, options) };
      }
      throw error;
    }
    if (type !== 'json' && !isObject(patch)) throw ApiError.of('BadRequest', 'a merge or strategic merge patch must be a JSON object');
    const patched = type === 'merge' ? mergePatch(current, patch) : type === 'json' ? jsonPatch(current, patch) : strategicMergePatch(current, patch);
    return { created: false, object: this.update(target, patched, options) };
  }

  override delete(target: ObjectTarget, options: DeleteOptions): unknown {
    const result = super.delete(target, options);
    return isEvent(result) ? toEventsV1(result) : result;
  }

  override deleteCollection(target: ObjectTarget, options: Parameters<ObjectApi['deleteCollection']>[1]): unknown {
    const result = super.deleteCollection(target, { ...options, ...(options.fieldSelector ? { fieldSelector: eventsV1FieldSelector(options.fieldSelector)! } : {}) });
    if (!isObject(result) || !Array.isArray(result.items)) return result;
    return { ...result, items: result.items.map((item: unknown) => (isEvent(item) ? toEventsV1(item) : item)) };
  }
}
