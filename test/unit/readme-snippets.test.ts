// The README's code is taken from files the test suite runs (design habit 10):
// a fenced block right after `<!-- from PATH -->` must be a verbatim part of
// PATH, so a snippet cannot drift from code that works or lean on names it
// never defines. In the sections about using the package every JS/TS block
// must carry such a marker.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** Sections whose every ts/js block must come from a tested file. */
const SOURCED_SECTIONS = ['Install', 'Use in tests'];

interface Fence {
  lang: string;
  body: string;
  /** The `<!-- from PATH -->` right before the fence, if any. */
  from: string | undefined;
  section: string;
  line: number;
}

function fences(markdown: string): Fence[] {
  const lines = markdown.split('\n');
  const found: Fence[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heading = /^## (.+)$/.exec(line);
    if (heading) section = heading[1]!;
    const open = /^```(\S*)$/.exec(line);
    if (!open) continue;
    const close = lines.indexOf('```', i + 1);
    if (close < 0) throw new Error(`README.md:${i + 1}: unclosed fence`);
    const marker = /^<!-- from (\S+) -->$/.exec(lines[i - 1] ?? '');
    found.push({ lang: open[1]!, body: lines.slice(i + 1, close).join('\n'), from: marker?.[1], section, line: i + 1 });
    i = close;
  }
  return found;
}

const all = fences(README);
const sourced = all.filter((fence) => fence.from !== undefined);

describe('README snippets', () => {
  it('marks the snippets it takes from files', () => {
    expect(sourced.map((fence) => fence.from)).toEqual(
      expect.arrayContaining([
        'examples/installed/srv.mjs',
        'examples/fixture-vitest/peers.test.ts',
        'examples/fixture-node-test/peers.test.mjs',
        'examples/fixture-vitest/lookup.test.ts',
        'examples/fixture-jest/peers.test.js',
      ]),
    );
  });

  it.each(sourced.map((fence) => [`README.md:${fence.line} from ${fence.from}`, fence] as const))('%s is a verbatim part of it', (_name, fence) => {
    const file = join(ROOT, fence.from!);
    expect(existsSync(file), `${fence.from} exists`).toBe(true);
    expect(fence.body.trim().length).toBeGreaterThan(0);
    expect(readFileSync(file, 'utf8')).toContain(fence.body);
  });

  it.each(SOURCED_SECTIONS)('every JS/TS snippet in "%s" comes from a tested file', (section) => {
    const code = all.filter((fence) => fence.section === section && /^(js|mjs|ts|javascript|typescript)$/.test(fence.lang));
    expect(code.length, `"${section}" has code snippets`).toBeGreaterThan(0);
    for (const fence of code) expect(fence.from, `README.md:${fence.line} (${section}) names the file it is from`).toBeDefined();
  });
});
