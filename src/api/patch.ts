// The three patch types kubectl sends: JSON merge patch (RFC 7386), JSON patch
// (RFC 6902) and Kubernetes strategic merge patch for the kinds served here.
// All of them work on plain JSON values and never mutate their inputs.

import { cloneJson } from '../model/json.js';
import { ApiError } from './status.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const clone = <T>(value: T): T => cloneJson(value);

/** RFC 7386: objects merge, null deletes, everything else (arrays too) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value) as Json;
  }
  return out;
}

const FORBIDDEN_TOKENS = new Set(['__proto__', 'constructor', 'prototype']);

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw ApiError.of('BadRequest', `invalid JSON pointer "${path}"`);
  const tokens = path.slice(1).split('/').map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  // The same keys request bodies may not carry may not be reached through a path either.
  if (tokens.some((t) => FORBIDDEN_TOKENS.has(t))) throw ApiError.of('BadRequest', `the JSON pointer "${path}" names a forbidden key`);
  return tokens;
}

function parentOf(doc: Json, tokens: string[], path: string): { parent: JsonObject | Json[]; key: string } {
  let node: Json = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[Number(token)] as Json;
    else if (isObject(node)) node = node[token] as Json;
    else node = undefined as unknown as Json;
    if (node === undefined) throw ApiError.of('BadRequest', `the path "${path}" does not exist`);
  }
  if (!Array.isArray(node) && !isObject(node)) throw ApiError.of('BadRequest', `the path "${path}" does not exist`);
  return { parent: node, key: tokens[tokens.length - 1] ?? '' };
}

function read(doc: Json, path: string): Json {
  let node: Json = doc;
  for (const token of pointer(path)) {
    const next: Json | undefined = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
    if (next === undefined) throw ApiError.of('BadRequest', `the path "${path}" does not exist`);
    node = next;
  }
  return node;
}

function arrayIndex(list: Json[], key: string, path: string, forAdd: boolean): number {
  if (forAdd && key === '-') return list.length;
  if (!/^(0|[1-9]\d*)$/.test(key)) throw ApiError.of('BadRequest', `invalid array index "${key}" in "${path}"`);
  const index = Number(key);
  if (index > list.length || (!forAdd && index === list.length)) throw ApiError.of('BadRequest', `array index ${index} out of range in "${path}"`);
  return index;
}

function addAt(doc: Json, path: string, value: Json): Json {
  const tokens = pointer(path);
  if (tokens.length === 0) return clone(value);
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, path, true), 0, clone(value));
  else parent[key] = clone(value);
  return doc;
}

function removeAt(doc: Json, path: string): Json {
  const tokens = pointer(path);
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, path, false), 1);
  else if (Object.hasOwn(parent, key)) delete parent[key];
  else throw ApiError.of('BadRequest', `the path "${path}" does not exist`);
  return doc;
}

/** RFC 6902 operations: add, remove, replace, move, copy, test. */
export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw ApiError.of('BadRequest', 'a JSON patch must be an array of operations');
  let doc = clone(target) as Json;
  for (const op of operations) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') {
      throw ApiError.of('BadRequest', 'each JSON patch operation needs "op" and "path"');
    }
    const path = op.path;
    switch (op.op) {
      case 'add':
        if (!('value' in op)) throw ApiError.of('BadRequest', `"add" at "${path}" has no value`);
        doc = addAt(doc, path, op.value as Json);
        break;
      case 'remove':
        doc = removeAt(doc, path);
        break;
      case 'replace':
        if (!('value' in op)) throw ApiError.of('BadRequest', `"replace" at "${path}" has no value`);
        read(doc, path);
        doc = addAt(removeAt(doc, path), path, op.value as Json);
        break;
      case 'move':
      case 'copy': {
        if (typeof op.from !== 'string') throw ApiError.of('BadRequest', `"${op.op}" at "${path}" needs "from"`);
        const value = clone(read(doc, op.from));
        if (op.op === 'move') doc = removeAt(doc, op.from);
        doc = addAt(doc, path, value);
        break;
      }
      case 'test':
        if (JSON.stringify(read(doc, path)) !== JSON.stringify(op.value)) {
          throw new ApiError(422, 'Invalid', `the test at "${path}" failed`);
        }
        break;
      default:
        throw ApiError.of('BadRequest', `unknown JSON patch operation "${String(op.op)}"`);
    }
  }
  return doc;
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

function mergeKeyFor(field: string, items: Json[]): string | undefined {
  if (field === 'ports') {
    // Container ports merge on containerPort, Service ports on port.
    return items.some((i) => isObject(i) && 'containerPort' in i) ? 'containerPort' : 'port';
  }
  return MERGE_KEYS[field];
}

function strategicList(field: string, original: Json[] | undefined, patch: Json[]): Json[] {
  if (MERGED_PRIMITIVE_LISTS.has(field)) {
    return [...new Set([...(original ?? []), ...patch])] as Json[];
  }
  const key = mergeKeyFor(field, [...(original ?? []), ...patch]);
  if (!key) return clone(patch.filter((item) => !(isObject(item) && item.$patch !== undefined)));
  if (patch.some((item) => isObject(item) && item.$patch === 'replace')) {
    return clone(patch.filter((item) => !(isObject(item) && item.$patch === 'replace')));
  }
  const out = clone(original ?? []);
  for (const item of patch) {
    if (!isObject(item)) continue;
    const index = out.findIndex((existing) => isObject(existing) && existing[key] === item[key]);
    if (item.$patch === 'delete') {
      if (index >= 0) out.splice(index, 1);
      continue;
    }
    if (index >= 0) out[index] = strategicMergePatch(out[index], item) as Json;
    else out.push(strategicMergePatch(undefined, item) as Json);
  }
  return out;
}

/**
 * Strategic merge patch: like a merge patch, but lists with a merge key merge
 * item by item, and the directives $patch, $retainKeys, $setElementOrder/<list>
 * and $deleteFromPrimitiveList/<list> are honoured.
 */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return strategicMergePatch(undefined, rest);
  }
  if (patch.$patch === 'delete') return undefined;
  let out: JsonObject = isObject(target) ? clone(target) : {};
  const retain = Array.isArray(patch.$retainKeys) ? new Set(patch.$retainKeys.map(String)) : undefined;
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith('$setElementOrder/')) continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const current = out[field];
      if (Array.isArray(current) && Array.isArray(value)) out[field] = current.filter((v) => !value.includes(v));
      continue;
    }
    if (value === null) {
      delete out[key];
    } else if (Array.isArray(value)) {
      const current = out[key];
      out[key] = strategicList(key, Array.isArray(current) ? current : undefined, value);
    } else if (isObject(value)) {
      const merged = strategicMergePatch(out[key], value);
      if (merged === undefined) delete out[key];
      else out[key] = merged as Json;
    } else {
      out[key] = value;
    }
  }
  if (retain) out = Object.fromEntries(Object.entries(out).filter(([k]) => retain.has(k) || k in patch));
  return out;
}
