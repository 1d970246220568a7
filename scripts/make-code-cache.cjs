'use strict';
// Makes dist-cjs/bundle.cache (scripts/build-cjs.mjs runs this in a fresh
// process): loads the bundle without a cache, starts the kubia example,
// resolves its SRV, resets and closes, then has V8 serialize the bundle's
// compiled code. A cache made after running holds every function that ran, so
// a user's first cluster reads them instead of compiling them.
//   node scripts/make-code-cache.cjs <dist-cjs dir> <examples/kubia dir>

const { rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const [dir, kubia] = process.argv.slice(2);
rmSync(join(dir, 'bundle.cache'), { force: true });
const { library, script } = require(join(dir, 'load.js'));

(async () => {
  const cluster = await library.index.startCluster({ manifests: [kubia] });
  try {
    const srv = await cluster.resolver().resolveSrv('kubia.default.svc.cluster.local');
    if (srv.length !== 2) throw new Error(`kubia SRV: ${srv.length} records`);
    cluster.scale('kubia', 3);
    await cluster.reset();
  } finally {
    await cluster.close();
  }
  writeFileSync(join(dir, 'bundle.cache'), script.createCachedData());
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
