// The resource verbs: get, list, watch, create, update, patch, delete, on
// objects and on their status and scale subresources. Every write goes through
// the store (validated first, all or nothing); a rejected request changes nothing.
// A server-side dry run (dryRun=All) takes the same path to the store, which
// plans the write instead of committing it: every check and default runs, the
// answer is the object as it would be, and nothing changes or is announced.

import { randomBytes } from 'node:crypto';
import { HeadlessDnsError } from '../errors.js';
import { formatCauses } from '../model/manifest.js';
import { nowTimestamp } from '../model/pods.js';
import type { PersistentVolumeClaim } from '../model/types.js';
import type { KubeObject, Pod, StatefulSet } from '../model/types.js';
import { validateObject } from '../model/validate.js';
import type { ObjectStore, StoreChange } from '../store/store.js';
import type { PatchType } from './body.js';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import { type ResourceDef, groupVersion } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { decodeContinue, encodeContinue } from './listoptions.js';
import { ApiError } from './status.js';
import { type IncludeObject, toTable } from './tables.js';
import { type WatchHub, tooLargeResourceVersion } from './watch.js';

export interface ObjectTarget {
  def: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: 'status' | 'scale' | 'eviction' | 'log';
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  table?: { include: IncludeObject };
  /** The list's version: none is the latest, "0" any (and no paging), N at least N (exactly N with resourceVersionMatch Exact, or with a limit). */
  resourceVersion?: string;
  resourceVersionMatch?: string;
  /** Paging: at most this many items (0 or less: all), and a continue token when more follow. */
  limit?: number;
  continue?: string;
}

export interface PodDeleter {
  delete(pod: Pod, graceSeconds?: number): Pod;
  /** The grace period of a delete that names none (a dry run answers as it would); 0 when not said. */
  readonly defaultGraceSeconds?: number;
}

/** The options every write takes: a server-side dry run changes nothing. */
export interface WriteOptions {
  dryRun?: boolean;
}

export interface DeleteOptions extends WriteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  preconditions?: { uid?: string; resourceVersion?: string };
}

type Json = Record<string, unknown>;

// k8s.io/apiserver pkg/storage/etcd3/errors.go: a continue token whose version is compacted away.
const INCONSISTENT_CONTINUE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, ' +
  'or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - ' +
  'objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

const SERVER_FIELDS = ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'managedFields', 'selfLink'];

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(def: ResourceDef, name: string): string {
  return `${def.plural}${def.group ? `.${def.group}` : ''} "${name}"`;
}

function notFound(def: ResourceDef, name: string): ApiError {
  return ApiError.of('NotFound', `${describe(def, name)} not found`, { name, ...(def.group ? { group: def.group } : {}), kind: def.plural });
}

export class ObjectApi {
  constructor(
    private readonly store: ObjectStore,
    private readonly pods: PodDeleter,
    private readonly watches: WatchHub,
  ) {}

  /**
   * One batch of writes, committed, or in a dry run only planned (every check,
   * no change): the objects as the batch leaves them, one per change that changes something.
   */
  private write(changes: StoreChange[], dryRun: boolean | undefined): KubeObject[] {
    return (dryRun ? this.store.plan(changes) : this.store.commit(changes)).map((event) => event.object);
  }

  private existing(target: ObjectTarget): KubeObject {
    const object = this.store.get(target.def.kind, target.namespace, target.name!);
    if (!object) throw notFound(target.def, target.name!);
    return object;
  }

