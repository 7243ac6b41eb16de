/**
 * Quilt patch IDs (walrus-http.md §3.4): quilt ID (32 bytes) ‖ internal ID V1 (0x01 ‖ start u16 LE
 * ‖ end u16 LE), 37 bytes, written as URL-safe base64 without padding (50 characters). A patch ID
 * names columns of one quilt, so it depends on the whole quilt's composition, not only the patch.
 */
import { blobIdFromString, blobIdToString, type BlobId } from '../codec/blob-id.ts';
import { TuskInputError } from '../errors.ts';
import { QUILT_VERSION_V1 } from './format.ts';

/** A parsed quilt patch ID. */
export interface QuiltPatchId {
  readonly quiltId: BlobId;
  readonly version: number;
  /** First column of the patch. */
  readonly startIndex: number;
  /** One past its last column. */
  readonly endIndex: number;
}

/** The 50-character string of a patch ID. */
export function encodeQuiltPatchId(quiltId: BlobId | string, startIndex: number, endIndex: number): string {
  const id = typeof quiltId === 'string' ? blobIdFromString(quiltId) : quiltId;
  if (id.length !== 32) throw new TuskInputError(`a quilt ID is 32 bytes, got ${id.length}`);
  for (const v of [startIndex, endIndex])
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new TuskInputError(`patch column ${v} is not a u16`);
  const out = new Uint8Array(37);
  out.set(id);
  out[32] = QUILT_VERSION_V1;
  out[33] = startIndex & 0xff;
  out[34] = startIndex >> 8;
  out[35] = endIndex & 0xff;
  out[36] = endIndex >> 8;
  return Buffer.from(out).toString('base64url');
}

/**
 * Parses a patch ID string.
 * @throws TuskInputError when it is not 37 bytes of URL-safe base64, not version 1, or an empty range.
 */
export function parseQuiltPatchId(text: string): QuiltPatchId {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]{50}$/.test(text))
    throw new TuskInputError(`malformed quilt patch ID ${JSON.stringify(text)}: expected 50 characters of URL-safe base64`);
  const bytes = new Uint8Array(Buffer.from(text, 'base64url'));
  if (bytes.length !== 37 || Buffer.from(bytes).toString('base64url') !== text)
    throw new TuskInputError(`malformed quilt patch ID ${JSON.stringify(text)}`);
  if (bytes[32] !== QUILT_VERSION_V1)
    throw new TuskInputError(`quilt patch ID ${text} has version ${bytes[32]}; only version ${QUILT_VERSION_V1} is known`);
  const startIndex = bytes[33] | (bytes[34] << 8);
  const endIndex = bytes[35] | (bytes[36] << 8);
  if (endIndex <= startIndex) throw new TuskInputError(`quilt patch ID ${text} names an empty column range [${startIndex}, ${endIndex})`);
  return { quiltId: bytes.slice(0, 32), version: bytes[32], startIndex, endIndex };
}

/** The quilt ID string of a patch ID. */
export function quiltIdOfPatch(id: QuiltPatchId): string {
  return blobIdToString(id.quiltId);
}
