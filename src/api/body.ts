// Request bodies: JSON or YAML by content type, refused with a BadRequest
// Status when they do not parse, nest too deep, or carry prototype keys.

import { parse as parseYaml } from 'yaml';
import { decodeProtobufBody } from './protobuf.js';
import { ApiError } from './status.js';

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

const MAX_DEPTH = 100;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

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
  if (type === 'application/vnd.kubernetes.protobuf') return decodeProtobufBody(raw);
  const text = raw.toString('utf8');
  let value: unknown;
  try {
    if (type.endsWith('json') || type === '') value = JSON.parse(text);
    else if (type.includes('yaml')) value = parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
    else throw new ApiError(415, 'UnsupportedMediaType', `unsupported media type "${type}"`);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw ApiError.of('BadRequest', `the request body is not valid ${type.includes('yaml') ? 'YAML' : 'JSON'}: ${(error as Error).message}`);
  }
  check(value, 0);
  return value;
}
