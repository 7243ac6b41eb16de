/**
 * Blob IDs (walrus-protocol.md §3.3): BLAKE2b-256(encoding_type u8 ‖ unencoded_length u64 LE ‖
 * root_hash[32]) — the BCS of Move's BlobIdDerivation. Text form: URL-safe base64, no padding.
 */
import { blake2b256 } from '../hash/blake2b.ts';
import { writeU64 } from './bcs.ts';
import { TuskInputError } from '../errors.ts';

/** A blob ID: 32 raw bytes. */
export type BlobId = Uint8Array;

/** Derives the blob ID from the metadata root hash. Returns a fresh 32-byte array. */
export function deriveBlobId(encodingType: number, unencodedLength: number, rootHash: Uint8Array): BlobId {
  if (rootHash.length !== 32) throw new TuskInputError('root hash must be 32 bytes');
  const msg = new Uint8Array(41);
  msg[0] = encodingType;
  writeU64(msg, 1, unencodedLength);
  msg.set(rootHash, 9);
  return blake2b256(msg);
}

/** URL-safe base64 without padding of a 32-byte blob ID. */
export function blobIdToString(id: BlobId): string {
  if (id.length !== 32) throw new TuskInputError('blob ID must be 32 bytes');
  return Buffer.from(id.buffer, id.byteOffset, id.length).toString('base64url');
}

/** Parses the text form; throws TuskInputError unless it is 43 URL-safe base64 chars → 32 bytes. */
export function blobIdFromString(text: string): BlobId {
  if (!/^[A-Za-z0-9_-]{43}$/.test(text)) throw new TuskInputError(`malformed blob ID: ${JSON.stringify(text)}`);
  const bytes = new Uint8Array(Buffer.from(text, 'base64url'));
  if (bytes.length !== 32 || blobIdToString(bytes) !== text) throw new TuskInputError(`malformed blob ID: ${text}`);
  return bytes;
}

/** The blob ID's value mod n, reading the bytes as a big-endian integer (pair↔shard rotation, §2). */
export function blobIdRotation(id: BlobId, nShards: number): number {
  let r = 0;
  for (const b of id) r = (r * 256 + b) % nShards;
  return r;
}
