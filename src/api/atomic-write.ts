// Writing a file so a reader sees the old contents or the new, never a torn
// mix, and a crash leaves one of the two: a temporary file in the same
// directory (so rename stays on one file system), fsynced, renamed over the
// target, and the directory fsynced so the rename itself is durable.

import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** Replaces `path` with `data`, created with `mode` (applied before any byte is written, so a secret is never readable by others). */
export function writeFileAtomic(path: string, data: string, mode: number): void {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', mode);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  fsyncDir(dir);
}

export function fsyncDir(dir: string): void {
  // Not every platform can open a directory for fsync (Windows); the rename is done either way.
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* best effort */
  }
}
