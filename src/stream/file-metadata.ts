/**
 * The blob ID and metadata of a file, read straight into kernel memory: no copy of the blob in JS
 * memory, and no sliver that is not kept is materialised (codec/encode.ts, metadata-only plan:
 * the systematic part of every sliver is read in place from the message rows). The file is read
 * in chunks while the pool already runs the row tasks of the rows that have arrived, so disk and
 * compute overlap. Kernel memory ≈ 1.5× the file plus n²·32 bytes of leaf hashes: for files up to
 * a few hundred MiB (larger ones: encodeStream, bounded memory).
 */
import { open } from 'node:fs/promises';
import { runMetadataOn, type EncodedMetadata } from '../codec/encode.ts';
import type { EncodeAsyncOptions } from '../pool/async-codec.ts';
import { defaultPool } from '../pool/codec-pool.ts';
import { TuskInputError } from '../errors.ts';

/** Bytes per read: large enough for few system calls, small enough that row tasks start early. */
const READ_CHUNK = 4 * 2 ** 20;

/** Options for {@link computeFileMetadata}. */
export interface FileMetadataOptions extends EncodeAsyncOptions {
  signal?: AbortSignal;
}

/**
 * Computes the blob ID and metadata of the file at `path` on `options.pool` (default: the
 * process-wide pool), identical to `computeBlobMetadata(readFileSync(path), options)`.
 * @throws TuskInputError if the file changes size while it is read; file-system errors as thrown
 *   by node:fs; the signal's reason when aborted.
 */
export async function computeFileMetadata(path: string, options: FileMetadataOptions): Promise<EncodedMetadata> {
  const file = await open(path, 'r');
  try {
    const size = (await file.stat()).size;
    return await runMetadataOn(options.pool ?? defaultPool(), size, options, async (kernel, input, layout, ready) => {
      let done = 0;
      while (done < size) {
        options.signal?.throwIfAborted();
        const want = Math.min(READ_CHUNK, size - done);
        const { bytesRead } = await file.read(kernel.u8(), input + done, want, done);
        if (bytesRead === 0) throw new TuskInputError(`${path}: file shrank while it was read (${done} of ${size} bytes)`);
        done += bytesRead;
        ready(Math.floor(done / layout.rowBytes));
      }
      // The padding past the blob's end must be zero; kernel memory may hold an earlier encode's bytes.
      kernel.u8().fill(0, input + size, input + layout.paddedLength);
    });
  } finally {
    await file.close();
  }
}
