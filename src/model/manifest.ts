// Reading manifests the way `kubectl apply -f` does: files or directories
// (not recursive), multi-document YAML or JSON, `kind: List` flattened.
// Everything is read and validated before anything is returned, so a caller
// can apply all-or-nothing.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { YAMLException, loadAll } from 'js-yaml';
import { HeadlessDnsError, type FieldCause } from '../errors.js';
import type { KubeObject } from './types.js';
import { isKnownKind, validateObject } from './validate.js';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

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
  /** Documents of kinds headless-dns does not model (Deployment, ConfigMap...): reported, not applied. */
  skipped: SkippedDocument[];
}

interface RawDocument {
  source: string;
  raw: unknown;
}

export function manifestFiles(path: string): string[] {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    throw new HeadlessDnsError('MANIFEST_NOT_FOUND', `${path}: no such file or directory`);
  }
  if (!stats.isDirectory()) return [path];
  return readdirSync(path)
    .filter((name) => MANIFEST_EXTENSIONS.has(extname(name).toLowerCase()))
    .sort()
    .map((name) => join(path, name))
    .filter((file) => statSync(file).isFile());
}

/** Alias uses one document may expand to, against exponential "billion laughs" documents. */
const MAX_EXPANDED_NODES = 1_000_000;

/**
 * Throws when aliases make a document expand far beyond what is written, or
 * refer to themselves. (An alias is the same object reached twice.)
 */
function checkAliases(raw: unknown, source: string): void {
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

/**
 * Splits text into documents; YAML is a superset of JSON, so one parser reads
 * both. js-yaml, because at 20k documents it reads in 0.4 s what the yaml
 * package composes in 5 s.
 */
export function parseManifestText(text: string, origin: string): RawDocument[] {
  let documents: unknown[];
  try {
    documents = loadAll(text, undefined, { filename: origin });
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    const at = error.mark ? `line ${error.mark.line + 1}, column ${error.mark.column + 1}: ` : '';
    throw new HeadlessDnsError('MANIFEST_UNREADABLE', `${origin}: ${at}${error.reason}`);
  }
  const out: RawDocument[] = [];
  documents.forEach((raw, i) => {
    const source = `${origin}: document ${i + 1}`;
    if (raw === null || raw === undefined) return;
    checkAliases(raw, source);
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

/** Validates raw documents; throws INVALID_OBJECT naming every bad document and field. */
export function validateDocuments(documents: readonly RawDocument[]): LoadedManifests {
  const objects: ManifestObject[] = [];
  const skipped: SkippedDocument[] = [];
  const problems: string[] = [];
  const causes: FieldCause[] = [];
  for (const { source, raw } of documents) {
    const { kind, name } = describe(raw);
    if (typeof raw === 'object' && raw !== null && !Array.isArray(raw) && !isKnownKind(kind) && kind !== '<no kind>') {
      skipped.push({ source, kind, name });
      continue;
    }
    const result = validateObject(raw);
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

/** Reads and validates every manifest under the given paths; nothing partial is returned. */
export function loadManifests(paths: readonly string[]): LoadedManifests {
  const documents: RawDocument[] = [];
  for (const path of paths) {
    for (const file of manifestFiles(path)) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new HeadlessDnsError('MANIFEST_NOT_FOUND', `${file}: ${(error as Error).message}`);
      }
      documents.push(...parseManifestText(text, file));
    }
  }
  return validateDocuments(documents);
}
