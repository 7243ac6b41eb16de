/**
 * Blob metadata (walrus-protocol.md §3.2–§3.4).
 *
 * BlobMetadata BCS = 0x00 (V1) ‖ encoding_type u8 ‖ unencoded_length u64 ‖
 *   Vec<SliverPairMetadata{primary_hash: Node, secondary_hash: Node}>, Node = 0x01 ‖ 32 bytes.
 * BlobMetadataWithId BCS = blob_id[32] ‖ BlobMetadata.
 */
import { readUleb, ulebLength, writeU64, writeUleb } from './bcs.ts';
import { TuskInputError } from '../errors.ts';
import { type BlobId, blobIdToString } from './blob-id.ts';

/** Merkle roots of the expanded primary and secondary slivers of one pair. */
export interface SliverPairHashes {
  readonly primary: Uint8Array;
  readonly secondary: Uint8Array;
}

/** Metadata committed to by a blob ID. */
export class BlobMetadata {
  readonly encodingType: number;
  readonly unencodedLength: number;
  readonly hashes: readonly SliverPairHashes[];

  constructor(encodingType: number, unencodedLength: number, hashes: readonly SliverPairHashes[]) {
    this.encodingType = encodingType;
    this.unencodedLength = unencodedLength;
    this.hashes = hashes;
  }

  /** BCS of `BlobMetadata` (fresh array). */
  toBcs(): Uint8Array {
    const n = this.hashes.length;
    const out = new Uint8Array(1 + 1 + 8 + ulebLength(n) + 66 * n);
    out[0] = 0; // V1
    out[1] = this.encodingType;
    let off = writeU64(out, 2, this.unencodedLength);
    off = writeUleb(out, off, n);
    for (const h of this.hashes) {
      out[off] = 1;
      out.set(h.primary, off + 1);
      out[off + 33] = 1;
      out.set(h.secondary, off + 34);
      off += 66;
    }
    return out;
  }

  /** Parses BlobMetadata BCS; throws TuskInputError on malformed input. */
  static fromBcs(bcs: Uint8Array): BlobMetadata {
    if (bcs.length < 11 || bcs[0] !== 0) throw new TuskInputError('BlobMetadata BCS: unknown version or truncated');
    const encodingType = bcs[1];
    const len = new DataView(bcs.buffer, bcs.byteOffset, bcs.byteLength).getBigUint64(2, true);
    if (len > BigInt(Number.MAX_SAFE_INTEGER)) throw new TuskInputError('BlobMetadata BCS: length too large');
    const { value: n, next } = readUleb(bcs, 10);
    let off = next;
    const hashes: SliverPairHashes[] = [];
    const node = (): Uint8Array => {
      if (off >= bcs.length) throw new TuskInputError('BlobMetadata BCS: truncated');
      if (bcs[off] === 0) {
        off += 1;
        return new Uint8Array(32);
      }
      if (bcs[off] !== 1 || off + 33 > bcs.length) throw new TuskInputError('BlobMetadata BCS: bad node');
      const d = bcs.slice(off + 1, off + 33);
      off += 33;
      return d;
    };
    for (let i = 0; i < n; i++) {
      const primary = node();
      hashes.push({ primary, secondary: node() });
    }
    if (off !== bcs.length) throw new TuskInputError('BlobMetadata BCS: trailing bytes');
    return new BlobMetadata(encodingType, Number(len), hashes);
  }
}

/** A blob ID with the metadata it commits to. */
export class BlobMetadataWithId {
  readonly blobId: BlobId;
  readonly metadata: BlobMetadata;

  constructor(blobId: BlobId, metadata: BlobMetadata) {
    this.blobId = blobId;
    this.metadata = metadata;
  }

  get blobIdString(): string {
    return blobIdToString(this.blobId);
  }

  /** BCS of `BlobMetadataWithId` (fresh array). */
  toBcs(): Uint8Array {
    const m = this.metadata.toBcs();
    const out = new Uint8Array(32 + m.length);
    out.set(this.blobId);
    out.set(m, 32);
    return out;
  }

  static fromBcs(bcs: Uint8Array): BlobMetadataWithId {
    if (bcs.length < 32) throw new TuskInputError('BlobMetadataWithId BCS: truncated');
    return new BlobMetadataWithId(bcs.slice(0, 32), BlobMetadata.fromBcs(bcs.subarray(32)));
  }
}
