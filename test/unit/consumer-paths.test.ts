// Paths as a project that installed headless-dns meets them: the shipped
// examples by absolute path, whatever the working directory, and relative
// manifest paths read from process.cwd() with a message saying where.

import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { examples } from '../../src/index.js';
import { loadManifests } from '../../src/model/manifest.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('examples', () => {
  it('are the absolute paths of the example manifest directories', () => {
    expect(examples).toEqual({ kubia: join(ROOT, 'examples', 'kubia'), kubiaPeers: join(ROOT, 'examples', 'kubia-peers', 'k8s'), kubiaLocal: join(ROOT, 'examples', 'kubia-local') });
    for (const path of Object.values(examples)) {
      expect(isAbsolute(path)).toBe(true);
      expect(statSync(path).isDirectory()).toBe(true);
    }
    expect(Object.isFrozen(examples)).toBe(true);
  });

  it('load as manifests', () => {
    const kinds = (path: string) => loadManifests([path]).objects.map((m) => `${m.object.kind}/${m.object.metadata.name}`).sort();
    expect(kinds(examples.kubia)).toEqual(['Service/kubia', 'StatefulSet/kubia']);
    expect(kinds(examples.kubiaPeers)).toEqual(['Service/kubia', 'StatefulSet/kubia']);
    expect(kinds(examples.kubiaLocal)).toEqual(['Service/kubia', 'Service/kubia-public', 'StatefulSet/kubia']);
  });

  it('come from a module that reads no files', () => {
    // Importing the package (ESM or the CommonJS build) must not touch the disk.
    const imports = (file: string) => [...readFileSync(join(ROOT, 'src', file), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]);
    expect(imports('examples.ts')).toEqual(['node:url', './package-root.js']);
    expect(imports('package-root.ts')).toEqual([]);
  });
});

describe('a manifest path that is not there', () => {
  it('relative: names the absolute path tried and the working directory it was read from', () => {
    const error = (() => {
      try {
        loadManifests(['no-such-dir/k8s']);
      } catch (caught) {
        return caught as { code: string; message: string };
      }
      throw new Error('loaded');
    })();
    expect(error.code).toBe('MANIFEST_NOT_FOUND');
    expect(error.message).toBe(
      `no-such-dir/k8s: no such file or directory (tried ${resolve('no-such-dir/k8s')}: relative paths are read from the working directory ${process.cwd()})`,
    );
  });

  it('absolute: the path alone says it', () => {
    expect(() => loadManifests(['/nonexistent/k8s'])).toThrow(/^\/nonexistent\/k8s: no such file or directory$/);
  });
});
