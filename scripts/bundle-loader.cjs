'use strict';
// dist-cjs/load.js (copied here by scripts/build-cjs.mjs): compiles the bundle,
// dist-cjs/bundle.js, with the V8 code cache made at build time, and runs it
// once per process as Node would run a CommonJS module. Without a cache that
// fits this Node (V8 version and flags), V8 refuses it and compiles the
// source: the same code, only slower to load.

const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { join } = require('node:path');
const { Script } = require('node:vm');

const filename = join(__dirname, 'bundle.js');
let cachedData;
try {
  cachedData = readFileSync(join(__dirname, 'bundle.cache'));
} catch {
  // No cache (a build that could not make one): compile from source.
}
// The wrapper Node puts around a CommonJS module, so the bundle sees the same
// five names; its require() resolves from its own place in the package.
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(filename, 'utf8')}\n})`, {
  filename,
  cachedData,
});
const bundle = { exports: {} };
script.runInThisContext().call(bundle.exports, bundle.exports, createRequire(filename), bundle, filename, __dirname);

/** The library: `library.index` is `headless-dns`, `library.testing` is `headless-dns/testing`. */
exports.library = bundle.exports;
/** For the build's cache maker only (dist-cjs/ is not reachable through the package's "exports"). */
exports.script = script;
exports.cacheRejected = cachedData !== undefined && script.cachedDataRejected === true;
