// Where a local process finds its volumes. A container's filesystem is this
// machine's, so a volume cannot appear at its `mountPath`; instead each one is
// a directory here, named to the process in its environment:
//   HEADLESS_DNS_VOLUME_<NAME>  the directory of the volume NAME (upper case,
//                               other characters as _), with the mount's subPath
//   HEADLESS_DNS_MOUNTS         JSON: { "<mountPath>": "<directory>", ... }
// A persistentVolumeClaim is its bound volume's directory (the claim's own, kept
// across restarts, deletes and rollouts); an emptyDir is a directory of the pod's
// own, removed with the pod; a hostPath is its path.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Container, Pod } from '../model/types.js';
import type { ObjectStore } from '../store/store.js';

interface VolumeSpec {
  name?: unknown;
  persistentVolumeClaim?: { claimName?: unknown };
  emptyDir?: unknown;
  hostPath?: { path?: unknown };
}

interface MountSpec {
  name?: unknown;
  mountPath?: unknown;
  subPath?: unknown;
}

export type VolumeDirs = { dirs: Map<string, string> } | { waiting: string } | { problem: string };

/** The variable a volume's directory is given in. */
export function volumeVariable(name: string): string {
  return `HEADLESS_DNS_VOLUME_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Per-pod emptyDir directories, made on first use and removed with the pod. */
export class EmptyDirs {
  private readonly byPod = new Map<string, string>();

  dir(uid: string, volume: string): string {
    let root = this.byPod.get(uid);
    if (!root) this.byPod.set(uid, (root = mkdtempSync(join(tmpdir(), 'headless-dns-emptydir-'))));
    const dir = join(root, volume);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  remove(uid: string): void {
    const root = this.byPod.get(uid);
    if (!root) return;
    this.byPod.delete(uid);
    rmSync(root, { recursive: true, force: true });
  }

  removeAll(): void {
    for (const uid of [...this.byPod.keys()]) this.remove(uid);
  }
}

/** Each of the pod's volumes we can give a process, by name; waiting while a claim is not bound yet. */
export function podVolumeDirs(pod: Pod, store: ObjectStore, emptyDirs: EmptyDirs): VolumeDirs {
  const dirs = new Map<string, string>();
  const namespace = pod.metadata.namespace ?? 'default';
  for (const volume of (Array.isArray(pod.spec.volumes) ? pod.spec.volumes : []) as VolumeSpec[]) {
    if (typeof volume?.name !== 'string') continue;
    const claimName = volume.persistentVolumeClaim?.claimName;
    if (typeof claimName === 'string') {
      const claim = store.get('PersistentVolumeClaim', namespace, claimName);
      if (!claim) return { waiting: `persistentvolumeclaim "${claimName}" not found` };
      if (claim.status?.phase !== 'Bound' || !claim.spec.volumeName) return { waiting: `persistentvolumeclaim "${claimName}" is not bound yet` };
      const path = store.get('PersistentVolume', undefined, claim.spec.volumeName)?.spec.hostPath?.path;
      if (!path) return { problem: `volume ${claim.spec.volumeName} of claim ${claimName} has no directory on this machine` };
      mkdirSync(path, { recursive: true });
      dirs.set(volume.name, path);
    } else if (volume.emptyDir !== undefined) {
      dirs.set(volume.name, emptyDirs.dir(pod.metadata.uid ?? pod.metadata.name, volume.name));
    } else if (typeof volume.hostPath?.path === 'string') {
      dirs.set(volume.name, volume.hostPath.path);
    }
    // configMap, secret, projected...: not modelled; no directory is given.
  }
  return { dirs };
}

/** The variables that tell one container where its mounts are. */
export function mountVariables(container: Container, dirs: ReadonlyMap<string, string>): [string, string][] {
  const out: [string, string][] = [];
  const mounts: Record<string, string> = {};
  for (const mount of (Array.isArray(container.volumeMounts) ? container.volumeMounts : []) as MountSpec[]) {
    if (typeof mount?.name !== 'string') continue;
    const base = dirs.get(mount.name);
    if (!base) continue;
    const dir = typeof mount.subPath === 'string' && mount.subPath ? join(base, mount.subPath) : base;
    if (dir !== base) mkdirSync(dir, { recursive: true });
    out.push([volumeVariable(mount.name), dir]);
    if (typeof mount.mountPath === 'string') mounts[mount.mountPath] = dir;
  }
  if (out.length) out.push(['HEADLESS_DNS_MOUNTS', JSON.stringify(mounts)]);
  return out;
}

/** Each mount of a container with the directory it is, for --mount-volumes (mounts.ts). */
export function mountRequests(container: Container, dirs: ReadonlyMap<string, string>): { source: string; mountPath: string }[] {
  const out: { source: string; mountPath: string }[] = [];
  for (const mount of (Array.isArray(container.volumeMounts) ? container.volumeMounts : []) as MountSpec[]) {
    if (typeof mount?.name !== 'string' || typeof mount.mountPath !== 'string') continue;
    const base = dirs.get(mount.name);
    if (!base) continue;
    out.push({ source: typeof mount.subPath === 'string' && mount.subPath ? join(base, mount.subPath) : base, mountPath: mount.mountPath });
  }
  return out;
}
