import { describe, expect, it } from 'vitest';
import { randomBytes } from './helpers/blobs.ts';
import { blake2b } from '@noble/hashes/blake2.js';
import { WasmKernel } from '../src/wasm/kernel.ts';
import { merkleRootOfLeafHashes } from '../src/hash/blake2b.ts';
import {
  type MerkleNode,
  merklePathLength,
  merkleProof,
  merkleProofBcsLength,
  merkleProofFromBcs,
  merkleProofToBcs,
  verifyMerkleProof,
  writeMerkleProofBcs,
} from '../src/codec/merkle.ts';
import { TuskInputError } from '../src/errors.ts';

const k = new WasmKernel();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const H = (m: Uint8Array) => blake2b(m, { dkLen: 32 });
const ZERO = new Uint8Array(32);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
const refLeaf = (s: Uint8Array) => H(concat(Uint8Array.of(0), s));
const refInner = (l: Uint8Array, r: Uint8Array) => H(concat(Uint8Array.of(1), l, r));

/** Deterministic pseudo-random bytes (the shared test generator, seed scrambled). */
const bytes = (n: number, seed = 1) => randomBytes(n, Math.imul(seed, 0x9e3779b9) >>> 0 || 1);

/** `count` symbols of `size` bytes and their concatenated leaf digests (noble). */
function leaves(count: number, size: number, seed: number): { symbols: Uint8Array[]; hashes: Uint8Array } {
  const symbols = Array.from({ length: count }, (_, i) => bytes(size, seed * 100_003 + i));
  return { symbols, hashes: concat(...symbols.map(refLeaf)) };
}

/**
 * Independent reference of walrus-core `MerkleTree::build` + `get_proof` (noble hashes): levels
 * stored with their Empty padding node as `null`, the proof takes the sibling at each level.
 */
