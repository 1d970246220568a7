// Where the examples shipped in the package are, as absolute paths, so that a
// project that installed headless-dns can load them whatever its working
// directory (`startCluster({ manifests: [examples.kubia] })`).
//
// The paths are built from the package root (package-root.ts, right from src/,
// dist/ and the CommonJS bundle alike). Nothing is read here, so importing the
// package costs no file system access.

import { fileURLToPath } from 'node:url';
import { packageFile } from './package-root.js';

const examplePath = (path: string): string => fileURLToPath(packageFile(`examples/${path}`));

export interface Examples {
  /** The kubia example of Kubernetes in Action: a headless Service and a two-replica StatefulSet (a manifests directory). */
  readonly kubia: string;
  /** The manifests of examples/kubia-peers (for local processes as members: pods start unready, Parallel). */
  readonly kubiaPeers: string;
  /** examples/kubia-local: the book's kubia-pet-peers app run as the StatefulSet's members (local processes, by annotation). */
  readonly kubiaLocal: string;
}

/** Absolute paths of the manifest directories shipped under examples/, for `manifests` or `serve -f`. */
export const examples: Examples = Object.freeze({
  kubia: examplePath('kubia'),
  kubiaPeers: examplePath('kubia-peers/k8s'),
  kubiaLocal: examplePath('kubia-local'),
});
