/**
 * Verification of metadata and slivers against a blob ID (walrus-protocol.md §3.4, §4.3).
 *
 * Trust chain: the blob ID (from the chain) commits to the metadata; the metadata commits to the
 * Merkle root of every expanded sliver. A sliver is accepted only when its expansion hashes to
 * its entry in verified metadata.
 */
import { type WasmKernel, defaultKernel } from '../wasm/kernel.ts';
import { MetadataVerificationError, SliverVerificationError } from '../errors.ts';
import { EncodingConfig } from './config.ts';
import { ENCODINGS, encodingByType } from './encodings/index.ts';
import { type BlobMetadata, BlobMetadataWithId } from './metadata.ts';
import { deriveBlobId } from './blob-id.ts';
import { type SliverData } from './sliver.ts';
import { expandSlivers } from './expand.ts';
import { sliverSymbols } from './task-plan.ts';
import { merkleRootOfLeaves, merkleScratchBytes } from '../hash/blake2b.ts';
import { equalBytes } from '../util/bytes.ts';

/** Root hash of metadata: Merkle root over the n leaves primary_hash[i] ‖ secondary_hash[i]. */
export function metadataRootHash(metadata: BlobMetadata, kernel: WasmKernel = defaultKernel()): Uint8Array {
  const n = metadata.hashes.length;
  const mark = kernel.mark();
  try {
    // The n 64-byte leaves side by side in kernel memory, as the encoder has them.
    const leaves = kernel.alloc(n * 64);
    const scratch = kernel.alloc(merkleScratchBytes(n));
    const mem = kernel.u8();
    metadata.hashes.forEach((h, i) => {
      mem.set(h.primary, leaves + i * 64);
      mem.set(h.secondary, leaves + i * 64 + 32);
    });
    return merkleRootOfLeaves(kernel, leaves, n, 64, scratch);
  } finally {
    kernel.release(mark);
  }
}

/**
 * Checks metadata for a committee of `nShards`: a known encoding type, n pair hashes, a length the committee can
 * encode, and a blob ID that is the hash of the metadata.
 * @returns the committee's EncodingConfig.
 * @throws MetadataVerificationError (or TuskInputError for a bad nShards).
 */
export function verifyMetadata(withId: BlobMetadataWithId, nShards: number, kernel: WasmKernel = defaultKernel()): EncodingConfig {
  const m = withId.metadata;
  if (!ENCODINGS.some((e) => e.typeByte === m.encodingType)) {
    throw new MetadataVerificationError(`unsupported encoding type ${m.encodingType}`);
  }
  const cfg = new EncodingConfig(nShards, encodingByType(m.encodingType));
  if (m.hashes.length !== nShards) {
    throw new MetadataVerificationError(`metadata has ${m.hashes.length} sliver-pair hashes, expected ${nShards}`);
  }
  if (m.unencodedLength > cfg.maxBlobSize) {
    throw new MetadataVerificationError(`unencoded length ${m.unencodedLength} exceeds the maximum ${cfg.maxBlobSize}`);
  }
  const id = deriveBlobId(m.encodingType, m.unencodedLength, metadataRootHash(m, kernel));
  if (!equalBytes(id, withId.blobId)) {
    throw new MetadataVerificationError('metadata does not hash to its blob ID');
  }
  return cfg;
}

/** The metadata hash a sliver must match: primary i → pair i; secondary j → pair n − 1 − j. */
export function expectedSliverHash(metadata: BlobMetadata, axis: 'primary' | 'secondary', index: number): Uint8Array {
  const n = metadata.hashes.length;
  return axis === 'primary' ? metadata.hashes[index].primary : metadata.hashes[n - 1 - index].secondary;
}

/**
 * Verifies slivers against (already verified) metadata. Returns, per input sliver, `null` when it
 * is valid or the reason it is not. Slivers of both axes may be mixed; each axis is expanded in
 * batches on the kernels.
 */
export function verifySlivers(
  cfg: EncodingConfig,
  metadata: BlobMetadata,
  slivers: readonly SliverData[],
  kernel: WasmKernel = defaultKernel(),
): (SliverVerificationError | null)[] {
  const n = cfg.nShards;
  const S = cfg.symbolSize(metadata.unencodedLength);
  const result: (SliverVerificationError | null)[] = slivers.map((s) => {
    if (!Number.isInteger(s.index) || s.index < 0 || s.index >= n) {
      return new SliverVerificationError(s.axis, s.index, `index out of range 0…${n - 1}`);
    }
    if (s.symbolSize !== S) {
      return new SliverVerificationError(s.axis, s.index, `symbol size ${s.symbolSize}, expected ${S}`);
    }
    const want = sliverSymbols(cfg, s.axis) * S;
    if (s.data.length !== want) {
      return new SliverVerificationError(s.axis, s.index, `length ${s.data.length} bytes, expected ${want}`);
    }
    return null;
  });
  for (const axis of ['primary', 'secondary'] as const) {
    const idx = slivers.map((s, i) => i).filter((i) => result[i] === null && slivers[i].axis === axis);
    if (idx.length === 0) continue;
    const roots = expandSlivers(
      kernel,
      cfg,
      axis,
      idx.map((i) => slivers[i].data),
      S,
    );
    idx.forEach((i, t) => {
      const s = slivers[i];
      if (!equalBytes(roots[t], expectedSliverHash(metadata, axis, s.index))) {
        result[i] = new SliverVerificationError(axis, s.index, 'Merkle root of the expanded sliver does not match the metadata');
      }
    });
  }
  return result;
}
