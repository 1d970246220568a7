// Which containers run as local processes, and with what command. Nothing runs
// unless it was opted in: an image mapped to a command (`serve --exec
// IMAGE=COMMAND`, the fixture's `exec` option) or a pod template annotation
// (`headless-dns.io/exec` for the first container, `headless-dns.io/exec.<name>`
// for others) in a cluster where running commands is switched on. Every other
// container stays emulated.

import { existsSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { HeadlessDnsError } from '../errors.js';
import type { ManifestObject } from '../model/manifest.js';
import type { Container, KubeObject, Pod } from '../model/types.js';

/** On a pod template: the first container runs locally, as this shell command ("" = the manifest's own command/args). */
export const EXEC_ANNOTATION = 'headless-dns.io/exec';
/** `headless-dns.io/exec.<container>`: the same for a named container. */
export const EXEC_CONTAINER_ANNOTATION_PREFIX = 'headless-dns.io/exec.';
/**
 * The directory an annotation's command runs in. `serve -f` stamps it with the
 * directory of the manifest file that carried the annotation (when it names none),
 * so an example directory's `node app.js` finds its `app.js`.
 */
export const EXEC_DIR_ANNOTATION = 'headless-dns.io/exec-dir';

/**
 * What an image is mapped to: a shell command (run with `/bin/sh -c`), an argv
 * (run as is), or `true` for the manifest's own `command` and `args`.
 */
export type ExecCommand = string | readonly string[] | true;
/** Image (with or without a tag) → what to run in its place. */
export type ExecMap = Readonly<Record<string, ExecCommand>>;

/** How one container is started. */
export interface LocalCommand {
  /** The program and its arguments, `$(VAR)` references not yet expanded when `expand` is set. */
  readonly argv: readonly string[];
  /** The argv comes from the manifest (`command`/`args`): `$(VAR)` references are expanded as Kubernetes does. */
  readonly expand: boolean;
  /** Where it runs, when the mapping says (an annotation's `exec-dir`); otherwise the cluster's working directory. */
  readonly cwd?: string;
  /** What opted it in, for logs and messages: `--exec IMAGE`, `annotation headless-dns.io/exec`. */
  readonly source: string;
}

/** A container that was opted in but cannot be started as asked (a CreateContainerError). */
export interface CommandProblem {
  readonly problem: string;
}

/** `IMAGE=COMMAND` or `IMAGE` (the manifest's own command), as `serve --exec` takes it. */
export function parseExecFlag(value: string): [image: string, command: ExecCommand] {
  const at = value.indexOf('=');
  const image = (at < 0 ? value : value.slice(0, at)).trim();
  const command = at < 0 ? true : value.slice(at + 1);
  if (!image || /\s/.test(image)) throw new HeadlessDnsError('INVALID_OPTION', `--exec must be IMAGE=COMMAND or IMAGE, e.g. --exec luksa/kubia-pet-peers='node app.js', got "${value}"`);
  if (command !== true && !command.trim()) throw new HeadlessDnsError('INVALID_OPTION', `--exec ${image}= names no command (drop the "=" to run the manifest's own command and args)`);
  return [image, command];
}

/** Checks a fixture `exec` option; returns it frozen. */
export function validateExecMap(value: unknown, name: string): ExecMap {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HeadlessDnsError('INVALID_OPTION', `${name} must be an object mapping images to commands, e.g. { 'luksa/kubia-pet-peers': 'node app.js' }`);
  const out: Record<string, ExecCommand> = {};
  for (const [image, command] of Object.entries(value as Record<string, unknown>)) {
    if (!image.trim() || /\s/.test(image)) throw new HeadlessDnsError('INVALID_OPTION', `${name}: "${image}" is not an image name`);
    const ok =
      command === true ||
      (typeof command === 'string' && command.trim() !== '') ||
      (Array.isArray(command) && command.length > 0 && command.every((part) => typeof part === 'string') && command[0] !== '');
    if (!ok) throw new HeadlessDnsError('INVALID_OPTION', `${name}["${image}"] must be a shell command, an argv array, or true (the manifest's own command and args)`);
    out[image] = Array.isArray(command) ? Object.freeze([...(command as string[])]) : (command as string | true);
  }
  return Object.freeze(out);
}

/** An image reference without its tag or digest, with Docker Hub's implied parts made explicit. */
function repository(image: string): string {
  let name = image.trim();
  const digest = name.indexOf('@');
  if (digest >= 0) name = name.slice(0, digest);
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) name = name.slice(0, colon);
  return dockerHub(name);
}

function dockerHub(name: string): string {
  const first = name.split('/')[0]!;
  const hasRegistry = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry) return name;
  return `docker.io/${name.includes('/') ? name : `library/${name}`}`;
}

/** The tag or digest an image reference names, normalised (none = `latest`, as the runtime pulls). */
function reference(image: string): string {
  const digest = image.indexOf('@');
  if (digest >= 0) return image.slice(digest);
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? image.slice(colon + 1) : 'latest';
}

