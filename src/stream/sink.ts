/**
 * Where the streaming encoder delivers slivers: each sliver once, as soon as it is complete (in no
 * particular order), then the metadata, then `close`.
 */
import type { SliverData } from '../codec/sliver.ts';
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
