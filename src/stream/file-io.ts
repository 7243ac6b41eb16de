/**
 * Positional file I/O between files and kernel memory for the streaming encoder and decoder.
 * Synchronous on purpose: each call moves one stripe-sized chunk to or from the page cache in a
 * few microseconds, and the async API's per-call cost dominated with ~10^5 chunks per large blob.
 */
import { readSync, writeSync } from 'node:fs';
import { TuskError } from '../errors.ts';

/** Writes mem[ptr, ptr+length) at file `position`. */
export function writeAll(fd: number, mem: Uint8Array, ptr: number, length: number, position: number): void {
  let done = 0;
  while (done < length) done += writeSync(fd, mem, ptr + done, length - done, position + done);
}

/** Reads `length` bytes at file `position` into mem[ptr, …); throws if the file is shorter. */
export function readAll(fd: number, mem: Uint8Array, ptr: number, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const got = readSync(fd, mem, ptr + done, length - done, position + done);
    if (got === 0) throw new TuskError(`file ended early at byte ${position + done}`);
    done += got;
  }
}
