// dist-cjs/: what a consumer of the package loads, made from tsc's ESM output in
// dist/ (one source, one type-check). `require('headless-dns')`, `/testing` and
// `/register` work in CommonJS, in jest's module system too, which cannot load
// ESM; `import` of `headless-dns` and `/testing` reaches the same code.
//
// The library is one file, dist-cjs/bundle.js (esbuild, CommonJS), loaded by
// dist-cjs/load.js with a V8 code cache made here (bundle.cache). This is for a
// test runner's cold worker: loading ~80 modules one by one, resolving and
// compiling each, and then compiling every function the first startCluster()
// runs, was most of a fresh process's first cluster. One file and a cache
// made after a first cluster leave V8 to read bytecode. Where the cache does
// not fit the running Node (another V8 version, other V8 flags), V8 refuses it
// and compiles as usual: slower, never wrong.
//
//   dist-cjs/bundle.js       the library (index and testing), dependencies external
//                            except js-yaml (its ~25 files were a fifth of a cold load)
//   dist-cjs/bundle.cache    V8 code cache of bundle.js, made by a cluster started here
//   dist-cjs/load.js         compiles bundle.js with the cache, once per process
//   dist-cjs/index.js, testing.js     CommonJS entry points: the bundle's parts
//   dist-cjs/index.mjs, testing.mjs   ESM entry points: the same objects' exports
//   dist-cjs/register.js     the preload, bundled alone: it stays small
//   dist-cjs/**/*.d.ts       tsc's declarations, copied: under dist-cjs/package.json's
//                            "type": "commonjs" TypeScript reads them as what a
//                            `require` gets
//
// import.meta.url becomes the bundle's own file: URL. Only src/package-root.ts
// builds paths from it, and it sits one level below the package root as
// bundle.js does. dist/cli/ is not part of it: the bin runs dist/ as ESM.

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const FROM = join(ROOT, 'dist');
const TO = join(ROOT, 'dist-cjs');
/** What the bundle has in place of import.meta.url. */
const URL_NAME = '__hdImportMetaUrl';
/** The parts of the library in the bundle, by entry point. */
const PARTS = { index: 'index.js', testing: 'testing.js' };

function* declarations(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (relative(FROM, path) !== 'cli') yield* declarations(path);
    } else if (entry.name.endsWith('.d.ts')) yield path;
  }
}

/** esbuild for Node 20, CommonJS out; fails on any warning rather than ship code that is wrong only here. */
async function bundle({ banner, ...options }) {
  const result = await build({
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Dependencies load from node_modules as usual (fastify and node-forge
    // only when a cluster needs them); js-yaml is read by every start.
    packages: 'external',
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'inline',
    define: { 'import.meta.url': URL_NAME },
    banner: { js: `${banner ?? ''}const ${URL_NAME} = require('node:url').pathToFileURL(__filename).href;` },
    // Our lazily import()ed modules (TLS, kubeconfig) become require()s inside
    // the bundle, so that a CommonJS loader (jest's) never meets an import().
    supported: { 'dynamic-import': false },
    logLevel: 'silent',
    ...options,
  });
  if (result.warnings.length) throw new Error(result.warnings.map((w) => w.text).join('; '));
}

rmSync(TO, { recursive: true, force: true });
mkdirSync(TO, { recursive: true });
writeFileSync(join(TO, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);

// js-yaml goes into the bundle: a plugin marks every other bare import external.
const externalExceptYaml = {
  name: 'external-except-js-yaml',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => (args.path === 'js-yaml' ? undefined : { path: args.path, external: true }));
  },
};
await bundle({
  stdin: {
    contents: Object.entries(PARTS).map(([name, file]) => `export * as ${name} from './${file}';`).join('\n'),
    resolveDir: FROM,
    sourcefile: 'headless-dns-bundle.js',
  },
  outfile: join(TO, 'bundle.js'),
  packages: undefined,
  // js-yaml's licence travels with its code.
  banner: `/*! Includes js-yaml (https://github.com/nodeca/js-yaml):\n${readFileSync(join(ROOT, 'node_modules', 'js-yaml', 'LICENSE'), 'utf8').trim()}\n*/\n`,
  plugins: [externalExceptYaml],
});
await bundle({ entryPoints: [join(FROM, 'register.js')], outfile: join(TO, 'register.js') });
copyFileSync(join(ROOT, 'scripts', 'bundle-loader.cjs'), join(TO, 'load.js'));

for (const source of declarations(FROM)) {
  const target = join(TO, relative(FROM, source));
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(source, target);
}

// The code cache, made in a fresh process by the first cluster a user starts:
// loading, starting the kubia example, answering, closing. A function only
// compiled once run, so the cache holds what a first cluster needs.
execFileSync(process.execPath, [join(ROOT, 'scripts', 'make-code-cache.cjs'), TO, join(ROOT, 'examples', 'kubia')], { stdio: 'inherit' });

// The entry points. Their names are read from the bundle itself, so the ESM
// entry points export exactly what require() gets.
const { library } = (await import('node:module')).createRequire(import.meta.url)(join(TO, 'load.js'));
for (const part of Object.keys(PARTS)) {
  writeFileSync(join(TO, `${part}.js`), `'use strict';\nmodule.exports = require('./load.js').library.${part};\n`);
  const names = Object.keys(library[part]);
  writeFileSync(
    join(TO, `${part}.mjs`),
    `import { createRequire } from 'node:module';\n\nconst { ${names.join(', ')} } = createRequire(import.meta.url)('./load.js').library.${part};\n\nexport { ${names.join(', ')} };\n`,
  );
}
if (process.argv.includes('--verbose')) console.log(`dist-cjs: ${Object.keys(PARTS).join(', ')} bundled, register, code cache`);
