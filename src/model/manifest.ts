// Reading manifests the way `kubectl apply -f` does: files, directories (their
// subdirectories too with `recursive`, kubectl's -R), `-` for stdin and http(s)
// URLs; multi-document YAML or a stream of JSON objects, `kind: List` flattened.
// Everything is read and validated before anything is returned, so a caller
// can apply all-or-nothing.

import { type Dirent, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, isAbsolute, join, resolve } from 'node:path';
import { YAMLException, loadAll } from 'js-yaml';
import { HeadlessDnsError, type FieldCause } from '../errors.js';
import { isNamespaced, KINDS, type KubeObject } from './types.js';
import { isKnownKind, validateObject } from './validate.js';

/** kubectl's FileExtensions: in a directory, only these files are read. */
const MANIFEST_EXTENSIONS = ['.json', '.yaml', '.yml'];

/** How documents read from stdin are named in messages, as kubectl's `-f -`. */
export const STDIN_SOURCE = '<stdin>';

/** How long one URL may take, answer and body, before the load gives up. */
export const URL_TIMEOUT_MS = 30_000;

export interface ManifestObject {
  /** Where it came from, for messages: `k8s/app.yaml: document 2`. */
  source: string;
  object: KubeObject;
}

export interface SkippedDocument {
  source: string;
  kind: string;
  name: string;
}

export interface LoadedManifests {
  objects: ManifestObject[];
  /** Documents of kinds headless-dns does not model (Deployment, ConfigMap, custom resources...): reported, not applied. */
  skipped: SkippedDocument[];
}

interface RawDocument {
  source: string;
  raw: unknown;
}

export interface ManifestReadOptions {
  /** Read the subdirectories of a directory too (kubectl's -R). Default false. */
  recursive?: boolean;
  /** Where `-` reads from. Default: all of process.stdin. */
  readStdin?: () => Promise<string>;
  /** Per URL. Default URL_TIMEOUT_MS. */
  urlTimeoutMs?: number;
}

/** kubectl's test for a URL argument (cli-runtime's FilenameParam). */
export function isManifestUrl(spec: string): boolean {
  return spec.startsWith('http://') || spec.startsWith('https://');
}

function readDirectory(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    throw new HeadlessDnsError('MANIFEST_UNREADABLE', `${dir}: ${(error as Error).message}`);
  }
}

/**
 * The files `-f path` reads: the path itself when it is a file (whatever its
 * extension, as kubectl), else the directory's .json/.yaml/.yml files in name
 * order, with `recursive` descending into subdirectories where they sort (Go's
 * filepath.Walk, which kubectl uses; like it, symlinked directories are not
 * followed, so a link cannot make a loop). A directory without any such file
 * is MANIFEST_EMPTY: kubectl refuses it too ("recognized file extensions are
 * [.json .yaml .yml]").
 */
export function manifestFiles(path: string, recursive = false): string[] {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    // A relative path is read from the working directory (as kubectl reads it),
    // which in a test runner or an installed package is easy to get wrong: say where it looked.
    const tried = isAbsolute(path) ? '' : ` (tried ${resolve(path)}: relative paths are read from the working directory ${process.cwd()})`;
    throw new HeadlessDnsError('MANIFEST_NOT_FOUND', `${path}: no such file or directory${tried}`);
  }
  if (!stats.isDirectory()) return [path];
  const files: string[] = [];
  let skippedDirectories = false;
  const walk = (dir: string): void => {
    const entries = readDirectory(dir).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (recursive) walk(full);
        else skippedDirectories = true;
        continue;
      }
      if (!MANIFEST_EXTENSIONS.includes(extname(entry.name).toLowerCase())) continue;
      let isFile = true;
      try {
        // Follows a symlinked file; a symlinked directory named x.yaml is left out.
        isFile = statSync(full).isFile();
      } catch {
        // A dangling link: reading it reports why.
      }
      if (isFile) files.push(full);
    }
  };
  walk(path);
  if (files.length === 0) {
    const hint = skippedDirectories ? '; its subdirectories are read only with -R (--recursive)' : '';
    throw new HeadlessDnsError('MANIFEST_EMPTY', `${path}: no manifests in the directory: recognized file extensions are ${MANIFEST_EXTENSIONS.join(', ')}${hint}`);
  }
  return files;
}