  /** Rewrites store errors into the messages the API server gives for this resource. */
  private guard<T>(target: ObjectTarget, name: string, write: () => T): T {
    try {
      return write();
    } catch (error) {
      if (!(error instanceof HeadlessDnsError)) throw error;
      const details = { name, ...(target.def.group ? { group: target.def.group } : {}), kind: target.def.plural };
      switch (error.code) {
        case 'ALREADY_EXISTS':
          throw new ApiError(409, 'AlreadyExists', `${describe(target.def, name)} already exists`, details);
        case 'NOT_FOUND':
          throw notFound(target.def, name);
        case 'CONFLICT':
          throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${describe(target.def, name)}: the object has been modified; please apply your changes to the latest version and try again`, details);
        case 'INVALID_OBJECT':
          // kubectl words Invalid errors from details.kind, which is the Kind here.
          throw new ApiError(422, 'Invalid', `${target.def.kind} "${name}" is invalid: ${formatCauses(error.causes) || error.message}`, { ...details, kind: target.def.kind, causes: [...error.causes] });
        default:
          throw error;
      }
    }
  }

  /** Checks a body's identity against the URL and validates it like the API server. */
  private prepare(target: ObjectTarget, body: unknown, name: string | undefined): KubeObject {
    if (!isObject(body)) throw ApiError.of('BadRequest', 'the request body must be a JSON or YAML object');
    const def = target.def;
    const raw: Json = { ...body };
    raw.apiVersion ??= groupVersion(def);
    raw.kind ??= def.kind;
    if (raw.kind !== def.kind || raw.apiVersion !== groupVersion(def)) {
      throw ApiError.of('BadRequest', `the API version in the data (${String(raw.apiVersion)}) and kind (${String(raw.kind)}) do not match the request (${groupVersion(def)}, ${def.kind})`);
    }
    const metadata: Json = isObject(raw.metadata) ? { ...raw.metadata } : {};
    if (def.namespaced) {
      if (metadata.namespace !== undefined && metadata.namespace !== '' && metadata.namespace !== target.namespace) {
        throw ApiError.of('BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
      }
      metadata.namespace = target.namespace;
    }
    if (name !== undefined && metadata.name !== undefined && metadata.name !== name) {
      throw ApiError.of('BadRequest', `the name of the object (${String(metadata.name)}) does not match the name on the URL (${name})`);
    }
    if (name !== undefined) metadata.name = name;
    if (!metadata.name && typeof metadata.generateName === 'string' && metadata.generateName) {
      metadata.name = `${metadata.generateName}${randomBytes(4).toString('hex').slice(0, 5)}`;
    }
    raw.metadata = metadata;
    const result = validateObject(raw);
    if (!result.object) {
      const shown = typeof metadata.name === 'string' ? metadata.name : '';
      throw new ApiError(422, 'Invalid', `${def.kind} "${shown}" is invalid: ${formatCauses(result.causes)}`, {
        name: shown,
        ...(def.group ? { group: def.group } : {}),
        kind: def.kind,
        causes: result.causes,
      });
    }
    return result.object;
  }

  /**
   * The API server's allocator refuses a cluster IP outside the service range
   * (manifests, which may come from another cluster, keep theirs). An address
   * the Service already holds stays valid.
   */
  private checkServiceRange(object: KubeObject, existing: KubeObject | undefined): void {
    if (object.kind !== 'Service') return;
    const held = existing?.kind === 'Service' ? [...(existing.spec.clusterIPs ?? []), existing.spec.clusterIP ?? ''] : [];
    const wanted = [...new Set([...(object.spec.clusterIPs ?? []), ...(object.spec.clusterIP ? [object.spec.clusterIP] : [])])];
    for (const ip of wanted) {
      if (ip === 'None' || ip === '' || held.includes(ip)) continue;
      const { inside, ranges } = this.store.serviceRangeOf(ip);
      if (inside) continue;
      const field = object.spec.clusterIPs?.includes(ip) ? 'spec.clusterIPs' : 'spec.clusterIP';
      const detail = ranges.length
        ? `failed to allocate IP ${ip}: provided IP is not in the valid range. The range of valid IPs is ${ranges.join(', ')}`
        : `failed to allocate IP ${ip}: no service range of its IP family is configured`;
      const message = `Invalid value: ${JSON.stringify(wanted)}: ${detail}`;
      throw new ApiError(422, 'Invalid', `Service "${object.metadata.name}" is invalid: ${field}: ${message}`, {
        name: object.metadata.name,
        kind: 'Service',
        causes: [{ reason: 'FieldValueInvalid', field, message }],
      });
    }
  }

  /** One object; as a one-row Table (the list's columns) when the client asks for one, as kubectl get does. */
  get(target: ObjectTarget, table?: ListOptions['table']): unknown {
    const object = this.existing(target);
    if (target.subresource === 'scale') return this.scaleOf(object as StatefulSet);
    if (table && !target.subresource) return toTable(target.def.kind, [object], { include: table.include, resourceVersion: object.metadata.resourceVersion ?? '' });
    return object;
  }

  /**
   * The objects a list reads and the resourceVersion they are at, as the API
   * server picks them (cacher.GetList, etcd3 store.GetList and resolveGetListRev):
   * a continue token reads at its first page's version, resourceVersionMatch
   * Exact (or, the legacy rule, a resourceVersion with a limit) at exactly that
   * one, anything else at the latest, which must not be older than asked.
   */
  private snapshot(target: ObjectTarget, options: ListOptions): { objects: KubeObject[]; resourceVersion: number; start?: string } {
    const kind = target.def.kind;
    const latest = (): { objects: KubeObject[]; resourceVersion: number } => ({ objects: this.store.list(kind, target.namespace), resourceVersion: Number(this.store.currentResourceVersion) });
    const at = (version: number, expired: () => ApiError): { objects: KubeObject[]; resourceVersion: number } => {
      const objects = this.watches.objectsAt(kind, target.namespace, version);
      if (objects === 'future') throw tooLargeResourceVersion(version, Number(this.store.currentResourceVersion));
      if (!objects) throw expired();
      return { objects, resourceVersion: version };
    };
    const wanted = options.resourceVersion;
    if (options.continue !== undefined) {
      if (wanted !== undefined && wanted !== '0') throw ApiError.of('BadRequest', 'specifying resource version is not allowed when using continue');
      const token = decodeContinue(options.continue);
      // A negative version (an expired token's replacement) goes on at the latest.
      if (token.resourceVersion < 0) return { ...latest(), start: token.start };
      const expired = (): ApiError =>
        new ApiError(410, 'Expired', INCONSISTENT_CONTINUE, undefined, { continue: encodeContinue(token.start.replace(/\u0000$/, ''), -1) });
      return { ...at(token.resourceVersion, expired), start: token.start };
    }
    if (wanted === undefined || wanted === '0') return latest();
    const version = Number(wanted);
    const exact = options.resourceVersionMatch === 'Exact' || (options.resourceVersionMatch === undefined && (options.limit ?? 0) > 0);
    if (exact) return at(version, () => new ApiError(410, 'Expired', 'The resourceVersion for the provided list is too old.'));
    const now = latest();
    if (version > now.resourceVersion) throw tooLargeResourceVersion(version, now.resourceVersion);
    return now;
  }

  list(target: ObjectTarget, options: ListOptions): unknown {
    const byLabel = parseLabelSelector(options.labelSelector);
    const byField = parseFieldSelector(options.fieldSelector, target.def.kind);
    const snapshot = this.snapshot(target, options);
    // Items in the order of their storage keys (etcd's, byte-wise): by name in a
    // namespace, by namespace/name across namespaces, which is also the continue token's key.
    const across = target.def.namespaced && target.namespace === undefined;
    const keyed = snapshot.objects.map((o) => ({ key: across ? `${o.metadata.namespace ?? ''}/${o.metadata.name}` : o.metadata.name, object: o }));
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const from = snapshot.start === undefined ? 0 : keyed.findIndex((k) => k.key >= snapshot.start!);
    const rest = from < 0 ? [] : keyed.slice(from);
    // The watch cache ignores a limit at resourceVersion "0" (computeListLimit); a continuation comes from etcd and pages.
    const limit = options.resourceVersion === '0' && options.continue === undefined ? 0 : (options.limit ?? 0);
    const items: KubeObject[] = [];
    let lastKey = '';
    let more = false;
    for (const { key, object } of rest) {
      // As etcd's loop: the page is full and one more key (matching or not) follows.
      if (limit > 0 && items.length >= limit) {
        more = true;
        break;
      }
      lastKey = key;
      if (byLabel(object) && byField(object)) items.push(object);
    }
    const resourceVersion = String(snapshot.resourceVersion);
    const page: { continue?: string; remainingItemCount?: number } = {};
    if (more) {
      page.continue = encodeContinue(lastKey, snapshot.resourceVersion);
      // Counted only without selectors (storage.PrepareContinueToken): with them the count would include what does not match.
      if (!options.labelSelector && !options.fieldSelector) page.remainingItemCount = rest.length - limit;
    }
    if (options.table) {
      const table = toTable(target.def.kind, items, { include: options.table.include, resourceVersion }) as { metadata: Json };
      return { ...table, metadata: { ...table.metadata, ...page } };
    }
    return { apiVersion: groupVersion(target.def), kind: `${target.def.kind}List`, metadata: { resourceVersion, ...page }, items };
  }

  watch(
    target: ObjectTarget,
    options: ListOptions & { resourceVersion?: string; timeoutSeconds?: number; sendInitialEvents?: boolean; allowWatchBookmarks?: boolean; view?: (object: KubeObject) => unknown },
    response: import('node:http').ServerResponse,
  ): void {
    const byLabel = parseLabelSelector(options.labelSelector);
    const byField = parseFieldSelector(options.fieldSelector, target.def.kind);
    // A watch of one object (/pods/NAME?watch=1, /watch/.../pods/NAME) is a watch of the list with its name selected.
    const name = target.name;
    const since = options.resourceVersion !== undefined ? Number(options.resourceVersion) : undefined;
    if (since !== undefined && (!Number.isInteger(since) || since < 0)) throw ApiError.of('BadRequest', `invalid resourceVersion "${options.resourceVersion}"`);
    let columnsSent = false;
    const table = options.table;
    this.watches.open(
      {
        kind: target.def.kind,
        apiVersion: groupVersion(target.def),
        ...(target.namespace !== undefined ? { namespace: target.namespace } : {}),
        ...(since !== undefined ? { resourceVersion: since } : {}),
        ...(options.sendInitialEvents !== undefined ? { sendInitialEvents: options.sendInitialEvents } : {}),
        ...(options.allowWatchBookmarks ? { allowWatchBookmarks: true } : {}),
        matches: (o) => (name === undefined || o.metadata.name === name) && byLabel(o) && byField(o),
        render: (object) => {
          // A group that shows the stored objects in another shape (events.k8s.io) converts them.
          if (!table) return options.view ? options.view(object) : object;
          const withColumns = !columnsSent;
          columnsSent = true;
          return toTable(target.def.kind, [object], { include: table.include, resourceVersion: object.metadata.resourceVersion ?? '', withColumns });
        },
        ...(options.timeoutSeconds ? { timeoutSeconds: options.timeoutSeconds } : {}),
      },
      response,
    );
  }

  create(target: ObjectTarget, body: unknown, options: WriteOptions = {}): KubeObject {
    if (target.subresource) throw ApiError.of('MethodNotAllowed', `POST is not supported on ${target.def.plural}/${target.subresource}`);
    const object = this.prepare(target, body, undefined);
    for (const field of SERVER_FIELDS) delete object.metadata[field];
    this.checkServiceRange(object, undefined);
    // The status of a new object is the system's to set, as the API server resets it.
    if (target.def.subresources.includes('status') && object.kind !== 'Namespace') delete (object as { status?: unknown }).status;
    const [stored] = this.guard(target, object.metadata.name, () => this.write([{ op: 'put', object, mode: 'create' }], options.dryRun));
    // A dry run answers the object as it would be stored: uid and creationTimestamp, no resourceVersion.
    if (options.dryRun) return stored!;
    return this.store.get(stored!.kind, stored!.metadata.namespace, stored!.metadata.name) ?? stored!;
  }

  /** PUT, and the common end of PATCH: replace the object, or only its status. */
  update(target: ObjectTarget, body: unknown, options: WriteOptions = {}): unknown {
    if (target.subresource === 'scale') return this.updateScale(target, body, options);
    const existing = this.existing(target);
    const incoming = this.prepare(target, body, target.name);
    let next: KubeObject;
    if (target.subresource === 'status') {
      next = {
        ...existing,
        metadata: { ...existing.metadata, resourceVersion: incoming.metadata.resourceVersion ?? existing.metadata.resourceVersion },
        status: (incoming as { status?: unknown }).status,
      } as KubeObject;
    } else {
      next = incoming;
      this.checkServiceRange(next, existing);
      for (const field of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation']) {
        if (existing.metadata[field] !== undefined) next.metadata[field] = existing.metadata[field];
        else delete next.metadata[field];
      }
      next.metadata.resourceVersion ??= existing.metadata.resourceVersion;
      // Status changes go through /status; the main resource keeps the current one.
      if (target.def.subresources.includes('status')) {
        const status = (existing as { status?: unknown }).status;
        if (status === undefined) delete (next as { status?: unknown }).status;
        else (next as { status?: unknown }).status = status;
      }
    }
    const [written] = this.guard(target, target.name!, () => this.write([{ op: 'put', object: next, mode: 'update' }], options.dryRun));
    // A dry run that changes nothing has no result of its own: the object stays as it is.
    if (options.dryRun) return written ?? existing;
    return this.existing(target);
  }

  patch(target: ObjectTarget, type: PatchType, patch: unknown, options: WriteOptions = {}): unknown {
    if (type === 'apply' && !this.store.get(target.def.kind, target.namespace, target.name!) && !target.subresource) {
      return { created: true, object: this.create({ ...target }, { ...(isObject(patch) ? patch : {}), metadata: { ...(isObject(patch) && isObject(patch.metadata) ? patch.metadata : {}), name: target.name } }, options) };
    }
    const current = target.subresource === 'scale' ? this.scaleOf(this.existing(target) as StatefulSet) : this.existing(target);
    if (type !== 'json' && !isObject(patch)) throw ApiError.of('BadRequest', 'a merge or strategic merge patch must be a JSON object');
    const patched =
      type === 'merge' ? mergePatch(current, patch)
      : type === 'json' ? jsonPatch(current, patch)
      : strategicMergePatch(current, patch);
    return { created: false, object: this.update(target, patched, options) };
  }

  /**
   * POST pods/{name}/eviction (policy/v1 Eviction): the pod is deleted as a DELETE
   * with the Eviction's deleteOptions would delete it (no PodDisruptionBudgets
   * here to refuse it); a pod already terminating is a success too. Answers
   * the API server's Status (pkg/registry/core/pod/storage/eviction.go).
   */
  evict(target: ObjectTarget, body: unknown, options: WriteOptions = {}): unknown {
    if (!isObject(body)) throw ApiError.of('BadRequest', 'the request body must be a JSON or YAML object');
    const kind = body.kind ?? 'Eviction';
    const apiVersion = body.apiVersion ?? 'policy/v1';
    if (kind !== 'Eviction' || (apiVersion !== 'policy/v1' && apiVersion !== 'policy/v1beta1')) {
      throw ApiError.of('BadRequest', `the API version in the data (${String(apiVersion)}) and kind (${String(kind)}) do not match the request (policy/v1, Eviction)`);
    }
    const metadata = isObject(body.metadata) ? body.metadata : {};
    if (metadata.name !== undefined && metadata.name !== target.name) throw ApiError.of('BadRequest', 'name in URL does not match name in Eviction object');
    const pod = this.existing({ ...target, subresource: undefined });
    const given = isObject(body.deleteOptions) ? body.deleteOptions : {};
    if (!pod.metadata.deletionTimestamp) {
      const grace = given.gracePeriodSeconds;
      if (grace !== undefined && (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0)) {
        throw ApiError.of('BadRequest', `deleteOptions.gracePeriodSeconds must be a non-negative integer, got ${JSON.stringify(grace)}`);
      }
      const preconditions = isObject(given.preconditions) ? (given.preconditions as DeleteOptions['preconditions']) : undefined;
      this.delete({ ...target, subresource: undefined }, {
        ...(typeof grace === 'number' ? { gracePeriodSeconds: grace } : {}),
        ...(preconditions ? { preconditions } : {}),
        ...(options.dryRun || (Array.isArray(given.dryRun) && given.dryRun.includes('All')) ? { dryRun: true } : {}),
      });
    }
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
  }

  delete(target: ObjectTarget, options: DeleteOptions): unknown {
    if (target.subresource) throw ApiError.of('MethodNotAllowed', `DELETE is not supported on ${target.def.plural}/${target.subresource}`);
    const existing = this.existing(target);
    const name = target.name!;
    if (options.preconditions?.uid && options.preconditions.uid !== existing.metadata.uid) {
      throw new ApiError(409, 'Conflict', `Precondition failed: UID in precondition: ${options.preconditions.uid}, UID in object meta: ${existing.metadata.uid ?? ''}`);
    }
    if (options.preconditions?.resourceVersion && options.preconditions.resourceVersion !== existing.metadata.resourceVersion) {
      throw new ApiError(409, 'Conflict', `Precondition failed: ResourceVersion in precondition: ${options.preconditions.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion ?? ''}`);
    }
    if (existing.kind === 'Pod') {
      if (options.dryRun) return this.guard(target, name, () => this.planPodDelete(existing, options.gracePeriodSeconds));
      return this.guard(target, name, () => this.pods.delete(existing, options.gracePeriodSeconds));
    }
    if (options.dryRun) {
      // Nothing is deleted, so nothing cascades: no garbage collection of owned pods, no orphaning either.
      this.guard(target, name, () => this.store.plan([{ op: 'delete', kind: existing.kind, namespace: existing.metadata.namespace, name }]));
      return existing;
    }
    if (existing.kind === 'StatefulSet' && options.propagationPolicy === 'Orphan') this.orphanPods(existing);
    return this.guard(target, name, () => this.store.delete(existing.kind, existing.metadata.namespace, name));
  }

  /**
   * What the pod terminator's delete would answer, planned instead of done: a
   * graceful delete answers the pod marked terminating (deletionTimestamp), a
   * delete without grace the pod as it is; a second graceful delete changes nothing.
   */
  private planPodDelete(pod: Pod, graceSeconds = this.pods.defaultGraceSeconds ?? 0): Pod {
    const namespace = pod.metadata.namespace ?? 'default';
    if (pod.metadata.deletionTimestamp && graceSeconds > 0) return pod;
    if (graceSeconds <= 0) {
      this.store.plan([{ op: 'delete', kind: 'Pod', namespace, name: pod.metadata.name }]);
      return pod;
    }
    const marked: Pod = { ...pod, metadata: { ...pod.metadata, deletionTimestamp: nowTimestamp(), deletionGracePeriodSeconds: graceSeconds } };
    const [planned] = this.store.plan([{ op: 'put', object: marked, mode: 'update' }]);
    return (planned?.object ?? pod) as Pod;
  }

  /** DELETE on a collection: every matching object, as deletecollection does. */
  deleteCollection(target: ObjectTarget, options: ListOptions & WriteOptions): unknown {
    const byLabel = parseLabelSelector(options.labelSelector);
    const byField = parseFieldSelector(options.fieldSelector, target.def.kind);
    const doomed = this.store.list(target.def.kind, target.namespace).filter((o) => byLabel(o) && byField(o));
    const deleted = doomed.map((object) => this.delete({ ...target, name: object.metadata.name, namespace: object.metadata.namespace }, { ...(options.dryRun ? { dryRun: true } : {}) }));
    return { apiVersion: groupVersion(target.def), kind: `${target.def.kind}List`, metadata: { resourceVersion: this.store.currentResourceVersion }, items: deleted };
  }

  private orphanPods(set: StatefulSet): void {
    // Orphaning leaves every dependent: the pods, and claims a retention policy made the set's.
    const owned = this.store.listOwnedBy(set.metadata.uid ?? '').filter((o): o is Pod | PersistentVolumeClaim => o.kind === 'Pod' || o.kind === 'PersistentVolumeClaim');
    if (owned.length === 0) return;
    this.store.apply(owned.map((pod) => ({ ...pod, metadata: { ...pod.metadata, ownerReferences: pod.metadata.ownerReferences!.filter((r) => r.uid !== set.metadata.uid) } })));
  }

  private scaleOf(set: StatefulSet): Json {
    const selector = Object.entries(set.spec.selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name: set.metadata.name,
        namespace: set.metadata.namespace,
        uid: set.metadata.uid,
        resourceVersion: set.metadata.resourceVersion,
        creationTimestamp: set.metadata.creationTimestamp,
      },
      spec: { replicas: set.spec.replicas ?? 1 },
      status: { replicas: Number((set.status as { replicas?: number } | undefined)?.replicas ?? 0), selector },
    };
  }

  private updateScale(target: ObjectTarget, body: unknown, options: WriteOptions): Json {
    const set = this.existing(target) as StatefulSet;
    const spec = isObject(body) && isObject(body.spec) ? body.spec : undefined;
    const replicas = spec?.replicas;
    // An int32 in Kubernetes: 1e308 or 2^31 must not become a scale the controllers try to reach.
    if (!Number.isInteger(replicas) || (replicas as number) < 0 || (replicas as number) > 2147483647) {
      const detail = Number.isInteger(replicas) && (replicas as number) > 2147483647 ? 'must be an integer between -2147483648 and 2147483647 (int32)' : 'must be greater than or equal to 0';
      const cause = { reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: ${detail}` };
      throw new ApiError(422, 'Invalid', `Scale.autoscaling "${set.metadata.name}" is invalid: spec.replicas: ${cause.message}`, {
        name: set.metadata.name,
        group: 'autoscaling',
        kind: 'Scale',
        causes: [cause],
      });
    }
    const wanted = isObject(body) && isObject(body.metadata) && typeof body.metadata.resourceVersion === 'string' ? body.metadata.resourceVersion : set.metadata.resourceVersion;
    const next: StatefulSet = { ...set, metadata: { ...set.metadata, ...(wanted ? { resourceVersion: wanted } : {}) }, spec: { ...set.spec, replicas: replicas as number } };
    const [written] = this.guard(target, set.metadata.name, () => this.write([{ op: 'put', object: next, mode: 'update' }], options.dryRun));
    if (options.dryRun) return this.scaleOf((written ?? set) as StatefulSet);
    return this.scaleOf(this.existing(target) as StatefulSet);
  }
}
