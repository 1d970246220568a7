import { describe, expect, it } from 'vitest';
import { AnswerSlab } from '../../src/dns/slab.js';

describe('AnswerSlab', () => {
  it('keeps what was added under its handle, across pages', () => {
    const slab = new AnswerSlab();
    const handles: [number, Buffer][] = [];
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.alloc(200 + (i % 300), i % 251);
      handles.push([slab.add(bytes, bytes.length), bytes]);
    }
    for (const [handle, bytes] of handles) {
      const at = slab.offset(handle);
      expect(slab.page(handle).subarray(at, at + bytes.length).equals(bytes)).toBe(true);
    }
  });

  it('says when released answers outweigh live ones', () => {
    const slab = new AnswerSlab();
    const bytes = Buffer.alloc(1000, 7);
    for (let i = 0; i < 600; i++) slab.add(bytes, bytes.length);
    expect(slab.wasteful).toBe(false);
    for (let i = 0; i < 400; i++) slab.release(bytes.length);
    expect(slab.wasteful).toBe(true);
    expect(slab.bytes).toEqual({ live: 200_000, dead: 400_000 });
  });

  it('refuses an answer larger than a page', () => {
    const huge = Buffer.alloc((1 << 18) + 1);
    expect(() => new AnswerSlab().add(huge, huge.length)).toThrow(RangeError);
  });
});