/** Alias uses one document may expand to, against exponential "billion laughs" documents. */
const MAX_EXPANDED_NODES = 1_000_000;

/**
 * Throws when aliases make a document expand far beyond what is written, or
 * refer to themselves. (An alias is the same object reached twice.)
 */
export function checkYamlAliases(raw: unknown, source: string): void {
  const sizes = new Map<object, number>();
  const open = new Set<object>();
  const size = (value: unknown): number => {
    if (typeof value !== 'object' || value === null) return 1;
    const known = sizes.get(value);
    if (known !== undefined) return known;
    if (open.has(value)) throw new HeadlessDnsError('MANIFEST_UNREADABLE', `${source}: an alias refers to itself`);
    open.add(value);
    let total = 1;
    for (const child of Object.values(value)) {
      total += size(child);
      if (total > MAX_EXPANDED_NODES) {
        throw new HeadlessDnsError('MANIFEST_UNREADABLE', `${source}: aliases expand to more than ${MAX_EXPANDED_NODES} nodes`);
      }
    }
    open.delete(value);
    sizes.set(value, total);
    return total;
  };
  size(raw);
}

/** kubectl's test (apimachinery's YAMLOrJSONDecoder): content whose first non-blank character is `{` is JSON. */
function looksLikeJson(text: string): boolean {
  return /^\s*\{/.test(text);
}

function lineAndColumn(text: string, offset: number): string {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return `line ${line}, column ${offset - start + 1}`;
}

interface JsonScan {
  /** Just past the value's closing bracket (or the end of the text when it has none). */
  end: number;
  /** Offset of the first closing bracket right after a comma. */
  trailingComma?: number;
  duplicate?: { offset: number; key: string };
}

/**
 * Finds where the JSON object or array at `start` ends, noting a trailing
 * comma (which JSON.parse rejects without saying where, for arrays) and the
 * first duplicate key (which JSON.parse lets the last one win; js-yaml, and
 * the API server's strict field validation, refuse it).
 */
function scanJsonValue(text: string, start: number): JsonScan {
  const scan: JsonScan = { end: text.length };
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  let last = '';
  for (let i = start; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      let j = i + 1;
      let escaped = false;
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\') {
          escaped = true;
          j++;
        }
        j++;
      }
      const keys = stack[stack.length - 1];
      if (expectKey && keys && scan.duplicate === undefined) {
        let key: string | undefined = text.slice(i + 1, j);
        if (escaped) {
          try {
            key = JSON.parse(text.slice(i, j + 1)) as string;
          } catch {
            key = undefined; // JSON.parse of the whole value reports it
          }
        }
        if (key !== undefined) {
          if (keys.has(key)) scan.duplicate = { offset: i, key };
          else keys.add(key);
        }
      }
      expectKey = false;
      last = '"';
      i = j;
      continue;
    }
    if (ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t') continue;
    if (ch === '{' || ch === '[') {
      stack.push(ch === '{' ? new Set() : null);
      expectKey = ch === '{';
    } else if (ch === '}' || ch === ']') {
      if (last === ',' && scan.trailingComma === undefined) scan.trailingComma = i;
      stack.pop();
      expectKey = false;
      if (stack.length === 0) {
        scan.end = i + 1;
        return scan;
      }
    } else if (ch === ',') {
      expectKey = stack[stack.length - 1] instanceof Set;
    } else if (ch === ':') {
      expectKey = false;
    }
    last = ch;
  }
  return scan;
}

/**
 * A stream of JSON values, one document each, as kubectl's JSON decoder reads
 * it (`{...}{...}` or one per line). JSON.parse, not js-yaml, so what JSON
 * forbids (a trailing comma, comments, single quotes) is an error, as in kubectl.
 */