/**
 * Does a mapping key stand for this image? A key without a tag matches the
 * repository at any tag (`luksa/kubia` ~ `luksa/kubia:v2`, `docker.io/luksa/kubia`);
 * a key with a tag or digest matches only that one.
 */
export function imageMatches(key: string, image: string): boolean {
  if (repository(key) !== repository(image)) return false;
  const keyNamesReference = key.includes('@') || key.lastIndexOf(':') > key.lastIndexOf('/');
  return !keyNamesReference || reference(key) === reference(image);
}

function fromMapping(command: ExecCommand, container: Container, source: string, cwd: string | undefined): LocalCommand | CommandProblem {
  const at = cwd ? { cwd } : {};
  if (command === true || command === '') {
    const argv = [...stringList(container.command), ...stringList(container.args)];
    if (!stringList(container.command).length) {
      return { problem: `container ${container.name} has no command in the manifest: ${source} without a command runs the manifest's command and args, so map the image to one (IMAGE=COMMAND)` };
    }
    return { argv, expand: true, source, ...at };
  }
  if (typeof command === 'string') return { argv: ['/bin/sh', '-c', command], expand: false, source, ...at };
  return { argv: [...command], expand: false, source, ...at };
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * How a pod's container runs here: undefined when it stays emulated. An
 * annotation counts only when `annotations` is true (the cluster runs commands);
 * the image mapping comes first, as the more explicit of the two.
 */
export function localCommand(pod: Pod, index: number, map: ExecMap, annotations: boolean): LocalCommand | CommandProblem | undefined {
  const container = pod.spec.containers[index];
  if (!container) return undefined;
  const image = container.image ?? '';
  for (const [key, command] of Object.entries(map)) {
    if (image && imageMatches(key, image)) return fromMapping(command, container, `--exec ${key}`, undefined);
  }
  if (!annotations) return undefined;
  const notes = pod.metadata.annotations ?? {};
  const named = notes[`${EXEC_CONTAINER_ANNOTATION_PREFIX}${container.name}`];
  const annotation = named ?? (index === 0 ? notes[EXEC_ANNOTATION] : undefined);
  if (annotation === undefined) return undefined;
  const key = named !== undefined ? `${EXEC_CONTAINER_ANNOTATION_PREFIX}${container.name}` : EXEC_ANNOTATION;
  return fromMapping(annotation.trim(), container, `annotation ${key}`, notes[EXEC_DIR_ANNOTATION]);
}

/** Does this pod (or template's annotations) ask for any local process? */
export function hasExecAnnotation(annotations: Readonly<Record<string, string>> | undefined): boolean {
  if (!annotations) return false;
  return Object.keys(annotations).some((key) => key === EXEC_ANNOTATION || key.startsWith(EXEC_CONTAINER_ANNOTATION_PREFIX));
}

/** Are any of a pod's containers run here? */
export function runsLocally(pod: Pod, map: ExecMap, annotations: boolean): boolean {
  if (!annotations && Object.keys(map).length === 0) return false;
  return pod.spec.containers.some((_, i) => localCommand(pod, i, map, annotations) !== undefined);
}

/** The annotations an object's pods get: a Pod's own, a StatefulSet's template's. */
function podAnnotations(object: KubeObject): Readonly<Record<string, string>> | undefined {
  if (object.kind === 'Pod') return object.metadata.annotations;
  if (object.kind === 'StatefulSet') return object.spec.template.metadata?.annotations;
  return undefined;
}

/** Does any of these objects ask, by annotation, for a local process? */
export function asksForExec(objects: readonly KubeObject[]): boolean {
  return objects.some((object) => hasExecAnnotation(podAnnotations(object)));
}

/**
 * Manifests read from files whose pods ask for a local process by annotation
 * get `headless-dns.io/exec-dir` (unless they name one): the directory of their
 * file, where an example's `node app.js` finds `app.js`.
 */
export function stampExecDirs(objects: readonly ManifestObject[]): ManifestObject[] {
  return objects.map((manifest) => {
    const { object } = manifest;
    const notes = podAnnotations(object);
    if (!hasExecAnnotation(notes) || notes?.[EXEC_DIR_ANNOTATION]) return manifest;
    const file = manifest.source.replace(/: document \d+$/, '');
    if (file === '-' || /^https?:\/\//.test(file) || !existsSync(file)) return manifest;
    const dir = resolvePath(dirname(file));
    const stamped = { ...notes, [EXEC_DIR_ANNOTATION]: dir };
    if (object.kind === 'Pod') return { ...manifest, object: { ...object, metadata: { ...object.metadata, annotations: stamped } } };
    if (object.kind === 'StatefulSet') {
      const template = object.spec.template;
      return { ...manifest, object: { ...object, spec: { ...object.spec, template: { ...template, metadata: { ...(template.metadata ?? {}), annotations: stamped } } } } };
    }
    return manifest;
  });
}
