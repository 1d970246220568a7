// Dependency direction (design.md): errors ← model ← store ← (controllers, records);
// records ← dns; everything ← cluster ← (cli, index). The store never imports DNS
// or HTTP code, and dns/ never imports the store. package-root (where the shipped
// files are) imports nothing and may be imported by the layers that read them.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

const ALLOWED: Record<string, string[]> = {
  errors: [],
  model: ['errors'],
  store: ['errors', 'model'],
  records: ['errors', 'model', 'store'],
  controllers: ['errors', 'model', 'store'],
  kubelet: ['errors', 'model', 'store', 'controllers'],
  dns: ['errors', 'model', 'records'],
  api: ['errors', 'model', 'store', 'dns', 'package-root'],
  options: ['errors', 'model', 'store', 'records', 'dns', 'kubelet'],
  'node-dns': ['errors', 'model', 'records', 'dns'],
  cluster: ['errors', 'model', 'store', 'records', 'dns', 'controllers', 'kubelet', 'api', 'options', 'node-dns', 'package-root'],
  cli: ['errors', 'model', 'store', 'records', 'dns', 'controllers', 'kubelet', 'api', 'options', 'cluster', 'node-dns'],
  register: ['records', 'node-dns'],
  testing: ['errors', 'model', 'options', 'cluster'],
  examples: ['package-root'],
  'package-root': [],
  index: ['errors', 'model', 'store', 'records', 'dns', 'controllers', 'kubelet', 'api', 'options', 'cluster', 'node-dns', 'examples'],
};

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

const layerOf = (path: string): string => relative(SRC, path).split(/[/\\]/)[0]!.replace(/\.(ts|js)$/, '');

describe('import direction', () => {
  it.each(files(SRC).map((f) => [relative(SRC, f), f] as const))('%s', (_name, file) => {
    const layer = layerOf(file);
    const imports = [...readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)].map((m) => m[1]!);
    for (const spec of imports) {
      const target = layerOf(join(file, '..', spec));
      if (target === layer) continue;
      expect(ALLOWED[layer], `${layer} may not import ${target} (${spec})`).toContain(target);
    }
  });
});
