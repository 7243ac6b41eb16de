/** Test helpers: deterministic data, sliver selection, and deliberately inconsistent encodings. */
import { EncodingConfig } from '../../src/codec/config.ts';
import type { EncodedBlob } from '../../src/codec/encode.ts';
import { BlobMetadata, BlobMetadataWithId } from '../../src/codec/metadata.ts';
import { SliverData } from '../../src/codec/sliver.ts';
import { deriveBlobId } from '../../src/codec/blob-id.ts';
import { expandSlivers } from '../../src/codec/expand.ts';
import { metadataRootHash } from '../../src/codec/verify.ts';
import { defaultKernel } from '../../src/wasm/kernel.ts';

/** Deterministic pseudo-random bytes (xorshift32). */
export function randomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** A deterministic PRNG returning unsigned 32-bit integers. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** `count` distinct indices from [0, n), shuffled. */
export function pick(n: number, count: number, next: () => number): number[] {
  const ids = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = next() % (i + 1);
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  return ids.slice(0, count);
}

/** A copy of a sliver with one bit flipped in its data. */
export function flipBit(s: SliverData, byte = 0, bit = 0): SliverData {
  const data = s.data.slice();
  data[byte] ^= 1 << bit;
  return SliverData.create(s.axis, data, s.symbolSize, s.index);
}

/**
 * An inconsistent encoding: primary sliver `index` is altered (one byte) and the metadata and
 * blob ID are recomputed so that every sliver still verifies on its own — as a faulty or
 * malicious writer would produce.
 */
export function inconsistentEncoding(blob: EncodedBlob, index: number): { metadata: BlobMetadataWithId; primary: SliverData[] } {
  const cfg = new EncodingConfig(blob.nShards, blob.encoding);
  const altered = flipBit(blob.primarySlivers[index], 0, 3);
  const [root] = expandSlivers(defaultKernel(), cfg, 'primary', [altered.data], blob.symbolSize);
  const hashes = blob.metadata.hashes.map((h, i) => (i === index ? { primary: root, secondary: h.secondary } : h));
  const metadata = new BlobMetadata(blob.metadata.encodingType, blob.unencodedLength, hashes);
  const blobId = deriveBlobId(metadata.encodingType, metadata.unencodedLength, metadataRootHash(metadata));
  const primary = blob.primarySlivers.map((s, i) => (i === index ? altered : s));
  return { metadata: new BlobMetadataWithId(blobId, metadata), primary };
}
