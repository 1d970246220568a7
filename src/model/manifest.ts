// Reading manifests the way `kubectl apply -f` does: files or directories
// (not recursive), multi-document YAML or JSON, `kind: List` flattened.
// Everything is read and validated before anything is returned, so a caller
// can apply all-or-nothing.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
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

/** Splits text into documents; YAML is a superset of JSON, so one parser reads both. */
export function parseManifestText(text: string, origin: string): RawDocument[] {
  const documents = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(documents) ? documents : [documents];
  const out: RawDocument[] = [];
  list.forEach((document, i) => {
    const source = `${origin}: document ${i + 1}`;
    const error = document.errors[0];
    if (error) {
      throw new HeadlessDnsError('MANIFEST_UNREADABLE', `${source}: ${error.message.split('\n')[0] ?? error.message}`);
    }
    const raw: unknown = document.toJS({ maxAliasCount: 100 });
    if (raw === null || raw === undefined) return;
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
