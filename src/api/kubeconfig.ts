// Our entries in a kubeconfig, merged as kind, k3d and minikube merge theirs:
// add or update the cluster, user and context named `headless-dns`, keep every
// other entry, and take them out again on exit. The file is written whole to a
// temporary file beside it, fsynced and renamed (mode 0600: it holds a token),
// under the `FILE.lock` that kubectl (client-go) takes when it writes one.
//
// It lives beside the API (not in cli/) because startCluster writes it too:
// cluster.ts may import api/, never cli/.

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { dump, load } from 'js-yaml';
import { HeadlessDnsError } from '../errors.js';
import { fsyncDir, writeFileAtomic } from './atomic-write.js';

/** The name of the cluster, user and context we add. */
export const KUBECONFIG_ENTRY = 'headless-dns';

export interface KubeconfigTarget {
  /** The API's URL. */
  server: string;
  /** PEM of the CA the API's certificate chains to (HTTPS). */
  ca?: string;
  /** The bearer token the API requires. */
  token?: string;
  namespace?: string;
}

/** What `mergeKubeconfig` did, and how to undo it. */
export interface MergedKubeconfig {
  /** The file written (symlinks followed). */
  readonly path: string;
  /** The context to use: `kubectl --context headless-dns`. */
  readonly context: string;
  /** The file did not exist before. */
  readonly created: boolean;
  /** current-context now names our context. */
  readonly current: boolean;
  /** current-context before, if any. */
  readonly previousContext?: string;
  /**
   * Takes our entries out again (restoring entries of the same name that were
   * there before, and current-context if it still names ours), keeping whatever
   * else changed meanwhile; deletes the file if we created it and nothing else
   * is left in it. Entries someone changed since we wrote them stay. Safe to call twice.
   */
  remove(): void;
}

type Doc = Record<string, unknown>;
type Named = { name: string; [key: string]: unknown };
const LISTS = [
  ['clusters', 'cluster'],
  ['users', 'user'],
  ['contexts', 'context'],
] as const;

/**
 * The file `--kubeconfig default` means, as kubectl config picks the file to
 * write: with $KUBECONFIG one path, that one; several, the first that exists,
 * else the last; without it, ~/.kube/config.
 */
export function defaultKubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const paths = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (paths.length === 0) return join(homedir(), '.kube', 'config');
  return paths.find((path) => existsSync(path)) ?? paths[paths.length - 1]!;
}

function entries(target: KubeconfigTarget): Record<'cluster' | 'user' | 'context', Record<string, unknown>> {
  return {
    cluster: { server: target.server, ...(target.ca ? { 'certificate-authority-data': Buffer.from(target.ca).toString('base64') } : {}) },
    user: target.token ? { token: target.token } : {},
    context: { cluster: KUBECONFIG_ENTRY, user: KUBECONFIG_ENTRY, namespace: target.namespace ?? 'default' },
  };
}

function invalid(path: string, why: string): HeadlessDnsError {
  return new HeadlessDnsError('INVALID_OPTION', `--kubeconfig ${path} is not a kubeconfig (${why}); it was left as it is`);
}

/** Reads a kubeconfig; a missing or empty file is an empty one. Anything else that is not a kubeconfig is refused, never overwritten. */
function readDoc(path: string): { doc: Doc; existed: boolean } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { doc: {}, existed: false };
    throw new HeadlessDnsError('INVALID_OPTION', `--kubeconfig ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = load(text);
  } catch (error) {
    throw invalid(path, `not YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (parsed === undefined || parsed === null) return { doc: {}, existed: true };
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid(path, 'not a mapping');
  const doc = parsed as Doc;
  if (doc.kind !== undefined && doc.kind !== 'Config') throw invalid(path, `kind ${JSON.stringify(doc.kind)}`);
  for (const [list] of LISTS) {
    const value = doc[list];
    if (value === undefined || value === null) continue;
    if (!Array.isArray(value) || value.some((entry) => typeof entry !== 'object' || entry === null || typeof (entry as Named).name !== 'string')) {
      throw invalid(path, `${list} is not a list of named entries`);
    }
  }
  return { doc, existed: true };
}

function listOf(doc: Doc, list: string): Named[] {
  if (!Array.isArray(doc[list])) doc[list] = [];
  return doc[list] as Named[];
}

