// The query of a list or watch (metav1.ListOptions), read as the API server
// reads it: decoded from the URL (k8s.io/apimachinery's generated
// Convert_url_Values_To_v1_ListOptions), defaulted (SetListOptionsDefaults with
// the WatchList feature on, as it is by default since 1.32), then validated
// (internalversion/validation ValidateListOptions). A value that does not decode
// is a 400 BadRequest; options that do not go together are a 422 naming the field.

import type { FieldCause } from '../errors.js';
import { ApiError } from './status.js';

/** What fastify's query parser hands over: a repeated key is an array. */
export type RawQuery = Record<string, string | string[] | undefined>;

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  watch: boolean;
  allowWatchBookmarks: boolean;
  /** As given (never ""): "0" means any version, a number at least (or exactly) that one. */
  resourceVersion?: string;
  resourceVersionMatch?: string;
  timeoutSeconds?: number;
  /** 0 (or less) is no limit, as in Go. */
  limit: number;
  continue?: string;
  sendInitialEvents?: boolean;
}

/** Go's url.Values reads the first value of a repeated key; Convert_Slice_string_To_* do too. */
function first(query: RawQuery, key: string): string | undefined {
  const value = query[key];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * A boolean parameter as apimachinery converts it (runtime.Convert_Slice_string_To_bool):
 * only "0" and "false" in any case are false; any other value, even an empty
 * one (`?watch=`), is true. Not strconv.ParseBool: "f" is true here, "FaLsE" false,
 * and nothing is refused.
 */
export function queryBool(value: string): boolean {
  return !(value === '0' || value.toLowerCase() === 'false');
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** strconv.ParseInt(value, 10, 64), with Go's error text: an optional sign, decimal digits, int64 range. */
export function queryInt64(value: string): number {
  if (!/^[+-]?\d+$/.test(value)) throw ApiError.of('BadRequest', `strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  const parsed = BigInt(value);
  if (parsed < INT64_MIN || parsed > INT64_MAX) throw ApiError.of('BadRequest', `strconv.ParseInt: parsing ${JSON.stringify(value)}: value out of range`);
  // Past 2^53 the count is only approximate, which no limit or timeout notices.
  return Number(parsed);
}

/** Decodes the ListOptions of a query; values that are not of their type are a 400, as the API server's decoding error. */
export function decodeListOptions(query: RawQuery): ListQuery {
  const text = (key: string): string | undefined => {
    const value = first(query, key);
    return value === undefined || value === '' ? undefined : value;
  };
  const bool = (key: string): boolean | undefined => {
    const value = first(query, key);
    return value === undefined ? undefined : queryBool(value);
  };
  const int = (key: string): number | undefined => {
    const value = first(query, key);
    return value === undefined ? undefined : queryInt64(value);
  };
  const options: ListQuery = { watch: bool('watch') ?? false, allowWatchBookmarks: bool('allowWatchBookmarks') ?? false, limit: int('limit') ?? 0 };
  const set = <K extends keyof ListQuery>(key: K, value: ListQuery[K] | undefined): void => {
    if (value !== undefined) options[key] = value;
  };
  set('labelSelector', text('labelSelector'));
  set('fieldSelector', text('fieldSelector'));
  set('resourceVersion', text('resourceVersion'));
  set('resourceVersionMatch', text('resourceVersionMatch'));
  set('timeoutSeconds', int('timeoutSeconds'));
  set('continue', text('continue'));
  set('sendInitialEvents', bool('sendInitialEvents'));
  return options;
}

/**
 * SetListOptionsDefaults with WatchList enabled (Kubernetes 1.32's default): a
 * watch from "now or any" (resourceVersion "" or "0") that says nothing of
 * initial events gets them, and so (with allowWatchBookmarks) ends them with
 * the annotated bookmark.
 */
export function defaultListOptions(options: ListQuery): ListQuery {
  if (options.sendInitialEvents !== undefined || options.resourceVersionMatch !== undefined) return options;
  const legacy = options.resourceVersion === undefined || options.resourceVersion === '0';
  if (options.watch && legacy) return { ...options, sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan' };
  return options;
}

const forbidden = (field: string, detail: string): FieldCause => ({ reason: 'FieldValueForbidden', field, message: `Forbidden: ${detail}` });
const notSupported = (field: string, value: string, supported: string[]): FieldCause => ({
  reason: 'FieldValueNotSupported',
  field,
  message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
});

/** ValidateListOptions: the causes, empty when the options go together. */
export function listOptionsErrors(options: ListQuery): FieldCause[] {
  const errors: FieldCause[] = [];
  const match = options.resourceVersionMatch;
  if (options.watch) {
    if (options.sendInitialEvents !== undefined && match !== 'NotOlderThan') {
      errors.push(forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'));
    }
    if (match !== undefined) {
      if (options.sendInitialEvents === undefined) errors.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'));
      if (match !== 'NotOlderThan') errors.push(notSupported('resourceVersionMatch', match, ['NotOlderThan']));
      if (options.continue !== undefined) errors.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
    }
    return errors;
  }
  if (match !== undefined) {
    if (options.resourceVersion === undefined) errors.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided'));
    if (options.continue !== undefined) errors.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
    if (match !== 'Exact' && match !== 'NotOlderThan') errors.push(notSupported('resourceVersionMatch', match, ['Exact', 'NotOlderThan', '']));
    if (match === 'Exact' && options.resourceVersion === '0') errors.push(forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'));
  }
  if (options.sendInitialEvents !== undefined) errors.push(forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list'));
  return errors;
}

/**
 * The ListOptions of a request, decoded, defaulted and validated; throws the
 * API server's Status: 400 for a value that does not decode, 422
 * `ListOptions.meta.k8s.io "" is invalid: ...` for options that conflict.
 * A deprecated /watch/ path watches whatever the query says, but (as in the
 * API server, whose forceWatch leaves opts.Watch alone) is defaulted and
 * validated as the query reads: as a list when it has no watch=true.
 */
export function listOptionsOf(query: RawQuery): ListQuery {
  const options = defaultListOptions(decodeListOptions(query));
  const causes = listOptionsErrors(options);
  if (causes.length > 0) {
    // field.ErrorList's aggregate: one error as it is, several in brackets.
    const shown = causes.map((c) => `${c.field}: ${c.message}`);
    const message = shown.length === 1 ? shown[0]! : `[${shown.join(', ')}]`;
    throw new ApiError(422, 'Invalid', `ListOptions.meta.k8s.io "" is invalid: ${message}`, { group: 'meta.k8s.io', kind: 'ListOptions', causes });
  }
  return options;
}

/**
 * A list's continue token, as k8s.io/apiserver's storage.EncodeContinue makes
 * it: base64url (no padding) of {"v":"meta.k8s.io/v1","rv":<version of the
 * first page>,"start":<key after the last item, relative to the list's prefix>}.
 * The key is "<name>" in a namespace and "<namespace>/<name>" across them, and
 * the start is the last key with a NUL after it, so the next page begins past it.
 */
export function encodeContinue(lastKey: string, resourceVersion: number): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: resourceVersion, start: `${lastKey}\u0000` })).toString('base64url');
}

/** Go's path.Clean, enough to tell a clean absolute path from one that is not. */
function isCleanPath(path: string): boolean {
  if (path === '/') return true;
  if (path.endsWith('/')) return false;
  return path.split('/').slice(1).every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/**
 * storage.DecodeContinue: the start key and resourceVersion of a token; a
 * token that does not decode is a 400 "invalid continue token: ...". A
 * resourceVersion of -1 (from an expired token's replacement) means "latest".
 */
export function decodeContinue(token: string): { start: string; resourceVersion: number } {
  const invalid = (detail: string): ApiError => ApiError.of('BadRequest', `invalid continue token: continue key is not valid${detail}`);
  // base64.RawURLEncoding: the URL alphabet, no padding, no stray characters.
  if (!/^[A-Za-z0-9_-]*$/.test(token) || token.length % 4 === 1) {
    const at = token.search(/[^A-Za-z0-9_-]/);
    throw invalid(`: illegal base64 data at input byte ${at >= 0 ? at : token.length - 1}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    // (encoding/json's own words would name the first bad character; the bytes are the client's garbage.)
    throw invalid(': the decoded token is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid(': not a JSON object');
  // encoding/json matches field names without regard to case.
  const field = (name: string): unknown => Object.entries(parsed as Record<string, unknown>).find(([key]) => key.toLowerCase() === name)?.[1];
  const version = field('v');
  const rv = field('rv') ?? 0;
  const start = field('start') ?? '';
  if ((version !== undefined && typeof version !== 'string') || typeof rv !== 'number' || !Number.isInteger(rv) || typeof start !== 'string') {
    throw invalid(': a field of the wrong type');
  }
  if (version !== 'meta.k8s.io/v1') throw invalid(`: server does not recognize this encoded version ${version ?? ''}`);
  if (rv === 0) throw invalid(': incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  if (start === '') throw invalid(': encoded start key empty (version meta.k8s.io/v1)');
  // Against path traversal: the key must stay inside the list's prefix.
  const key = start.startsWith('/') ? start : `/${start}`;
  if (!isCleanPath(key)) throw invalid(`: ${start}`);
  return { start: key.slice(1), resourceVersion: rv };
}
