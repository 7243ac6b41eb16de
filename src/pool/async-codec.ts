/**
 * The encoder on a pool of worker threads: `encodeBlobAsync` and `computeBlobMetadataAsync` run the
 * same plan as codec/encode.ts, with each phase's stripe tasks spread over a `TaskRunner` (by
 * default the process-wide `CodecPool`). It lives above both folders so that codec/ never imports
 * the pool: the pool imports the codec's task contract, and this module joins the two.
 */
import { runEncodeOn, type EncodeOptions, type EncodedBlob, type EncodedMetadata } from '../codec/encode.ts';
import type { TaskRunner } from '../codec/tasks.ts';
import { defaultPool } from './codec-pool.ts';

/** Options for the async (pool) encode functions. */
export interface EncodeAsyncOptions extends EncodeOptions {
  /** Where the stripe tasks run (default: the process-wide pool sized to the machine's cores). */
  pool?: TaskRunner;
}

/**
 * {@link encodeBlob} on a pool of worker threads: all cores busy, the calling thread's event loop
 * free. Output is identical to `encodeBlob`, whatever the pool size.
 */
export async function encodeBlobAsync(data: Uint8Array, options: EncodeAsyncOptions): Promise<EncodedBlob> {
  return (await runEncodeOn(options.pool ?? defaultPool(), data, options, true)) as EncodedBlob;
}

/** {@link computeBlobMetadata} on a pool of worker threads. */
export async function computeBlobMetadataAsync(data: Uint8Array, options: EncodeAsyncOptions): Promise<EncodedMetadata> {
  return runEncodeOn(options.pool ?? defaultPool(), data, options, false);
}