function refTree(leafDigests: Uint8Array[]): { root: Uint8Array; proof: (i: number) => MerkleNode[] } {
  const levels: MerkleNode[][] = [leafDigests];
  let level: MerkleNode[] = leafDigests;
  while (level.length > 1) {
    if (level.length % 2 === 1) level = [...level, null];
    levels[levels.length - 1] = level;
    const next: MerkleNode[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(refInner(level[i] ?? ZERO, level[i + 1] ?? ZERO));
    levels.push(next);
    level = next;
  }
  const root = leafDigests.length === 0 ? ZERO : (level[0] as Uint8Array);
  return {
    root,
    proof(i: number) {
      const path: MerkleNode[] = [];
      for (let l = 0; l + 1 < levels.length; l++, i >>= 1) path.push(levels[l][i ^ 1]);
      return path;
    },
  };
}

/** Independent reference of `MerkleAuth::verify_proof` (noble hashes). */
function refVerify(root: Uint8Array, leaf: Uint8Array, index: number, leafCount: number, proof: MerkleNode[]): boolean {
  const maxLen = leafCount <= 1 ? 0 : Math.floor(Math.log2(leafCount - 1)) + 1;
  if (proof.length > maxLen || index >> proof.length !== 0) return false;
  let cur = refLeaf(leaf);
  for (const s of proof) {
    cur = index % 2 === 0 ? refInner(cur, s ?? ZERO) : refInner(s ?? ZERO, cur);
    index >>= 1;
  }
  return hex(cur) === hex(root);
}

const nodeHex = (p: MerkleNode[]) => p.map((x) => (x === null ? 'E' : hex(x)));
const digests = (h: Uint8Array) => Array.from({ length: h.length / 32 }, (_, i) => h.subarray(32 * i, 32 * i + 32));

describe('merkleProof / verifyMerkleProof', () => {
  const counts = [...Array.from({ length: 40 }, (_, i) => i + 1), 100, 1000];

  it('every leaf of every tree (1..40, 100, 1000) has a proof that verifies against merkleRootOfLeafHashes', () => {
    for (const n of counts) {
      const { symbols, hashes } = leaves(n, 6, n);
      const root = merkleRootOfLeafHashes(hashes, k);
      for (let i = 0; i < n; i++) {
        const proof = merkleProof(hashes, n, i, k);
        expect(proof.length, `n=${n} i=${i}`).toBe(merklePathLength(n));
        expect(verifyMerkleProof(root, symbols[i], i, n, proof, k), `n=${n} i=${i}`).toBe(true);
      }
    }
  });

  it('matches an independent noble reference of get_proof node for node, Empty positions included (1..40, 100)', () => {
    for (const n of [...Array.from({ length: 40 }, (_, i) => i + 1), 100]) {
      const { symbols, hashes } = leaves(n, 4, n + 7);
      const ref = refTree(digests(hashes));
      expect(hex(merkleRootOfLeafHashes(hashes, k))).toBe(hex(ref.root));
      for (let i = 0; i < n; i++) {
        const proof = merkleProof(hashes, n, i, k);
        expect(nodeHex(proof), `n=${n} i=${i}`).toEqual(nodeHex(ref.proof(i)));
        expect(refVerify(ref.root, symbols[i], i, n, proof), `n=${n} i=${i}`).toBe(true);
      }
    }
  });

  it('puts Empty exactly where a level is odd and the node is its last one', () => {
    const { hashes } = leaves(5, 2, 1);
    // 5 leaves: level sizes 5(+E) → 3(+E) → 2 → 1.
    expect(merkleProof(hashes, 5, 4, k).map((x) => x === null)).toEqual([true, true, false]);
    expect(merkleProof(hashes, 5, 3, k).map((x) => x === null)).toEqual([false, false, false]);
    const { hashes: h7 } = leaves(7, 2, 2);
    expect(merkleProof(h7, 7, 6, k).map((x) => x === null)).toEqual([true, false, false]);
    expect(merkleProof(h7, 7, 4, k).map((x) => x === null)).toEqual([false, false, false]);
    const { hashes: h1 } = leaves(1, 2, 3);
    expect(merkleProof(h1, 1, 0, k)).toEqual([]);
  });

  it('one leaf: the root is the leaf digest and the empty proof verifies only at index 0', () => {
    const { symbols, hashes } = leaves(1, 8, 9);
    expect(verifyMerkleProof(hashes, symbols[0], 0, 1, [], k)).toBe(true);
    expect(verifyMerkleProof(hashes, symbols[0], 1, 1, [], k)).toBe(false);
    expect(verifyMerkleProof(hashes, bytes(8, 1), 0, 1, [], k)).toBe(false);
  });

  it('rejects a tampered leaf, sibling, index, root, an over-long path and a too-small leaf count', () => {
    for (const n of [2, 3, 5, 8, 13, 33, 100]) {
      const { symbols, hashes } = leaves(n, 10, n + 100);
      const root = merkleRootOfLeafHashes(hashes, k);
      for (const i of [0, 1, n >> 1, n - 2, n - 1].filter((x) => x >= 0 && x < n)) {
        const proof = merkleProof(hashes, n, i, k);
        const leaf = symbols[i];
        const ctx = `n=${n} i=${i}`;
        // Leaf.
        const bad = leaf.slice();
        bad[3] ^= 0x10;
        expect(verifyMerkleProof(root, bad, i, n, proof, k), ctx).toBe(false);
        expect(verifyMerkleProof(root, leaf.subarray(1), i, n, proof, k), ctx).toBe(false);
        // Each sibling: flip a bit of a digest; turn an Empty into a non-zero digest.
        for (let s = 0; s < proof.length; s++) {
          const p = proof.slice();
          const node = p[s];
          if (node === null) {
            p[s] = bytes(32, s + 1);
          } else {
            const c = node.slice();
            c[31] ^= 1;
            p[s] = c;
          }
          expect(verifyMerkleProof(root, leaf, i, n, p, k), `${ctx} sibling ${s}`).toBe(false);
        }
        // Index.
        for (const j of [i ^ 1, i + 1, i - 1, i + 2 ** proof.length].filter((x) => x >= 0 && x !== i)) {
          expect(verifyMerkleProof(root, leaf, j, n, proof, k), `${ctx} index ${j}`).toBe(false);
        }
        // Root.
        const r = root.slice();
        r[0] ^= 0x80;
        expect(verifyMerkleProof(r, leaf, i, n, proof, k), ctx).toBe(false);
        expect(verifyMerkleProof(null, leaf, i, n, proof, k), ctx).toBe(false);
        // Over-long path (even when the extra node would be harmless), dropped node.
        expect(verifyMerkleProof(root, leaf, i, n, [...proof, null], k), ctx).toBe(false);
        expect(verifyMerkleProof(root, leaf, i, n, [...proof, root], k), ctx).toBe(false);
        if (proof.length > 0) expect(verifyMerkleProof(root, leaf, i, n, proof.slice(0, -1), k), ctx).toBe(false);
        // A leaf count whose maximum path is shorter than the proof.
        const smaller = 2 ** (proof.length - 1);
        expect(verifyMerkleProof(root, leaf, i, smaller, proof, k), `${ctx} leafCount ${smaller}`).toBe(false);
        expect(verifyMerkleProof(root, leaf, i, 1, proof, k), ctx).toBe(false);
      }
    }
  });

  it('follows Walrus where it is lenient: larger leaf count with the same path length, Empty vs zero digest', () => {
    const { symbols, hashes } = leaves(5, 6, 77);
    const root = merkleRootOfLeafHashes(hashes, k);
    const proof = merkleProof(hashes, 5, 4, k);
    // merkle.rs checks only path.len() <= path_length(leaf_count) and leaf_index >> path.len() == 0.
    for (const count of [5, 6, 7, 8]) expect(verifyMerkleProof(root, symbols[4], 4, count, proof, k)).toBe(true);
    expect(verifyMerkleProof(root, symbols[4], 4, 9, proof, k)).toBe(true);
    expect(verifyMerkleProof(root, symbols[4], 4, 4, proof, k)).toBe(false);
    // Empty is hashed as 32 zero bytes, so a Digest of zeros in its place verifies too.
    expect(proof[0]).toBeNull();
    expect(verifyMerkleProof(root, symbols[4], 4, 5, [ZERO, ZERO, proof[2]], k)).toBe(true);
  });

  it('rejects bad arguments with TuskInputError', () => {
    const { symbols, hashes } = leaves(4, 2, 5);
    expect(() => merkleProof(hashes, 4, 4, k)).toThrow(TuskInputError);
    expect(() => merkleProof(hashes, 4, -1, k)).toThrow(TuskInputError);
    expect(() => merkleProof(hashes, 4, 1.5, k)).toThrow(TuskInputError);
    expect(() => merkleProof(hashes, 3, 0, k)).toThrow(TuskInputError);
    expect(() => merkleProof(new Uint8Array(0), 0, 0, k)).toThrow(TuskInputError);
    const root = merkleRootOfLeafHashes(hashes, k);
    const proof = merkleProof(hashes, 4, 0, k);
    expect(() => verifyMerkleProof(root, symbols[0], -1, 4, proof, k)).toThrow(TuskInputError);
    expect(() => verifyMerkleProof(root, symbols[0], 0, -4, proof, k)).toThrow(TuskInputError);
    expect(() => verifyMerkleProof(root.subarray(1), symbols[0], 0, 4, proof, k)).toThrow(TuskInputError);
    expect(() => verifyMerkleProof(root, symbols[0], 0, 4, [new Uint8Array(31), null], k)).toThrow(TuskInputError);
  });

  it('leaves the kernel allocation mark where it was', () => {
    const { symbols, hashes } = leaves(37, 6, 3);
    const before = k.mark();
    const proof = merkleProof(hashes, 37, 36, k);
    verifyMerkleProof(merkleRootOfLeafHashes(hashes, k), symbols[36], 36, 37, proof, k);
    expect(k.mark()).toBe(before);
  });

  it('merklePathLength is 0 for ≤ 1 leaf, else ceil(log2 n)', () => {
    expect([0, 1, 2, 3, 4, 5, 8, 9, 1000, 1024, 1025, 65535].map(merklePathLength)).toEqual([0, 0, 1, 2, 2, 3, 3, 4, 10, 10, 11, 16]);
  });
});

describe('MerkleProof BCS', () => {
  it('encodes Empty as 0x00 and a digest as 0x01 + 32 bytes after a ULEB128 count', () => {
    const d = bytes(32, 42);
    const enc = merkleProofToBcs([null, d]);
    expect(hex(enc)).toBe('02' + '00' + '01' + hex(d));
    expect(merkleProofBcsLength([null, d])).toBe(enc.length);
    expect(hex(merkleProofToBcs([]))).toBe('00');
  });

  it('round-trips real proofs, at an offset, with the offset after the proof', () => {
    for (const n of [1, 2, 3, 5, 7, 40, 1000]) {
      const { hashes } = leaves(n, 2, n);
      for (const i of [0, n - 1, n >> 1]) {
        const proof = merkleProof(hashes, n, i, k);
        const enc = merkleProofToBcs(proof);
        const framed = concat(Uint8Array.of(9, 9, 9), enc, Uint8Array.of(7));
        const { proof: back, next } = merkleProofFromBcs(framed, 3);
        expect(next).toBe(3 + enc.length);
        expect(nodeHex(back)).toEqual(nodeHex(proof));
        const out = new Uint8Array(enc.length + 2);
        expect(writeMerkleProofBcs(out, 2, proof)).toBe(out.length);
        expect(hex(out.subarray(2))).toBe(hex(enc));
      }
    }
  });

  it('encodes a 200-node path with a two-byte ULEB128 count', () => {
    const proof: MerkleNode[] = Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? null : bytes(32, i)));
    const enc = merkleProofToBcs(proof);
    expect(hex(enc.subarray(0, 2))).toBe('c801');
    expect(nodeHex(merkleProofFromBcs(enc).proof)).toEqual(nodeHex(proof));
  });

  it('rejects malformed input with TuskInputError', () => {
    const d = bytes(32, 1);
    const good = merkleProofToBcs([d, null]);
    const bad: [string, Uint8Array][] = [
      ['empty input', new Uint8Array(0)],
      ['unknown tag', Uint8Array.of(1, 2)],
      ['truncated digest', good.subarray(0, 20)],
      ['missing node', good.subarray(0, good.length - 1)],
      ['count larger than input', Uint8Array.of(5, 0, 0)],
      ['non-canonical ULEB128', Uint8Array.of(0x81, 0x00, 0)],
      ['truncated ULEB128', Uint8Array.of(0x80)],
    ];
    for (const [what, b] of bad) expect(() => merkleProofFromBcs(b), what).toThrow(TuskInputError);
    expect(() => merkleProofFromBcs(good, good.length + 1)).toThrow(TuskInputError);
    expect(() => merkleProofToBcs([new Uint8Array(33)])).toThrow(TuskInputError);
  });
});
