// The CommonJS build: dist-cjs/, made from tsc's ESM output in dist/ (one
// source, one type-check), so that `require('headless-dns')`, `/testing` and
// `/register` work, in jest's module system too, which cannot load ESM.
//
// dist-cjs/ sits beside dist/ at the same depth below the package root, so the
// relative URLs the code builds from import.meta.url ('../package.json',
// '../examples/kubia', './openapi/api__v1.json') name the same files from
// either build; import.meta.url itself becomes this file's file: URL, computed
// from __filename. dist/cli/ stays ESM only: it is the bin (top-level await),
// and nothing a library consumer requires imports it.
//
// Types: the same .d.ts files, copied, because under dist-cjs/package.json's
// "type": "commonjs" TypeScript (node16/nodenext) reads them as CommonJS
// declarations, which is what a `require` of this package gets.
//
// Source maps: esbuild reads the inline map we hand it with each file and
// composes it, so dist-cjs maps point at src/*.ts as dist's do.

import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const FROM = join(ROOT, 'dist');
const TO = join(ROOT, 'dist-cjs');
/** What a CommonJS file gets in place of import.meta.url. */
const URL_NAME = '__hdImportMetaUrl';

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (relative(FROM, path) !== 'cli') yield* files(path);
    } else yield path;
  }
}

rmSync(TO, { recursive: true, force: true });
let count = 0;
for (const source of files(FROM)) {
  const name = relative(FROM, source);
  const target = join(TO, name);
  mkdirSync(dirname(target), { recursive: true });
  if (name.endsWith('.d.ts') || name.endsWith('.json')) {
    copyFileSync(source, target);
    continue;
  }
  if (!name.endsWith('.js')) continue; // the .js.map files are read with their .js

  let code = readFileSync(source, 'utf8');
  const mapComment = /\n\/\/# sourceMappingURL=(\S+)\s*$/.exec(code);
  if (mapComment) {
    const map = readFileSync(join(dirname(source), mapComment[1]), 'utf8');
    code = `${code.slice(0, mapComment.index)}\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(map).toString('base64')}\n`;
  }
  const usesUrl = code.includes('import.meta.url');
  const result = transformSync(code, {
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcefile: name.split(sep).join('/'),
    sourcemap: mapComment ? 'external' : false,
    sourcesContent: false,
    define: { 'import.meta.url': URL_NAME },
    // import() of our own lazily loaded modules (the TLS module, kubeconfig)
    // becomes require(), so that a CommonJS loader (jest's) never meets an
    // import() it cannot follow.
    supported: { 'dynamic-import': false },
    banner: usesUrl ? `const ${URL_NAME} = require('node:url').pathToFileURL(__filename).href;` : '',
    logLevel: 'silent',
  });
  // Anything else of import.meta (dirname, resolve) would be {} in CommonJS:
  // refuse to build rather than ship code that is wrong only there.
  if (result.warnings.length) {
    throw new Error(`${name}: ${result.warnings.map((w) => w.text).join('; ')}`);
  }
  if (/\bimport\.meta\b/.test(result.code)) throw new Error(`${name}: import.meta left in the CommonJS build`);
  const base = name.split(sep).pop();
  writeFileSync(target, mapComment ? `${result.code}//# sourceMappingURL=${base}.map\n` : result.code);
  if (mapComment) {
    const map = JSON.parse(result.map);
    map.file = base;
    writeFileSync(`${target}.map`, JSON.stringify(map));
  }
  count++;
}
writeFileSync(join(TO, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
if (process.argv.includes('--verbose')) console.log(`dist-cjs: ${count} modules`);
