// Prepared answers live in a few large pages rather than one Buffer each. At
// 100k pods that is 300k fewer objects for the garbage collector to trace and
// no half-empty pool slabs. An answer is named by its handle, page × PAGE_SIZE
// + offset: a small integer a Map holds without allocating anything.

/**
 * Larger than any prepared answer: its records end within a DNS message
 * (65,535 bytes: wire.ts cuts the rest), and its table adds 2 bytes per
 * record and per SRV target, records being 14 bytes or more: under 20 KiB. A
 * larger request would still get a page of its own (below): reserving never
 * fails for an answer's size.
 */
const PAGE_BITS = 18;
const PAGE_SIZE = 1 << PAGE_BITS;
const OFFSET_MASK = PAGE_SIZE - 1;

export class AnswerSlab {
  private readonly pages: Buffer[] = [];
  private used = PAGE_SIZE;
  private liveBytes = 0;
  private deadBytes = 0;

  /** Copies `length` bytes of `source` in; returns their handle. */
  add(source: Buffer, length: number): number {
    const handle = this.reserve(length);
    source.copy(this.page(handle), this.offset(handle), 0, length);
    return handle;
  }

  /** Sets aside `length` bytes for the caller to write at page(handle), offset(handle); returns the handle. */
  reserve(length: number): number {
    if (this.used + length > PAGE_SIZE) {
      // An oversized one (none is made today) fills a page of its own size: its handle's offset is 0, and the next answer starts a new page.
      this.pages.push(Buffer.allocUnsafeSlow(Math.max(PAGE_SIZE, length)));
      this.used = 0;
    }
    const handle = (this.pages.length - 1) * PAGE_SIZE + this.used;
    this.used = length > PAGE_SIZE ? PAGE_SIZE : this.used + length;
    this.liveBytes += length;
    return handle;
  }

  page(handle: number): Buffer {
    return this.pages[Math.floor(handle / PAGE_SIZE)]!;
  }

  offset(handle: number): number {
    return handle & OFFSET_MASK;
  }

  /** Marks an answer's bytes as no longer used. */
  release(length: number): void {
    this.liveBytes -= length;
    this.deadBytes += length;
  }

  /** True when more than half of what the pages hold is released answers: time to copy the rest to a new slab. */
  get wasteful(): boolean {
    return this.deadBytes > PAGE_SIZE && this.deadBytes > this.liveBytes;
  }

  get bytes(): { live: number; dead: number } {
    return { live: this.liveBytes, dead: this.deadBytes };
  }
}
