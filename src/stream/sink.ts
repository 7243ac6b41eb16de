/**
 * Where the streaming encoder delivers slivers: each sliver once, as soon as it is complete (in no
 * particular order), then the metadata, then `close`.
 */
import type { SliverAxis, SliverData } from '../codec/sliver.ts';
import type { EncodedMetadata } from '../codec/encode.ts';

/**
 * Receives an encode's output. Buffer ownership: a sliver's bytes are only valid until the
 * returned promise settles (the encoder reuses its memory, a SharedArrayBuffer); copy what you
 * keep, and copy before passing them to APIs that reject shared memory (e.g. WebCrypto).
 */
export interface SliverSink {
  writeSliver(sliver: SliverData): Promise<void> | void;
  /** After every sliver: the blob ID and metadata. */
  writeMetadata(result: EncodedMetadata): Promise<void> | void;
  /** Last call: `ok` = the encode completed; otherwise it failed or was aborted (discard partial output). */
  close?(ok: boolean): Promise<void> | void;
}

/** A sink that calls `onSliver` (and optionally `onMetadata`) for each item. */
export function callbackSink(
  onSliver: (sliver: SliverData) => Promise<void> | void,
  onMetadata?: (result: EncodedMetadata) => Promise<void> | void,
): SliverSink {
  return { writeSliver: onSliver, writeMetadata: (r) => onMetadata?.(r) };
}

/**
 * A sink that keeps each sliver in a file of its own and lets the encoder write it there in place:
 * the streaming encoder then writes the intermediate columns and recovery rows of the 2D code
 * straight into the secondary and primary sliver files (positional writes, header and trailer
 * first) instead of temporary files, and calls `writeSliver` only for the slivers it does not
 * write in place — so the disk sees each sliver byte once (~4.5× the blob at n = 1000, not ~8×).
 */
export interface InPlaceSliverSink extends SliverSink {
  /**
   * The file that holds sliver (`axis`, `index`) once the sink closes with `ok`; its directory
   * exists. The encoder creates it and writes the complete SliverData BCS frame into it.
   */
  sliverFile(axis: SliverAxis, index: number): string;
}

/** Whether `sink` accepts in-place sliver writes ({@link InPlaceSliverSink}). */
export function isInPlaceSink(sink: SliverSink): sink is InPlaceSliverSink {
  return typeof (sink as Partial<InPlaceSliverSink>).sliverFile === 'function';
}