function parseJsonStream(text: string, origin: string): unknown[] {
  const documents: unknown[] = [];
  const fail = (offset: number, message: string): never => {
    throw new HeadlessDnsError('MANIFEST_UNREADABLE', `${origin}: ${lineAndColumn(text, offset)}: ${message}`);
  };
  let i = 0;
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) return documents;
    const ch = text[i]!;
    if (ch !== '{' && ch !== '[') fail(i, `invalid JSON: ${JSON.stringify(ch)} where document ${documents.length + 1} should start with "{"`);
    const scan = scanJsonValue(text, i);
    try {
      documents.push(JSON.parse(text.slice(i, scan.end)));
    } catch (error) {
      const message = (error as Error).message;
      const at = / in JSON at position (\d+)/.exec(message);
      const position = at ? i + Number(at[1]) : undefined;
      if (scan.trailingComma !== undefined && (position === undefined || position >= scan.trailingComma)) {
        fail(scan.trailingComma, `invalid JSON: a comma before "${text[scan.trailingComma]}" (JSON allows no trailing comma)`);
      }
      // V8 quotes the whole text in some messages; the position says enough.
      const reason = message.replace(/ in JSON at position \d+.*$/s, '').replace(/, ".*" is not valid JSON$/s, '');
      if (position !== undefined) fail(position, `invalid JSON: ${reason}`);
      throw new HeadlessDnsError('MANIFEST_UNREADABLE', `${origin}: document ${documents.length + 1}: invalid JSON: ${reason}`);
    }
    if (scan.duplicate) fail(scan.duplicate.offset, `duplicated mapping key ${JSON.stringify(scan.duplicate.key)}`);
    i = scan.end;
  }
}

/**
 * Splits text into documents. Chosen by content as kubectl does: JSON (a
 * stream of objects) when it starts with `{`, else YAML. js-yaml, because at
 * 20k documents it reads in 0.4 s what the yaml package composes in 5 s.
 */
export function parseManifestText(text: string, origin: string): RawDocument[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let documents: unknown[];
  if (looksLikeJson(text)) {
    documents = parseJsonStream(text, origin);
  } else {
    try {
      documents = loadAll(text, undefined, { filename: origin });
    } catch (error) {
      if (!(error instanceof YAMLException)) throw error;
      const at = error.mark ? `line ${error.mark.line + 1}, column ${error.mark.column + 1}: ` : '';
      throw new HeadlessDnsError('MANIFEST_UNREADABLE', `${origin}: ${at}${error.reason}`);
    }
  }
  const out: RawDocument[] = [];
  documents.forEach((raw, i) => {
    const source = `${origin}: document ${i + 1}`;
    if (raw === null || raw === undefined) return;
    checkYamlAliases(raw, source);
    flattenList(raw, source, out);
  });
  return out;
}

function flattenList(raw: unknown, source: string, out: RawDocument[]): void {
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const record = raw as Record<string, unknown>;
    if (typeof record.kind === 'string' && record.kind.endsWith('List') && Array.isArray(record.items)) {
      record.items.forEach((item, i) => flattenList(item, `${source}, item ${i + 1}`, out));
      return;
    }
  }
  out.push({ source, raw });
}

function describe(raw: unknown): { kind: string; name: string } {
  const record = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const meta = (typeof record.metadata === 'object' && record.metadata !== null ? record.metadata : {}) as Record<string, unknown>;
  return {
    kind: typeof record.kind === 'string' ? record.kind : '<no kind>',
    name: typeof meta.name === 'string' ? meta.name : '<no name>',
  };
}

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

function sortedJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedJson);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortedJson((value as Record<string, unknown>)[key])]));
  }
  return value;
}

/**
 * The annotation `kubectl apply` leaves on what it creates: the manifest as
 * written, namespace filled in, keys sorted, newline-terminated. With it, a
 * later `kubectl apply` of the same files diffs against what was loaded.
 */
export function lastAppliedConfiguration(raw: Record<string, unknown>, namespace: string | undefined): string {
  const metadata = { ...((raw.metadata ?? {}) as Record<string, unknown>) };
  const annotations = { ...((metadata.annotations ?? {}) as Record<string, string>) };
  delete annotations[LAST_APPLIED_ANNOTATION];
  metadata.annotations = annotations;
  if (namespace !== undefined) metadata.namespace = namespace;
  return `${JSON.stringify(sortedJson({ ...raw, metadata }))}\n`;
}

export function formatCauses(causes: readonly FieldCause[]): string {
  return causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join('; ');
}

