/**
 * The blob ID and metadata of a file, read piecewise straight into kernel memory: no copy of the
 * blob in JS memory, not even one whole copy in kernel memory. Each row task reads its rows, each
 * task of a systematic column stripe its columns (one positioned read per message row), into its
 * pool slot's buffer just before it runs (codec/encode.ts MessageSource): the file is read about
 * twice, from the page cache the second time. What this saves is fresh memory — first-touch page
 * faults cost ~4 ms of CPU per MiB on the VMs measured, ~1 s for a 256 MiB blob. The recovery
 * columns (≈ 0.5× the file) wait in an unlinked temporary file between the phases (spill-file.ts),
 * so kernel memory holds the leaf digests' blocks (~1 MB at n = 1000, src/codec/leaf-layout.ts)
 * and per-slot buffers bounded whatever the file size (SourceEncodeOptions.columnStripeBytes).
 * The file is best in the page cache: Phase B reads each stripe's columns from every row.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { runSourceOn, type EncodedMetadata, type MessageLayout, type MessageSource, type SourceEncodeOptions } from '../codec/encode.ts';
import type { EncodeAsyncOptions } from '../pool/async-codec.ts';
import { defaultPool } from '../pool/codec-pool.ts';
import { TuskError, TuskInputError } from '../errors.ts';
import { openSpillFile, SpillError, type SpillFile } from './spill-file.ts';

/** Options for {@link computeFileMetadata}. */
export interface FileMetadataOptions extends EncodeAsyncOptions, SourceEncodeOptions {
  signal?: AbortSignal;
  /**
   * Where the recovery columns wait between the two phases (an unlinked temporary file, see
   * spill-file.ts); default: the OS temporary directory. If no file can be made or written there,
   * a file up to 2 GiB is run with them in kernel memory; a larger one fails (see below).
   */
  tempDir?: string;
}

/**
 * Computes the blob ID and metadata of the file at `path` on `options.pool` (default: the
 * process-wide pool), identical to `computeBlobMetadata(readFileSync(path), options)`. Reads are
 * synchronous, between tasks (each a few milliseconds at most): meant for the CLI and batch jobs.
 * @throws TuskInputError if the file changes (size or modification time) while it is read;
 *   TuskError (retryable) for a file over 2 GiB whose spill cannot be made or written, naming the
 *   space it needs; file-system errors as thrown by node:fs; the signal's reason when aborted.
 */
export async function computeFileMetadata(path: string, options: FileMetadataOptions): Promise<EncodedMetadata> {
  try {
    return await computeOnce(path, options, true);
  } catch (e) {
    // A temporary file system that filled up (or failed) under the spill: once more, in memory,
    // unless the columns are too big for that (then computeOnce says so).
    if (!(e instanceof SpillError) || options.signal?.aborted) throw e;
    return computeOnce(path, options, false, e);
  }
}

/**
 * Files larger than this never keep their recovery columns (~0.5× the file) in kernel memory when
 * the temporary directory cannot take them: a blob-ID job that would need gigabytes of RAM (and
 * hit the 4 GiB wasm limit near 7 GiB) fails with an error that says what to free instead.
 */
const IN_MEMORY_COLUMNS_MAX_FILE = 2 * 2 ** 30;

/** The error for a file too big to run without a spill: `cause` is why the spill failed. */
function noRoomError(path: string, size: number, dir: string, cause?: unknown): TuskError {
  const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(1);
  return new TuskError(
    `${path}: its blob ID needs ~${gib(size / 2)} GiB free in the temporary directory ${dir} ` +
      `(${cause === undefined ? 'no file can be made there' : (cause as Error).message}); free space there or set TMPDIR to another directory`,
    { retryable: true, cause },
  );
}

/**
 * Files up to this size are read whole before the encode: at 1 MiB, n = 1000, the column stripes'
 * reads were 14 k `pread`s of 96 bytes, ~40 ms of the calling thread (which also runs a slot's
 * tasks); the whole file costs one read and its first-touch pages (~3 ms per MiB on the VMs
 * measured), which the per-stripe reads of larger files do not (256 MiB: 14 k reads of 19 KB).
 */
const WHOLE_FILE_MAX = 4 * 2 ** 20;

async function computeOnce(
  path: string,
  options: FileMetadataOptions,
  useSpill: boolean,
  spillFailure?: SpillError,
): Promise<EncodedMetadata> {
  const fd = openSync(path, 'r');
  let spill: SpillFile | undefined;
  try {
    const before = fstatSync(fd);
    const size = before.size;
    const tempDir = options.tempDir ?? tmpdir();
    if (!useSpill && size > IN_MEMORY_COLUMNS_MAX_FILE) throw noRoomError(path, size, tempDir, spillFailure);
    const openSpill = () => {
      spill = openSpillFile(tempDir);
      if (!spill && size > IN_MEMORY_COLUMNS_MAX_FILE) throw noRoomError(path, size, tempDir);
      return spill;
    };
    const changed = () => new TuskInputError(`${path}: the file changed while it was read; run again once it is complete`);
    const open = (layout: MessageLayout): MessageSource => {
      const { rowBytes, symbolSize: S } = layout;
      /** Reads file bytes [pos, pos + len) into mem at dst, zero past the end of the file. */
      const readAt = (mem: Uint8Array, dst: number, pos: number, len: number) => {
        options.signal?.throwIfAborted();
        const want = Math.max(0, Math.min(len, size - pos));
        let done = 0;
        while (done < want) {
          const got = readSync(fd, mem, dst + done, want - done, pos + done);
          if (got === 0) throw changed();
          done += got;
        }
        if (want < len) mem.fill(0, dst + want, dst + len);
      };
      // A small file is read whole first (one read instead of one per row and column stripe; see
      // WHOLE_FILE_MAX); the stripes are then copied out of it.
      let whole: Uint8Array | undefined;
      if (size <= WHOLE_FILE_MAX) {
        whole = new Uint8Array(size);
        readAt(whole, 0, 0, size);
      }
      const readPart = (mem: Uint8Array, dst: number, pos: number, len: number) => {
        if (!whole) return readAt(mem, dst, pos, len);
        const part = whole.subarray(Math.min(pos, size), Math.min(pos + len, size));
        mem.set(part, dst);
        if (part.length < len) mem.fill(0, dst + part.length, dst + len);
      };
      return {
        ...(useSpill ? { openSpill } : {}),
        readRows: (mem, dst, r0, count) => readPart(mem, dst, r0 * rowBytes, count * rowBytes),
        readColumns: (mem, dst, c0, w) => {
          for (let r = 0; r < layout.rows; r++) readPart(mem, dst + r * w * S, r * rowBytes + c0 * S, w * S);
        },
      };
    };
    const meta = await runSourceOn(options.pool ?? defaultPool(), size, options, open);
    const after = fstatSync(fd);
    if (after.size !== size || after.mtimeMs !== before.mtimeMs) throw changed();
    return meta;
  } finally {
    spill?.close();
    closeSync(fd);
  }
}
