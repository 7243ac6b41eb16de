/**
 * `tusk/quilt`: quilts — many small files in one blob, QuiltV1 byte-identical to Walrus: the
 * format, the encoder, quilt patch IDs, storing a quilt and reading single patches.
 */
export { encodeQuilt, quiltSymbolSize, QuiltTooLargeError } from '../quilt/quilt-encode.ts';
export type { QuiltBlobInput, EncodeQuiltOptions, EncodedQuilt } from '../quilt/quilt-encode.ts';
export { quiltGeometry, validateIdentifier, decodeIndex, decodePatch, QuiltFormatError } from '../quilt/format.ts';
export type { QuiltGeometry, QuiltPatchInfo, DecodedPatch } from '../quilt/format.ts';
export { encodeQuiltPatchId, parseQuiltPatchId } from '../quilt/patch-id.ts';
export type { QuiltPatchId } from '../quilt/patch-id.ts';
export {
  storeQuilt,
  storedQuiltBlobs,
  quiltStoreResultJson,
  readQuiltPatch,
  listQuiltPatches,
  walrusPatchList,
  QuiltReader,
} from '../quilt/client.ts';
export type {
  StoreQuiltOptions,
  QuiltStoreResult,
  StoredQuiltPatch,
  ReadQuiltOptions,
  QuiltPatch,
  QuiltPatchEntry,
  QuiltPatchSelector,
} from '../quilt/client.ts';
