import { describe, expect, it } from 'vitest';
import { rfc3339Seconds } from '../../src/model/timestamp.js';

describe('rfc3339Seconds', () => {
  it('agrees with Date#toISOString at whole seconds across leap years, centuries and day edges', () => {
    const samples = [0, 59, 86399, 86400, 951782400, 951868799, 1709164800, 4102444799, 4107542400, 253402300799];
    for (let s = 0; s < 400 * 366 * 86400; s += 86400 * 37 + 3671) samples.push(s);
    for (const second of samples) {
      expect(rfc3339Seconds(second)).toBe(new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    }
  });
});
