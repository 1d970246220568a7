// The three patch types kubectl sends: JSON merge patch (RFC 7386), JSON patch
// (RFC 6902) and Kubernetes strategic merge patch for the kinds served here.
// All of them work on plain JSON values and never mutate their inputs.
//
// A patch is small but what it builds need not be: 30 JSON patch `copy` ops
// that each double an array take a 1.7 KB body past 4 GB. So every patch is
// held to the limits of a request body (MAX_BODY_BYTES, MAX_DEPTH) while it
// runs, not after: JSON patch tracks the size of the document op by op and
// refuses the op that would cross the limit before it allocates, and the
// result of every patch type is measured before it is handed on.

import { cloneJson, sameJson } from '../model/json.js';
import { FORBIDDEN_KEYS, MAX_BODY_BYTES, MAX_DEPTH } from './body.js';
import { ApiError } from './status.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const clone = <T>(value: T): T => cloneJson(value);

/**
 * A property of a JSON object, own properties only: `doc.toString` or
 * `doc.constructor` are Object.prototype's, not the document's, and a patch
 * that could read them would store functions (serialized as "[object Object]").
 */
function own(object: JsonObject, key: string): Json | undefined {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function forbid(key: string, where: string): void {
  if (FORBIDDEN_KEYS.has(key)) throw ApiError.of('BadRequest', `${where} may not contain the key "${key}"`);
}

/** As kube-apiserver (apiserver/pkg/endpoints/handlers/patch.go, maxJSONPatchOperations). */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

/**
 * Work a JSON patch may do beyond its own size: array elements shifted by
 * inserts and removes, and bytes walked to measure values it replaces. A
 * patch kubectl would send stays far below it; 10000 inserts at the front of
 * a list of a million elements (10^10 moves) do not.
 */
const MAX_JSON_PATCH_WORK = 64 * 1024 * 1024;

function tooLarge(why: string): ApiError {
  // The words kube-apiserver answers a body over its limit with, and why.
  return new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${MAX_BODY_BYTES}: ${why}`);
}

function tooDeep(): ApiError {
  return new ApiError(422, 'Invalid', `the patched object nests deeper than ${MAX_DEPTH} levels`);
}

interface Measure {
  /** Bytes of the value's JSON text, strings counted without escapes; past the limit the walk stops, so this is then only "more than the limit". */
  bytes: number;
  /** True when some value sits deeper than the depth limit (the walk stops there). */
  tooDeep: boolean;
}

/**
 * The size of a value as JSON, walked with a stack of its own so that no
 * depth overflows the call stack (a JSON patch can move values into ever
 * deeper places), and stopped as soon as it passes `limit` bytes or
 * `maxDepth` levels: measuring a value costs at most about `limit` steps.
 */
function measure(root: unknown, limit = Infinity, maxDepth = Infinity): Measure {
  let bytes = 0;
  const values: unknown[] = [root];
  const depths: number[] = [0];
  while (values.length > 0) {
    const value = values.pop();
    const depth = depths.pop()!;
    if (depth > maxDepth) return { bytes, tooDeep: true };
    if (typeof value === 'string') bytes += Buffer.byteLength(value) + 2;
    else if (typeof value === 'number') bytes += Number.isFinite(value) ? String(value).length : 4;
    else if (typeof value === 'boolean') bytes += value ? 4 : 5;
    else if (Array.isArray(value)) {
      bytes += 2 + Math.max(0, value.length - 1);
      for (let i = value.length - 1; i >= 0; i--) {
        values.push(value[i]);
        depths.push(depth + 1);
      }
    } else if (isObject(value)) {
      let members = 0;
      for (const key of Object.keys(value)) {
        const child = value[key];
        if (child === undefined) continue;
        members++;
        bytes += Buffer.byteLength(key) + 3;
        values.push(child);
        depths.push(depth + 1);
      }
      bytes += 2 + Math.max(0, members - 1);
    } else bytes += 4; // null (and anything JSON writes as null)
    if (bytes > limit) return { bytes, tooDeep: false };
  }
  return { bytes, tooDeep: false };
}

/** Refuses a patch result that would not be accepted as a request body. */
function checkResult(result: unknown): void {
  const size = measure(result, MAX_BODY_BYTES, MAX_DEPTH);
  if (size.tooDeep) throw tooDeep();
  if (size.bytes > MAX_BODY_BYTES) throw tooLarge('the patched object would be larger');
}

/** RFC 7386: objects merge, null deletes, everything else (arrays too) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  // One copy of the target up front; the merge then works in place on it.
  const result = isObject(patch) ? mergeInto(isObject(target) ? clone(target) : undefined, patch) : clone(patch);
  checkResult(result);
  return result;
}

/** Merges `patch` into `target`, which the caller owns and lets this change. */
function mergeInto(target: JsonObject | undefined, patch: JsonObject): Json {
  const out: JsonObject = target ?? {};
  for (const [key, value] of Object.entries(patch)) {
    forbid(key, 'a merge patch');
    if (value === null) delete out[key];
    else if (isObject(value)) {
      const current = own(out, key);
      out[key] = mergeInto(isObject(current) ? current : undefined, value);
    } else out[key] = clone(value);
  }
  return out;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw ApiError.of('BadRequest', `invalid JSON pointer "${path}"`);
  const tokens = path.slice(1).split('/').map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  // The same keys request bodies may not carry may not be reached through a path either.
  if (tokens.some((t) => FORBIDDEN_KEYS.has(t))) throw ApiError.of('BadRequest', `the JSON pointer "${path}" names a forbidden key`);
  return tokens;
}

const ARRAY_INDEX = /^(0|[1-9]\d*)$/;

/**
 * The child a pointer token names: an own property of an object, or an
 * element of an array by a canonical index (RFC 6901: "01", "1e0", " 1" and
 * "" are not indexes, nor is "length").
 */
function childOf(node: Json, token: string): Json | undefined {
  if (Array.isArray(node)) return ARRAY_INDEX.test(token) && Number(token) < node.length ? node[Number(token)] : undefined;
  if (isObject(node)) return own(node, token);
  return undefined;
}

function read(doc: Json, tokens: string[], path: string): Json {
  let node = doc;
  for (const token of tokens) {
    const next = childOf(node, token);
    if (next === undefined) throw ApiError.of('BadRequest', `the path "${path}" does not exist`);
    node = next;
  }
  return node;
}

function arrayIndex(list: Json[], key: string, path: string, forAdd: boolean): number {
  if (forAdd && key === '-') return list.length;
  if (!ARRAY_INDEX.test(key)) throw ApiError.of('BadRequest', `invalid array index "${key}" in "${path}"`);
  const index = Number(key);
  if (index > list.length || (!forAdd && index === list.length)) throw ApiError.of('BadRequest', `array index ${index} out of range in "${path}"`);
  return index;
}

/** Bytes a member takes in an object besides its value: `"key":`. */
const memberBytes = (key: string): number => Buffer.byteLength(key) + 3;

/** Whether an object has at least `n` members (stops counting there). */
function hasMembers(object: JsonObject, n: number): boolean {
  let count = 0;
  for (const _key in object) if (++count >= n) return true;
  return false;
}

/** The JSON patch being applied: its own copy of the document, and what it has spent. */
class JsonPatchRun {
  /** Bytes of the document as JSON, kept exact op by op. */
  private size: number;
  /** Bytes copied by `copy` ops so far (cf. evanphx/json-patch's AccumulatedCopySizeLimit). */
  private copied = 0;
  private work = 0;

  constructor(private doc: Json) {
    this.size = measure(doc).bytes;
  }

  result(): Json {
    return this.doc;
  }

  private spend(units: number): void {
    this.work += units;
    if (this.work > MAX_JSON_PATCH_WORK) throw tooLarge(`the JSON patch does more than ${MAX_JSON_PATCH_WORK} steps of work`);
  }

  /** Bytes of a value about to leave the document (its walk counted as work). */
  private leaving(value: Json): number {
    const bytes = measure(value).bytes;
    this.spend(bytes);
    return bytes;
  }

  private grow(bytes: number): void {
    this.size += bytes;
    if (this.size > MAX_BODY_BYTES) throw tooLarge('the patched object would be larger');
  }

  private parentOf(tokens: string[], path: string): { parent: JsonObject | Json[]; key: string } {
    const parent = read(this.doc, tokens.slice(0, -1), path);
    if (!Array.isArray(parent) && !isObject(parent)) throw ApiError.of('BadRequest', `the path "${path}" does not exist`);
    return { parent, key: tokens[tokens.length - 1]! };
  }

  /** Puts a value (owned by the document from now on) at a path; returns the bytes the document grew by, `bytes` being the value's own. */
  private attach(tokens: string[], path: string, value: Json, bytes: number): number {
    if (tokens.length === 0) {
      const before = this.leaving(this.doc);
      this.doc = value;
      return bytes - before;
    }
    const { parent, key } = this.parentOf(tokens, path);
    if (Array.isArray(parent)) {
      const index = arrayIndex(parent, key, path, true);
      this.spend(parent.length - index);
      const comma = parent.length > 0 ? 1 : 0;
      parent.splice(index, 0, value);
      return bytes + comma;
    }
    // `add` on an existing member replaces it (RFC 6902 4.1).
    const existing = own(parent, key);
    if (existing !== undefined) {
      const before = this.leaving(existing);
      parent[key] = value;
      return bytes - before;
    }
    const comma = hasMembers(parent, 1) ? 1 : 0;
    parent[key] = value;
    return memberBytes(key) + bytes + comma;
  }

  /** Takes the value at a path out of the document; returns it and the bytes its place took besides the value. */
  private detach(tokens: string[], path: string): { value: Json; overhead: number } {
    if (tokens.length === 0) throw ApiError.of('BadRequest', 'the whole object cannot be removed or moved');
    const { parent, key } = this.parentOf(tokens, path);
    if (Array.isArray(parent)) {
      const index = arrayIndex(parent, key, path, false);
      this.spend(parent.length - index);
      const comma = parent.length > 1 ? 1 : 0;
      const [value] = parent.splice(index, 1);
      return { value: value!, overhead: comma };
    }
    const value = own(parent, key);
    if (value === undefined) throw ApiError.of('BadRequest', `the path "${path}" does not exist`);
    const comma = hasMembers(parent, 2) ? 1 : 0;
    delete parent[key];
    return { value, overhead: memberBytes(key) + comma };
  }

  add(path: string, value: Json): void {
    const bytes = measure(value).bytes; // from the request body: already within its limits
    this.grow(this.attach(pointer(path), path, clone(value), bytes));
  }

  remove(path: string): void {
    const { value, overhead } = this.detach(pointer(path), path);
    this.size -= overhead + this.leaving(value);
  }

  replace(path: string, value: Json): void {
    const tokens = pointer(path);
    const old = read(this.doc, tokens, path);
    const bytes = measure(value).bytes;
    const before = this.leaving(old);
    const copy = clone(value);
    if (tokens.length === 0) this.doc = copy;
    else {
      // In place: the member keeps its position, the element its index.
      const { parent, key } = this.parentOf(tokens, path);
      if (Array.isArray(parent)) parent[Number(key)] = copy;
      else parent[key] = copy;
    }
    this.grow(bytes - before);
  }

  move(from: string, path: string): void {
    const source = pointer(from);
    const target = pointer(path);
    if (target.length > source.length && source.every((t, i) => target[i] === t)) {
      throw ApiError.of('BadRequest', `"${from}" cannot be moved into its own child "${path}"`);
    }
    // The value itself keeps its size: only the bytes of its place change.
    const { value, overhead } = this.detach(source, from);
    this.size -= overhead;
    this.grow(this.attach(target, path, value, 0));
  }

  copy(from: string, path: string): void {
    const value = read(this.doc, pointer(from), from);
    // Measured before it is cloned, and no further than the copy budget left,
    // so a doubling copy is refused before it allocates anything.
    const left = MAX_BODY_BYTES - this.copied;
    const size = measure(value, Math.min(left, MAX_BODY_BYTES - this.size), MAX_DEPTH);
    if (size.tooDeep) throw tooDeep();
    if (size.bytes > left) throw tooLarge(`the copies in the JSON patch would total more than ${MAX_BODY_BYTES} bytes`);
    if (this.size + size.bytes > MAX_BODY_BYTES) throw tooLarge('the patched object would be larger');
    this.copied += size.bytes;
    this.grow(this.attach(pointer(path), path, clone(value), size.bytes));
  }

  test(path: string, value: Json): void {
    // JSON equality (RFC 6902 4.6): object members in any order.
    if (!sameJson(read(this.doc, pointer(path), path), value)) throw new ApiError(422, 'Invalid', `the test at "${path}" failed`);
  }
}

/** RFC 6902 operations: add, remove, replace, move, copy, test. */
export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw ApiError.of('BadRequest', 'a JSON patch must be an array of operations');
  if (operations.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new ApiError(413, 'RequestEntityTooLarge', `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${operations.length}`);
  }
  const run = new JsonPatchRun(clone(target) as Json);
  for (const op of operations as unknown[]) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') {
      throw ApiError.of('BadRequest', 'each JSON patch operation needs "op" and "path"');
    }
    const path = op.path;
    const value = (): Json => {
      if (!Object.hasOwn(op, 'value')) throw ApiError.of('BadRequest', `"${String(op.op)}" at "${path}" has no value`);
      return op.value!;
    };
    const from = (): string => {
      if (typeof op.from !== 'string') throw ApiError.of('BadRequest', `"${String(op.op)}" at "${path}" needs "from"`);
      return op.from;
    };
    switch (op.op) {
      case 'add':
        run.add(path, value());
        break;
      case 'remove':
        run.remove(path);
        break;
      case 'replace':
        run.replace(path, value());
        break;
      case 'move':
        run.move(from(), path);
        break;
      case 'copy':
        run.copy(from(), path);
        break;
      case 'test':
        run.test(path, value());
        break;
      default:
        throw ApiError.of('BadRequest', `unknown JSON patch operation "${String(op.op)}"`);
    }
  }
  const result = run.result();
  // The size was kept op by op; the depth is checked once, on the result.
  checkResult(result);
  return result;
}

/**
 * patchMergeKey of the list fields of the kinds served here (from the API's
 * Go struct tags). Lists not named here are atomic: a patch replaces them.
 */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  conditions: 'type',
  ownerReferences: 'uid',
  hostAliases: 'ip',
  containerStatuses: 'name',
  initContainerStatuses: 'name',
};

/** Primitive lists merged as sets. */
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

function mergeKeyFor(field: string, original: Json[], patch: Json[]): string | undefined {
  if (field === 'ports') {
    // Container ports merge on containerPort, Service ports on port.
    const hasContainerPort = (i: Json): boolean => isObject(i) && Object.hasOwn(i, 'containerPort');
    return original.some(hasContainerPort) || patch.some(hasContainerPort) ? 'containerPort' : 'port';
  }
  return Object.hasOwn(MERGE_KEYS, field) ? MERGE_KEYS[field] : undefined;
}

/** Marks a list element a `$patch: delete` removed, until the list is compacted. */
const GONE: unique symbol = Symbol('deleted');

/**
 * Where the elements of a keyed list are, by merge key value: the indexes
 * holding that value, in order, and the first of them still live. A patch
 * item finds its element in O(1) instead of a scan of the list (30k
 * containers: 6 s as a scan), and finds the same element a scan would: the
 * first one whose key is === to its own (Map keys compare the same way for
 * JSON values).
 */
class KeyIndex {
  private readonly slots = new Map<Json | undefined, { indexes: number[]; head: number }>();

  first(id: Json | undefined): number | undefined {
    const slot = this.slots.get(id);
    return slot && slot.head < slot.indexes.length ? slot.indexes[slot.head] : undefined;
  }

  /** Forgets the first index of `id` (the element was deleted, or its key changed). */
  dropFirst(id: Json | undefined): void {
    const slot = this.slots.get(id);
    if (slot) slot.head++;
  }

  add(id: Json | undefined, index: number): void {
    const slot = this.slots.get(id);
    if (!slot) {
      this.slots.set(id, { indexes: [index], head: 0 });
      return;
    }
    // Indexes come in increasing order except when a merge changed an element's key.
    let at = slot.indexes.length;
    while (at > slot.head && slot.indexes[at - 1]! > index) at--;
    slot.indexes.splice(at, 0, index);
  }
}

/** A list field of a strategic merge patch; `original` is owned and may be reused. */
function strategicList(field: string, original: Json[] | undefined, patch: Json[]): Json[] {
  if (MERGED_PRIMITIVE_LISTS.has(field)) {
    return [...new Set([...(original ?? []), ...patch])];
  }
  const key = mergeKeyFor(field, original ?? [], patch);
  if (!key) return clone(patch.filter((item) => !(isObject(item) && item.$patch !== undefined)));
  if (patch.some((item) => isObject(item) && item.$patch === 'replace')) {
    return clone(patch.filter((item) => !(isObject(item) && item.$patch === 'replace')));
  }
  const out: Array<Json | typeof GONE> = original ?? [];
  const index = new KeyIndex();
  out.forEach((existing, i) => {
    if (isObject(existing)) index.add(own(existing, key), i);
  });
  let deleted = false;
  for (const item of patch) {
    if (!isObject(item)) continue;
    const id = own(item, key);
    const at = index.first(id);
    if (item.$patch === 'delete') {
      if (at !== undefined) {
        out[at] = GONE;
        index.dropFirst(id);
        deleted = true;
      }
      continue;
    }
    if (at !== undefined) {
      const merged = strategicInto(out[at] as JsonObject, item) ?? null;
      out[at] = merged;
      // A merge that changed the key (`name: null` on a null name) moves the element in the index.
      const now = isObject(merged) ? own(merged, key) : undefined;
      if (now !== id) {
        index.dropFirst(id);
        if (isObject(merged)) index.add(now, at);
      }
    } else {
      const merged = strategicInto(undefined, item) ?? null;
      out.push(merged);
      if (isObject(merged)) index.add(own(merged, key), out.length - 1);
    }
  }
  return deleted ? out.filter((v): v is Json => v !== GONE) : (out as Json[]);
}

/**
 * Strategic merge patch: like a merge patch, but lists with a merge key merge
 * item by item, and the directives $patch, $retainKeys and
 * $deleteFromPrimitiveList/<list> are honoured ($setElementOrder/<list> is
 * accepted and ignored: merged lists keep their order, new items go last).
 */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  // One copy of the target up front; the merge then works in place on it.
  const result = isObject(patch) ? strategicInto(isObject(target) ? clone(target) : undefined, patch) : clone(patch);
  checkResult(result);
  return result;
}

/** Merges `patch` into `target`, which the caller owns and lets this change; undefined for `$patch: delete`. */
function strategicInto(target: JsonObject | undefined, patch: JsonObject): Json | undefined {
  if (patch.$patch === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return strategicInto(undefined, rest);
  }
  if (patch.$patch === 'delete') return undefined;
  let out: JsonObject = target ?? {};
  const retain = Array.isArray(patch.$retainKeys) ? new Set(patch.$retainKeys.map(String)) : undefined;
  for (const [key, value] of Object.entries(patch)) {
    forbid(key, 'a strategic merge patch');
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith('$setElementOrder/')) continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      forbid(field, 'a strategic merge patch');
      const current = own(out, field);
      if (Array.isArray(current) && Array.isArray(value)) {
        // A set, not Array.includes: a list deleted from a list of n is O(n), not O(n²).
        const doomed = new Set<Json>(value);
        out[field] = current.filter((v) => !doomed.has(v));
      }
      continue;
    }
    if (value === null) {
      delete out[key];
    } else if (Array.isArray(value)) {
      const current = own(out, key);
      out[key] = strategicList(key, Array.isArray(current) ? current : undefined, value);
    } else if (isObject(value)) {
      const current = own(out, key);
      const merged = strategicInto(isObject(current) ? current : undefined, value);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    } else {
      out[key] = value;
    }
  }
  if (retain) out = Object.fromEntries(Object.entries(out).filter(([k]) => retain.has(k) || Object.hasOwn(patch, k)));
  return out;
}