/** Key order and YAML spelling aside (kubectl rewrites the file in its own order), the same value. */
function sameValue(a: unknown, b: unknown): boolean {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value) ? value.map(canonical)
    : value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => [k, canonical(v)]))
    : value;
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** kubectl's convention: `FILE.lock`, created exclusively, held while the file is rewritten. */
function withLock<T>(path: string, action: () => T): T {
  const lock = `${path}.lock`;
  const deadline = Date.now() + 2000;
  let fd: number | undefined;
  while (fd === undefined) {
    try {
      fd = openSync(lock, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new HeadlessDnsError('INVALID_OPTION', `--kubeconfig ${path}: cannot lock it: ${(error as Error).message}`);
      if (Date.now() > deadline) throw new HeadlessDnsError('INVALID_OPTION', `--kubeconfig ${path}: ${lock} has existed for 2 s: another program is writing the file (remove the lock if none is)`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  try {
    return action();
  } finally {
    closeSync(fd);
    rmSync(lock, { force: true });
  }
}

function write(path: string, doc: Doc): void {
  writeFileAtomic(path, dump(doc, { noRefs: true, lineWidth: -1 }), 0o600);
}

/**
 * Adds or updates our cluster, user and context in `file` (created, with its
 * directory, if missing). current-context is set to ours when `setCurrent`, or
 * when the file names none (a new file, say), and left alone otherwise.
 */
export function mergeKubeconfig(file: string, target: KubeconfigTarget, options: { setCurrent?: boolean } = {}): MergedKubeconfig {
  const path = existsSync(file) ? realpathSync(file) : file;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (existsSync(path) && !statSync(path).isFile()) throw invalid(path, 'not a regular file');
  const ours = entries(target);
  const before: Partial<Record<'cluster' | 'user' | 'context', Named>> = {};
  let existed = false;
  let previousContext: string | undefined;
  let current = false;
  withLock(path, () => {
    const read = readDoc(path);
    existed = read.existed;
    const { doc } = read;
    doc.apiVersion ??= 'v1';
    doc.kind ??= 'Config';
    for (const [list, field] of LISTS) {
      const entries = listOf(doc, list);
      const at = entries.findIndex((entry) => entry.name === KUBECONFIG_ENTRY);
      const entry = { name: KUBECONFIG_ENTRY, [field]: ours[field] };
      if (at >= 0) {
        before[field] = entries[at];
        entries[at] = entry;
      } else {
        entries.push(entry);
      }
    }
    previousContext = typeof doc['current-context'] === 'string' && doc['current-context'] !== '' ? doc['current-context'] : undefined;
    if (options.setCurrent || previousContext === undefined) {
      doc['current-context'] = KUBECONFIG_ENTRY;
      current = true;
    } else {
      current = previousContext === KUBECONFIG_ENTRY;
    }
    doc.preferences ??= {};
    write(path, doc);
  });

  let removed = false;
  const changedCurrent = current && previousContext !== KUBECONFIG_ENTRY;
  return {
    path,
    context: KUBECONFIG_ENTRY,
    created: !existed,
    current,
    ...(previousContext !== undefined ? { previousContext } : {}),
    remove: () => {
      if (removed) return;
      removed = true;
      withLock(path, () => {
        let doc: Doc;
        try {
          const read = readDoc(path);
          if (!read.existed) return;
          doc = read.doc;
        } catch {
          return; // Someone made it something else meanwhile: not ours to touch.
        }
        for (const [list, field] of LISTS) {
          const entries = listOf(doc, list);
          const at = entries.findIndex((entry) => entry.name === KUBECONFIG_ENTRY);
          if (at < 0 || !sameValue(entries[at]![field], ours[field])) continue;
          const previous = before[field];
          if (previous) entries[at] = previous;
          else entries.splice(at, 1);
        }
        if (changedCurrent && doc['current-context'] === KUBECONFIG_ENTRY) {
          if (previousContext !== undefined) doc['current-context'] = previousContext;
          else delete doc['current-context'];
        }
        const empty = LISTS.every(([list]) => listOf(doc, list).length === 0) && !doc['current-context'];
        if (!existed && empty) {
          rmSync(path, { force: true });
          fsyncDir(dirname(path));
        } else {
          write(path, doc);
        }
      });
    },
  };
}