/**
 * Built-in Kubernetes kinds headless-dns knows and does not model: a one-line
 * notice each, then skipped, so a real app's manifest directory loads. When a
 * kind becomes modelled, it leaves this list.
 */
export const UNMODELLED_KINDS: ReadonlySet<string> = new Set([
  // core v1
  'Binding', 'ComponentStatus', 'ConfigMap', 'Endpoints', 'LimitRange',
  'PodTemplate', 'ReplicationController', 'ResourceQuota', 'Secret', 'ServiceAccount',
  // apps, batch, autoscaling, policy
  'DaemonSet', 'Deployment', 'ReplicaSet', 'CronJob', 'Job', 'HorizontalPodAutoscaler',
  'PodDisruptionBudget', 'PodSecurityPolicy',
  // networking, coordination, rbac
  'Ingress', 'IngressClass', 'IPAddress', 'NetworkPolicy', 'ServiceCIDR', 'LeaseCandidate',
  'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding',
  // storage, scheduling, node
  'CSIDriver', 'CSINode', 'CSIStorageCapacity', 'StorageClass', 'VolumeAttachment', 'VolumeAttributesClass',
  'PriorityClass', 'RuntimeClass',
  // extension, admission, certificates, flow control, resources, auth reviews
  'APIService', 'CustomResourceDefinition', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration',
  'MutatingAdmissionPolicy', 'MutatingAdmissionPolicyBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding',
  'CertificateSigningRequest', 'ClusterTrustBundle', 'FlowSchema', 'PriorityLevelConfiguration',
  'DeviceClass', 'ResourceClaim', 'ResourceClaimTemplate', 'ResourceSlice', 'StorageVersion', 'StorageVersionMigration',
  'TokenReview', 'SelfSubjectReview', 'SubjectAccessReview', 'SelfSubjectAccessReview', 'LocalSubjectAccessReview',
  'SelfSubjectRulesReview',
]);

/**
 * The API groups a Kubernetes API server serves itself ('' is the core group,
 * `apiVersion: v1`). A kind in any other group (monitoring.coreos.com,
 * gateway.networking.k8s.io, serving.knative.dev...) is a custom resource:
 * skipped with a notice whatever its kind, since a CRD may name its kind
 * anything, even `Service` (Knative). Listed, not matched by a `.k8s.io`
 * suffix, because CRD groups use that suffix too.
 */
export const BUILT_IN_API_GROUPS: ReadonlySet<string> = new Set([
  '', 'apps', 'batch', 'autoscaling', 'policy', 'extensions',
  'admissionregistration.k8s.io', 'apiextensions.k8s.io', 'apiregistration.k8s.io', 'authentication.k8s.io',
  'authorization.k8s.io', 'certificates.k8s.io', 'coordination.k8s.io', 'discovery.k8s.io', 'events.k8s.io',
  'flowcontrol.apiserver.k8s.io', 'internal.apiserver.k8s.io', 'networking.k8s.io', 'node.k8s.io',
  'rbac.authorization.k8s.io', 'resource.k8s.io', 'scheduling.k8s.io', 'storage.k8s.io', 'storagemigration.k8s.io',
]);

/** The API group of an apiVersion (`apps/v1` → `apps`, `v1` → ''); a missing one counts as core. */
function apiGroup(apiVersion: unknown): string {
  if (typeof apiVersion !== 'string') return '';
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

/** Optimal string alignment distance: edits, with a swap of neighbours counting one (`Sevrice`). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The kind `kind` was probably meant to be: the closest modelled or known
 * kind, ignoring case, at most one edit away for short kinds (`Pod`, `Job`)
 * and two for longer ones; modelled kinds win a tie.
 */
export function suggestKind(kind: string): string | undefined {
  const wanted = kind.toLowerCase();
  let best: { kind: string; distance: number } | undefined;
  for (const candidate of [...KINDS, ...UNMODELLED_KINDS]) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance > (candidate.length <= 4 ? 1 : 2)) continue;
    if (!best || distance < best.distance) best = { kind: candidate, distance };
  }
  return best?.kind;
}

type Disposition = 'validate' | 'skip' | FieldCause;

