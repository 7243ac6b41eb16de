/**
 * The encoder's reduced leaf storage (src/codec/leaf-layout.ts): the kernel's block nodes give the
 * Walrus tree's own nodes, and the stripe plan keeps to blocks and to the k_s boundary. The
 * encoders' byte-identity with the official one (encode-differential, stream tests) is the end to
 * end check; these pin the two pieces it rests on.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from './helpers/blobs.ts';
import { WasmKernel } from '../src/wasm/kernel.ts';
import { merkleRootOfLeafHashes } from '../src/hash/blake2b.ts';
import { leafLayout } from '../src/codec/leaf-layout.ts';
import { EncodingConfig } from '../src/codec/config.ts';

const k = new WasmKernel();

describe('kernel merkleNode', () => {
  it('the root over block nodes equals the root over all leaves (n = 3…70, 100, 1000; every block size below n)', () => {
    for (const n of [...Array.from({ length: 68 }, (_, i) => i + 3), 100, 1000]) {
      const leaves = randomBytes(n * 32, n);
      const want = merkleRootOfLeafHashes(leaves, k);
      for (let levels = 1; 2 ** levels < n; levels++) {
        const B = 2 ** levels;
        const blocks = Math.ceil(n / B);
        const mark = k.mark();
        try {
          const src = k.put(leaves);
          const nodes = k.alloc(blocks * 32);
          const scratch = k.alloc(Math.ceil(B / 2) * 32);
          for (let b = 0; b < blocks; b++) {
            k.exports.merkleNode(src + b * B * 32, Math.min(B, n - b * B), 32, levels, scratch, nodes + b * 32);
          }
          const got = merkleRootOfLeafHashes(k.u8().slice(nodes, nodes + blocks * 32), k);
          if (Buffer.compare(got, want) !== 0) throw new Error(`n = ${n}, block of ${B}: root differs`);
        } finally {
          k.release(mark);
        }
      }
    }
  });

  it('reads its block at a stride (a column of leaves)', () => {
    const n = 37;
    const stride = 5 * 32;
    const leaves = randomBytes(n * 32, 1);
    const mark = k.mark();
    try {
      const spread = k.alloc(n * stride);
      for (let i = 0; i < n; i++) k.u8().set(leaves.subarray(i * 32, i * 32 + 32), spread + i * stride);
      const nodes = k.alloc(3 * 32);
      const scratch = k.alloc(16 * 32);
      for (let b = 0; b < 3; b++)
        k.exports.merkleNode(spread + b * 16 * stride, Math.min(16, n - b * 16), stride, 4, scratch, nodes + b * 32);
      expect(Buffer.from(merkleRootOfLeafHashes(k.u8().slice(nodes, nodes + 96), k))).toEqual(
        Buffer.from(merkleRootOfLeafHashes(leaves, k)),
      );
    } finally {
      k.release(mark);
    }
  });
});

describe('kernel merkleNodes', () => {
  it("gives each block the node merkleNode gives it (1…17 nodes, 0…7 blocks, interleaved like a stripe's recovery rows)", () => {
    for (let count = 1; count <= 17; count++) {
      for (let levels = Math.max(1, Math.ceil(Math.log2(count))); levels <= 5; levels += 2) {
        for (let blockCount = 0; blockCount <= 7; blockCount++) {
          // As in a cols task: block t's node i at src + t·32 + i·stride (stride = rows of 32 bytes).
          const stride = (blockCount + 2) * 32;
          const leaves = randomBytes(count * stride, count * 131 + levels * 7 + blockCount);
          const mark = k.mark();
          try {
            const src = k.put(leaves);
            const outStride = 3 * 32;
            const got = k.alloc(Math.max(1, blockCount) * outStride);
            const want = k.alloc(Math.max(1, blockCount) * outStride);
            const scratch = k.alloc(3 * Math.ceil(count / 2) * 32);
            k.exports.merkleNodes(src, count, stride, levels, blockCount, 32, scratch, got, outStride);
            for (let t = 0; t < blockCount; t++) k.exports.merkleNode(src + t * 32, count, stride, levels, scratch, want + t * outStride);
            for (let t = 0; t < blockCount; t++) {
              const g = Buffer.from(k.u8().slice(got + t * outStride, got + t * outStride + 32));
              const w = Buffer.from(k.u8().slice(want + t * outStride, want + t * outStride + 32));
              if (!g.equals(w)) throw new Error(`count ${count}, levels ${levels}, ${blockCount} blocks: block ${t} differs`);
            }
            // The leaves are only read.
            expect(Buffer.from(k.u8().slice(src, src + leaves.length)).equals(Buffer.from(leaves))).toBe(true);
          } finally {
            k.release(mark);
          }
        }
      }
    }
  });
});

describe('leafLayout', () => {
  it('stripes cover [0, n) in order, each inside one block and on one side of k_s; partial blocks are exactly those split', () => {
    for (const n of [4, 5, 7, 10, 13, 16, 17, 31, 33, 100, 301, 1000]) {
      const cfg = new EncodingConfig(n);
      const [kP, kS] = [cfg.primarySymbols, cfg.secondarySymbols];
      for (const maxStripe of [Infinity, 16, 5, 3, 1]) {
        const L = leafLayout(n, kP, kS, maxStripe);
        expect(L.blocks).toBeGreaterThanOrEqual(2);
        let next = 0;
        const perBlock = new Map<number, number>();
        for (const { c0, w } of L.stripes) {
          expect(c0).toBe(next);
          expect(w).toBeGreaterThan(0);
          expect(w).toBeLessThanOrEqual(Math.min(L.blockSize, maxStripe));
          const b = Math.floor(c0 / L.blockSize);
          expect(Math.floor((c0 + w - 1) / L.blockSize)).toBe(b);
          expect(c0 < kS && c0 + w > kS).toBe(false);
          perBlock.set(b, (perBlock.get(b) ?? 0) + 1);
          next = c0 + w;
        }
        expect(next).toBe(n);
        expect(L.partialBlocks).toEqual([...perBlock].filter(([, c]) => c > 1).map(([b]) => b));
        if (maxStripe >= L.blockSize) expect(L.partialBlocks).toEqual(kS % L.blockSize === 0 ? [] : [Math.floor(kS / L.blockSize)]);
      }
    }
  });

  it('n = 1000: a third of the n² leaf digests kept (10.7 MB, was 32 MB)', () => {
    const L = leafLayout(1000, 334, 667);
    expect(L.leafBytes + L.rowNodeBytes + L.partialBytes).toBeLessThan(13e6);
  });
});
