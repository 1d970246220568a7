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

  // No answer is this large today (wire.ts cuts answers to a DNS message), but
  // reserving must never be what fails: a throw here once left stale answers.
  it('gives an answer larger than a page a page of its own, and goes on after it', () => {
    const slab = new AnswerSlab();
    const small = Buffer.alloc(100, 1);
    const before = slab.add(small, small.length);
    const huge = Buffer.alloc((1 << 18) + 1, 2);
    const handle = slab.add(huge, huge.length);
    expect(slab.offset(handle)).toBe(0);
    const after = slab.add(small, small.length);
    expect(slab.page(handle).subarray(0, huge.length).equals(huge)).toBe(true);
    for (const h of [before, after]) expect(slab.page(h).subarray(slab.offset(h), slab.offset(h) + 100).equals(small)).toBe(true);
    expect(slab.page(after)).not.toBe(slab.page(handle));
  });
});
