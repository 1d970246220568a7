// The error codes, the README's table and the exported types stay one list.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, HeadlessDnsError } from '../../src/errors.js';
import * as api from '../../src/index.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('error codes', () => {
  it('the README table lists every code with its HTTP status, reason and meaning', () => {
    const rows = [...readme.matchAll(/^\| `([A-Z_]+)` \| (\d+) \| (\w+) \| (.+) \|$/gm)].map((m) => [m[1], Number(m[2]), m[3], m[4]]);
    expect(rows).toEqual(Object.entries(ERROR_CODES).map(([code, e]) => [code, e.status, e.reason, e.summary]));
  });

  it('errors carry their code, status and reason, and are exported', () => {
    const error = new api.HeadlessDnsError('CONFLICT', 'stale');
    expect(error).toBeInstanceOf(HeadlessDnsError);
    expect([error.code, error.status, error.reason, String(error)]).toEqual(['CONFLICT', 409, 'Conflict', 'CONFLICT: stale']);
    expect(api.ERROR_CODES).toBe(ERROR_CODES);
  });
});
