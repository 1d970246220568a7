// Where the examples shipped in the package are, as absolute paths, so that a
// project that installed headless-dns can load them whatever its working
// directory (`startCluster({ manifests: [examples.kubia] })`).
//
// The paths are built from import.meta.url; in the CommonJS build (dist-cjs/,
// scripts/build-cjs.mjs) that is this file's own file: URL, made from
// __filename. Nothing is read here, so importing the package costs no file
// system access. The paths hold from src/ (tests, tsx), dist/ and dist-cjs/, as
// all three sit one level below the package root.

import { fileURLToPath } from 'node:url';

const examplePath = (path: string): string => fileURLToPath(new URL(`../examples/${path}`, import.meta.url));

export interface Examples {
  /** The kubia example of Kubernetes in Action: a headless Service and a two-replica StatefulSet (a manifests directory). */
  readonly kubia: string;
  /** The manifests of examples/kubia-peers (for local processes as members: pods start unready, Parallel). */
  readonly kubiaPeers: string;
}

/** Absolute paths of the manifest directories shipped under examples/, for `manifests` or `serve -f`. */
export const examples: Examples = Object.freeze({
  kubia: examplePath('kubia'),
  kubiaPeers: examplePath('kubia-peers/k8s'),
});