/**
 * What to do with a document: modelled kinds are validated, known built-in
 * kinds and custom resources skipped, and any other kind in a built-in group
 * (a typo like `Servce`, or a kind that does not exist) is an error, worded as
 * kubectl's "no matches for kind".
 */
function dispositionOf(raw: unknown): Disposition {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'validate';
  const { kind, apiVersion } = raw as Record<string, unknown>;
  if (typeof kind !== 'string' || kind === '') return 'validate'; // validateObject says what is missing
  if (!BUILT_IN_API_GROUPS.has(apiGroup(apiVersion))) return 'skip';
  if (isKnownKind(kind)) return 'validate';
  if (UNMODELLED_KINDS.has(kind)) return 'skip';
  const version = typeof apiVersion === 'string' && apiVersion !== '' ? `in version "${apiVersion}"` : '(no apiVersion)';
  const suggestion = suggestKind(kind);
  return {
    reason: 'FieldValueNotSupported',
    field: 'kind',
    message: `no matches for kind "${kind}" ${version}${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
  };
}

/**
 * The store's NAMESPACE_NOT_FOUND names only the namespace; applied from
 * manifests, it becomes one naming every document whose namespace neither
 * exists nor is made by an earlier document, as INVALID_OBJECT does. Any other
 * error is returned as it is.
 */
export function namingManifestNamespaces(error: unknown, objects: readonly ManifestObject[], namespaceExists: (name: string) => boolean): unknown {
  if (!(error instanceof HeadlessDnsError) || error.code !== 'NAMESPACE_NOT_FOUND') return error;
  const made = new Set<string>();
  const problems: string[] = [];
  objects.forEach(({ source, object }, i) => {
    if (object.kind === 'Namespace') made.add(object.metadata.name);
    const namespace = object.metadata.namespace ?? 'default';
    if (!isNamespaced(object.kind) || made.has(namespace) || namespaceExists(namespace)) return;
    // The store applies in order, as kubectl does: a Namespace listed after its objects is too late.
    const later = objects.slice(i + 1).find((m) => m.object.kind === 'Namespace' && m.object.metadata.name === namespace);
    const hint = later ? `its Namespace comes later (${later.source}): put that first` : `add a Namespace "${namespace}" to the manifests`;
    problems.push(`${source} (${object.kind} "${object.metadata.name}"): namespaces "${namespace}" not found; ${hint}`);
  });
  return problems.length > 0 ? new HeadlessDnsError('NAMESPACE_NOT_FOUND', problems.join('\n')) : error;
}

/** Validates raw documents; throws INVALID_OBJECT naming every bad document and field. */
export function validateDocuments(documents: readonly RawDocument[]): LoadedManifests {
  const objects: ManifestObject[] = [];
  const skipped: SkippedDocument[] = [];
  const problems: string[] = [];
  const causes: FieldCause[] = [];
  for (const { source, raw } of documents) {
    const { kind, name } = describe(raw);
    const disposition = dispositionOf(raw);
    if (disposition === 'skip') {
      skipped.push({ source, kind, name });
      continue;
    }
    const result = disposition === 'validate' ? validateObject(raw) : { object: undefined, causes: [disposition] };
    if (result.object) {
      const object = result.object;
      object.metadata.annotations = {
        ...(object.metadata.annotations ?? {}),
        [LAST_APPLIED_ANNOTATION]: lastAppliedConfiguration(raw as Record<string, unknown>, object.metadata.namespace),
      };
      objects.push({ source, object });
      continue;
    }
    problems.push(`${source} (${kind} "${name}"): ${formatCauses(result.causes)}`);
    causes.push(...result.causes.map((cause) => ({ ...cause, field: cause.field })));
  }
  if (problems.length > 0) throw new HeadlessDnsError('INVALID_OBJECT', problems.join('\n'), causes);
  return { objects, skipped };
}

function readManifestFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'MANIFEST_NOT_FOUND' : 'MANIFEST_UNREADABLE';
    throw new HeadlessDnsError(code, `${file}: ${(error as Error).message}`);
  }
}

/**
 * The documents of one path. A file named with -f must hold an object; in a
 * directory an empty file is fine (kubectl reads such directories) as long as
 * the directory as a whole holds one.
 */
function pathDocuments(path: string, recursive: boolean): RawDocument[] {
  const files = manifestFiles(path, recursive);
  const documents = files.flatMap((file) => parseManifestText(readManifestFile(file), file));
  if (documents.length === 0) {
    throw new HeadlessDnsError('MANIFEST_EMPTY', files.length === 1 && files[0] === path ? `${path}: no objects in the file` : `${path}: no objects in its ${files.length} manifest files`);
  }
  return documents;
}

function textDocuments(text: string, origin: string): RawDocument[] {
  const documents = parseManifestText(text, origin);
  if (documents.length === 0) throw new HeadlessDnsError('MANIFEST_EMPTY', `${origin}: no objects`);
  return documents;
}

/** A URL as messages show it: without a password. */
function shownUrl(url: URL): string {
  if (!url.password) return url.href;
  const copy = new URL(url.href);
  copy.password = '***';
  return copy.href;
}

/**
 * Fetches a manifest: redirects followed, a non-2xx answer refused (404 and
 * 410 are MANIFEST_NOT_FOUND), the whole exchange bounded by `timeoutMs`.
 */
export async function fetchManifestText(spec: string, timeoutMs = URL_TIMEOUT_MS): Promise<string> {
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw new HeadlessDnsError('MANIFEST_UNREADABLE', `${spec}: not a valid URL`);
  }
  const shown = shownUrl(url);
  const failed = (error: unknown): HeadlessDnsError => {
    const e = error as Error & { cause?: { message?: string } };
    const reason = e.name === 'TimeoutError' ? `no complete answer within ${timeoutMs / 1000} s` : (e.cause?.message ?? e.message);
    return new HeadlessDnsError('MANIFEST_UNREADABLE', `${shown}: unable to read URL: ${reason}`);
  };
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', signal });
  } catch (error) {
    throw failed(error);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    const code = response.status === 404 || response.status === 410 ? 'MANIFEST_NOT_FOUND' : 'MANIFEST_UNREADABLE';
    // kubectl: unable to read URL "...", server reported 404 Not Found, status code=404
    throw new HeadlessDnsError(code, `${shown}: unable to read URL: server reported ${response.status} ${response.statusText}`.trimEnd());
  }
  try {
    return await response.text();
  } catch (error) {
    throw failed(error);
  }
}

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Reads and validates every manifest the -f arguments name: paths, `-` (all
 * of stdin, named `<stdin>` in messages) and http(s) URLs (named by the URL).
 * Each argument must yield at least one object (MANIFEST_EMPTY): an empty file,
 * an empty pipe or a directory without manifests is a mistake, not a no-op.
 * Nothing partial is returned.
 */
export async function loadManifestSources(specs: readonly string[], options: ManifestReadOptions = {}): Promise<LoadedManifests> {
  const recursive = options.recursive ?? false;
  if (specs.filter((spec) => spec === '-').length > 1) {
    throw new HeadlessDnsError('INVALID_OPTION', '-f - (stdin) can be given only once');
  }
  const documents: RawDocument[] = [];
  for (const spec of specs) {
    if (spec === '-') documents.push(...textDocuments(await (options.readStdin ?? readProcessStdin)(), STDIN_SOURCE));
    else if (isManifestUrl(spec)) documents.push(...textDocuments(await fetchManifestText(spec, options.urlTimeoutMs), shownUrl(new URL(spec))));
    else documents.push(...pathDocuments(spec, recursive));
  }
  return validateDocuments(documents);
}

/** Reads and validates every manifest under the given paths (not `-` or URLs: see loadManifestSources); nothing partial is returned. */
export function loadManifests(paths: readonly string[], options: Pick<ManifestReadOptions, 'recursive'> = {}): LoadedManifests {
  const documents: RawDocument[] = [];
  for (const path of paths) {
    if (path === '-' || isManifestUrl(path)) {
      throw new HeadlessDnsError('INVALID_OPTION', `${path}: stdin and URLs are read asynchronously, by loadManifestSources (startCluster uses it); loadManifests reads paths`);
    }
    documents.push(...pathDocuments(path, options.recursive ?? false));
  }
  return validateDocuments(documents);
}
