// Request bodies: JSON, YAML or (for Namespaces) protobuf by content type,
// refused with a BadRequest Status when they do not parse, nest too deep, or
// carry prototype keys. Patches are held to the same limits (patch.ts).

import { load as loadYaml } from 'js-yaml';
import { checkYamlAliases } from '../model/manifest.js';
import { decodeProtobufBody } from './protobuf.js';
import { ApiError } from './status.js';

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

/** How deep a body, or the result of a patch, may nest. */
export const MAX_DEPTH = 100;
/** Keys no body or patch may carry or reach: they name prototypes, not data. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/**
 * The largest request body, and so the largest object a patch may produce.
 * The same number as app.ts's BODY_LIMIT (kube-apiserver's 3 MiB).
 */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

export function patchTypeOf(contentType: string | undefined): PatchType {
  switch (mediaType(contentType)) {
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/json-patch+json':
      return 'json';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/apply-patch+yaml':
    case 'application/apply-patch+cbor':
      return 'apply';
    default:
      throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
  }
}

function check(value: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw ApiError.of('BadRequest', `the request body nests deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) {
    for (const item of value) check(item, depth + 1);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (FORBIDDEN_KEYS.has(key)) throw ApiError.of('BadRequest', `the request body may not contain the key "${key}"`);
      check(child, depth + 1);
    }
  }
}

/** Parses a request body: JSON for JSON media types, YAML (a superset) for the rest. */
export function parseBody(raw: Buffer | undefined, contentType: string | undefined): unknown {
  if (!raw || raw.length === 0) throw ApiError.of('BadRequest', 'the request body is empty');
  const type = mediaType(contentType);
  let value: unknown;
  if (type === 'application/vnd.kubernetes.protobuf') {
    // Decoded protobuf carries map keys (labels, annotations) from the client as
    // they are, so it gets the same key and depth check as JSON and YAML.
    value = decodeProtobufBody(raw);
    check(value, 0);
    return value;
  }
  const text = raw.toString('utf8');
  try {
    if (type.endsWith('json') || type === '') value = JSON.parse(text);
    else if (type.includes('yaml')) {
      // The manifests' YAML library and alias guard: duplicate keys are errors, and
      // aliases may not expand a body past what the guard allows.
      value = loadYaml(text);
      checkYamlAliases(value, 'the request body');
    }
    else throw new ApiError(415, 'UnsupportedMediaType', `unsupported media type "${type}"`);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw ApiError.of('BadRequest', `the request body is not valid ${type.includes('yaml') ? 'YAML' : 'JSON'}: ${(error as Error).message}`);
  }
  check(value, 0);
  return value;
}
