/**
 * A temporary file as a {@link RecoverySpill}: the recovery columns of a metadata-only encode wait
 * there between Phase A and Phase B (src/codec/encode.ts says why: the page cache takes them for
 * ~1/7 of the CPU that fresh kernel memory costs). The file is unlinked as soon as it is open, so
 * nothing is left behind whatever happens to the process; its pages are dropped when it is
 * closed, usually before the kernel would write them to disk.
 */
import { closeSync, openSync, readvSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecoverySpill } from '../codec/encode.ts';
import { TuskError } from '../errors.ts';
import { readAll, writeAll } from './file-io.ts';

/**
 * A spill file's write or read failed (a full or failing temporary file system): the encode that
 * used it can run again without a spill (file-metadata.ts does), so nothing is lost.
 */
export class SpillError extends TuskError {
  constructor(what: string, cause: unknown) {
    super(`temporary spill file: ${what} failed (${(cause as Error)?.message ?? cause})`, { retryable: true, cause });
  }
}

/** A spill file; {@link close} it when the encode is over. */
export interface SpillFile extends RecoverySpill {
  /** Closes the file, which frees its pages (idempotent). */
  close(): void;
}

/**
 * Opens an unlinked temporary file in `dir` (default: the OS temporary directory), or returns
 * undefined when none can be made there (read-only or full): the caller then keeps the columns in
 * memory, which is slower but works.
 */
export function openSpillFile(dir: string = tmpdir()): SpillFile | undefined {
  // 'wx': never an existing file (a name taken by chance fails, and the next one is tried).
  let fd = -1;
  let path = '';
  for (let attempt = 0; attempt < 3 && fd < 0; attempt++) {
    path = join(dir, `tusk-spill-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
    try {
      fd = openSync(path, 'wx+', 0o600);
    } catch {
      // Try another name; a directory that refuses every one means no spill.
    }
  }
  if (fd < 0) return undefined;
  try {
    unlinkSync(path);
  } catch {
    closeSync(fd);
    return undefined;
  }
  let open = true;
  return {
    write(mem, src, length, position) {
      try {
        writeAll(fd, mem, src, length, position);
      } catch (e) {
        throw new SpillError('write', e);
      }
    },
    read(mem, position, dsts, pieceBytes) {
      try {
        readPieces(mem, position, dsts, pieceBytes);
      } catch (e) {
        throw new SpillError('read', e);
      }
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };

  function readPieces(mem: Uint8Array, position: number, dsts: readonly number[], pieceBytes: number): void {
    // One readv per call (the pieces are contiguous in the file); a short read, which regular
    // files rarely give, is finished piece by piece.
    const views = dsts.map((d) => mem.subarray(d, d + pieceBytes));
    for (let i = 0; i < views.length; i += IOV_MAX) {
      const part = views.slice(i, i + IOV_MAX);
      const want = part.length * pieceBytes;
      const at = position + i * pieceBytes;
      const n = readvSync(fd, part, at);
      if (n < want) {
        const p = Math.floor(n / pieceBytes);
        const done = n - p * pieceBytes;
        readAll(fd, mem, dsts[i + p] + done, pieceBytes - done, at + n);
        for (let q = p + 1; q < part.length; q++) readAll(fd, mem, dsts[i + q], pieceBytes, at + q * pieceBytes);
      }
    }
  }
}

/** Buffers per readv call (Linux's IOV_MAX). */
const IOV_MAX = 1024;
