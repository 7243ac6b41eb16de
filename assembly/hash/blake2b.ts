// BLAKE2b-256 (RFC 7693, digest length 32, no key) and the Walrus Merkle tree (core/merkle.rs):
//   leaf digest  = BLAKE2b-256(0x00 || symbol)
//   inner digest = BLAKE2b-256(0x01 || left || right)
//   a level with an odd number of nodes is padded with an "Empty" node of 32 zero bytes;
//   root of one leaf = its digest; root of no leaves = 32 zero bytes.
//
// Every pointer is a byte offset into the host-owned memory; nothing here allocates. Reads never
// touch bytes outside the input ranges (no over-reads, so inputs may end at the end of memory).
// SIMD builds hash three independent messages at once where a call has three (leaves, inner nodes):
// see THREE_AT_ONCE. See blake2b-compress.ts for F.
import {
  compressSingle1, compressSingle9, compressSingle16, compressChained16,
  compress3Single1, compress3Single9, compress3Single16, leaves3Multi,
  initState,
  HA0, HA1, HA2, HA3,
} from './blake2b-compress';
import { loadSmall, msgWord, msgWord2 } from './blake2b-words';

/**
 * Whether to hash three messages at once: one with i64 arithmetic, two in the lanes of i64x2
 * vectors, their G steps interleaved (compress3*). One message's compression is a dependency chain
 * that keeps the core at ~3 ops/cycle; a second, independent chain on the vector units runs
 * beside it. V8 (Node 24) on this x64 EPYC, same process, 1280-byte messages: one scalar message
 * ~1.1 GB/s, two vector lanes ~1.0 GB/s, two scalar messages interleaved slower still (their 32 live
 * words spill), three at once ~1.5 GB/s (×1.33); one-block messages (inner nodes) ×1.24–1.35.
 */
const THREE_AT_ONCE: bool = ASC_FEATURE_SIMD;

/** 32 zero bytes: the Walrus "Empty" node. Read-only. */
const ZERO32: StaticArray<u64> = [0, 0, 0, 0];

// ---------------------------------------------------------------------------------------------
// One message, scalar.

/** BLAKE2b-256 of a message of ≤ 128 bytes (pl + len), digest at out. */
// @ts-ignore: decorator
@inline function hashSingleBlock(src: usize, len: usize, pl: usize, prefix: u64, out: usize): void {
  compressSingle16(out, <u64>(len + pl),
    msgWord(src, len, pl, prefix, 0), msgWord(src, len, pl, prefix, 8),
    msgWord(src, len, pl, prefix, 16), msgWord(src, len, pl, prefix, 24),
    msgWord(src, len, pl, prefix, 32), msgWord(src, len, pl, prefix, 40),
    msgWord(src, len, pl, prefix, 48), msgWord(src, len, pl, prefix, 56),
    msgWord(src, len, pl, prefix, 64), msgWord(src, len, pl, prefix, 72),
    msgWord(src, len, pl, prefix, 80), msgWord(src, len, pl, prefix, 88),
    msgWord(src, len, pl, prefix, 96), msgWord(src, len, pl, prefix, 104),
    msgWord(src, len, pl, prefix, 112), msgWord(src, len, pl, prefix, 120));
}

/** BLAKE2b-256 of a message of more than 128 bytes (pl + len), digest at out. */
// @ts-ignore: decorator
@inline function hashMultiBlock(src: usize, len: usize, pl: usize, prefix: u64, out: usize): void {
  const total = len + pl;
  initState();
  let o: usize = 0; // message offset of the block
  while (true) {
    const last = total - o <= 128;
    let m0: u64, m1: u64, m2: u64, m3: u64, m4: u64, m5: u64, m6: u64, m7: u64;
    let m8: u64, m9: u64, m10: u64, m11: u64, m12: u64, m13: u64, m14: u64, m15: u64;
    if (!last && (pl == 0 || o != 0)) {
      // A block entirely inside the data: plain (unaligned) loads.
      const p = src + o - pl;
      m0 = load<u64>(p); m1 = load<u64>(p, 8); m2 = load<u64>(p, 16); m3 = load<u64>(p, 24);
      m4 = load<u64>(p, 32); m5 = load<u64>(p, 40); m6 = load<u64>(p, 48); m7 = load<u64>(p, 56);
      m8 = load<u64>(p, 64); m9 = load<u64>(p, 72); m10 = load<u64>(p, 80); m11 = load<u64>(p, 88);
      m12 = load<u64>(p, 96); m13 = load<u64>(p, 104); m14 = load<u64>(p, 112); m15 = load<u64>(p, 120);
    } else {
      // The block holding the prefix, or the last (possibly partial) block.
      m0 = msgWord(src, len, pl, prefix, o); m1 = msgWord(src, len, pl, prefix, o + 8);
      m2 = msgWord(src, len, pl, prefix, o + 16); m3 = msgWord(src, len, pl, prefix, o + 24);
      m4 = msgWord(src, len, pl, prefix, o + 32); m5 = msgWord(src, len, pl, prefix, o + 40);
      m6 = msgWord(src, len, pl, prefix, o + 48); m7 = msgWord(src, len, pl, prefix, o + 56);
      m8 = msgWord(src, len, pl, prefix, o + 64); m9 = msgWord(src, len, pl, prefix, o + 72);
      m10 = msgWord(src, len, pl, prefix, o + 80); m11 = msgWord(src, len, pl, prefix, o + 88);
      m12 = msgWord(src, len, pl, prefix, o + 96); m13 = msgWord(src, len, pl, prefix, o + 104);
      m14 = msgWord(src, len, pl, prefix, o + 112); m15 = msgWord(src, len, pl, prefix, o + 120);
    }
    compressChained16(last ? <u64>total : <u64>(o + 128), last ? ~(<u64>0) : 0,
      m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15);
    if (last) break;
    o += 128;
  }
  store<u64>(out, HA0); store<u64>(out, HA1, 8); store<u64>(out, HA2, 16); store<u64>(out, HA3, 24);
}

/** Inner node: BLAKE2b-256(prefix || 32 bytes at l || 32 bytes at r) → out (may alias l or r); prefix 1 (NODE), or 0 for a 64-byte leaf. */
// @ts-ignore: decorator
@inline function hashPair(l: usize, r: usize, out: usize, prefix: u64): void {
  compressSingle9(out, 65,
    prefix | (load<u64>(l) << 8), load<u64>(l, 7), load<u64>(l, 15), load<u64>(l, 23),
    (load<u64>(l, 24) >> 56) | (load<u64>(r) << 8), load<u64>(r, 7), load<u64>(r, 15), load<u64>(r, 23),
    load<u64>(r, 24) >> 56);
}

function pairScalar(l: usize, r: usize, out: usize, prefix: u64): void {
  hashPair(l, r, out, prefix);
}

/** The prefix byte of an inner node's message. */
const NODE: u64 = 1;

/**
 * BLAKE2b-256 of `pl` zero bytes (pl = 0 or 1) followed by data[0..len), digest at out. One shared
 * (not inlined) copy serves blake2b256 and the scalar leaf paths: each inlined compression adds
 * 7–18 KB of wasm and seconds of build time.
 */
function hashMessage(src: usize, len: usize, pl: usize, out: usize): void {
  if (len + pl <= 128) hashSingleBlock(src, len, pl, 0, out);
  else hashMultiBlock(src, len, pl, 0, out);
}

/**
 * Three inner nodes at once (SIMD builds only): A from (la, ra), B from (lb, rb), C from (lc, rc).
 * Every input is read before any output is written (in-place level reductions rely on it).
 */
// @ts-ignore: decorator
@inline function hashPair3(la: usize, ra: usize, lb: usize, rb: usize, lc: usize, rc: usize, outA: usize, outB: usize, outC: usize, prefix: u64): void {
  const l0 = v128.load64_lane(lc, v128.load64_zero(lb), 1);
  const l3 = v128.load64_lane(lc + 24, v128.load64_zero(lb + 24), 1);
  const r0 = v128.load64_lane(rc, v128.load64_zero(rb), 1);
  const r3 = v128.load64_lane(rc + 24, v128.load64_zero(rb + 24), 1);
  compress3Single9(outA, outB, outC, 65,
    prefix | (load<u64>(la) << 8), load<u64>(la, 7), load<u64>(la, 15), load<u64>(la, 23),
    (load<u64>(la, 24) >> 56) | (load<u64>(ra) << 8), load<u64>(ra, 7), load<u64>(ra, 15), load<u64>(ra, 23),
    load<u64>(ra, 24) >> 56,
    v128.or(i64x2.shl(l0, 8), i64x2.splat(prefix)),
    v128.load64_lane(lc + 7, v128.load64_zero(lb + 7), 1),
    v128.load64_lane(lc + 15, v128.load64_zero(lb + 15), 1),
    v128.load64_lane(lc + 23, v128.load64_zero(lb + 23), 1),
    v128.or(i64x2.shr_u(l3, 56), i64x2.shl(r0, 8)),
    v128.load64_lane(rc + 7, v128.load64_zero(rb + 7), 1),
    v128.load64_lane(rc + 15, v128.load64_zero(rb + 15), 1),
    v128.load64_lane(rc + 23, v128.load64_zero(rb + 23), 1),
    i64x2.shr_u(r3, 56));
}

/**
 * Three parents (SIMD builds only): A from (la, ra) to outA, B, C likewise. The one compiled copy
 * of hashPair3: each copy is ~8 k lines of wasm for TurboFan to compile at start-up.
 */
function pair3(la: usize, ra: usize, lb: usize, rb: usize, lc: usize, rc: usize, outA: usize, outB: usize, outC: usize, prefix: u64): void {
  if (ASC_FEATURE_SIMD) hashPair3(la, ra, lb, rb, lc, rc, outA, outB, outC, prefix);
}

// ---------------------------------------------------------------------------------------------
// Exports.

/**
 * BLAKE2b-256 of bytes [inPtr, inPtr+len) (len may be 0), 32-byte digest to outPtr.
 * outPtr may overlap the input (the digest is written after the input is read).
 */
export function blake2b256(inPtr: usize, len: usize, outPtr: usize): void {
  hashMessage(inPtr, len, 0, outPtr);
}

function leavesTiny(src: usize, len: usize, count: usize, srcStride: usize, out: usize, outStride: usize): void {
  let k: usize = 0;
  if (THREE_AT_ONCE) {
    for (; k + 2 < count; k += 3) {
      const a = src + k * srcStride;
      const b = a + srcStride;
      const oa = out + k * outStride;
      compress3Single1(oa, oa + outStride, oa + 2 * outStride, <u64>(len + 1),
        loadSmall(a, len) << 8,
        i64x2.shl(i64x2.replace_lane(i64x2.splat(loadSmall(b, len)), 1, loadSmall(b + srcStride, len)), 8));
    }
  }
  for (; k < count; k++) {
    compressSingle1(out + k * outStride, <u64>(len + 1), loadSmall(src + k * srcStride, len) << 8);
  }
}

function leavesSingle(src: usize, len: usize, count: usize, srcStride: usize, out: usize, outStride: usize): void {
  let k: usize = 0;
  if (THREE_AT_ONCE) {
    for (; k + 2 < count; k += 3) {
      const a = src + k * srcStride;
      const b = a + srcStride;
      const c = b + srcStride;
      const oa = out + k * outStride;
      compress3Single16(oa, oa + outStride, oa + 2 * outStride, <u64>(len + 1),
        msgWord(a, len, 1, 0, 0), msgWord(a, len, 1, 0, 8),
        msgWord(a, len, 1, 0, 16), msgWord(a, len, 1, 0, 24),
        msgWord(a, len, 1, 0, 32), msgWord(a, len, 1, 0, 40),
        msgWord(a, len, 1, 0, 48), msgWord(a, len, 1, 0, 56),
        msgWord(a, len, 1, 0, 64), msgWord(a, len, 1, 0, 72),
        msgWord(a, len, 1, 0, 80), msgWord(a, len, 1, 0, 88),
        msgWord(a, len, 1, 0, 96), msgWord(a, len, 1, 0, 104),
        msgWord(a, len, 1, 0, 112), msgWord(a, len, 1, 0, 120),
        msgWord2(b, c, len, 1, 0, 0), msgWord2(b, c, len, 1, 0, 8),
        msgWord2(b, c, len, 1, 0, 16), msgWord2(b, c, len, 1, 0, 24),
        msgWord2(b, c, len, 1, 0, 32), msgWord2(b, c, len, 1, 0, 40),
        msgWord2(b, c, len, 1, 0, 48), msgWord2(b, c, len, 1, 0, 56),
        msgWord2(b, c, len, 1, 0, 64), msgWord2(b, c, len, 1, 0, 72),
        msgWord2(b, c, len, 1, 0, 80), msgWord2(b, c, len, 1, 0, 88),
        msgWord2(b, c, len, 1, 0, 96), msgWord2(b, c, len, 1, 0, 104),
        msgWord2(b, c, len, 1, 0, 112), msgWord2(b, c, len, 1, 0, 120));
    }
  }
  for (; k < count; k++) hashMessage(src + k * srcStride, len, 1, out + k * outStride);
}

/** Three leaves of the same length > 127 (SIMD builds only; one copy of the inlined loop). */
function leafMulti3(a: usize, b: usize, c: usize, len: usize, outA: usize, outB: usize, outC: usize): void {
  if (ASC_FEATURE_SIMD) leaves3Multi(a, b, c, len, outA, outB, outC);
}

function leavesMulti(src: usize, len: usize, count: usize, srcStride: usize, out: usize, outStride: usize): void {
  let k: usize = 0;
  if (THREE_AT_ONCE) {
    for (; k + 2 < count; k += 3) {
      const a = src + k * srcStride;
      const oa = out + k * outStride;
      leafMulti3(a, a + srcStride, a + 2 * srcStride, len, oa, oa + outStride, oa + 2 * outStride);
    }
  }
  for (; k < count; k++) hashMessage(src + k * srcStride, len, 1, out + k * outStride);
}

/**
 * Walrus leaf digests: for k in [0, count), the 32 bytes at outPtr + k*outStride become
 * BLAKE2b-256(0x00 || bytes [srcPtr + k*srcStride, +symbolSize)). Any symbolSize ≥ 0 works
 * (Walrus symbols are even, 2..65534). Reads only the symbols' bytes. Outputs must not overlap
 * symbols not yet hashed (outputs are written in order k = 0, 1, …, in SIMD builds three at a time).
 */
export function hashLeaves(srcPtr: usize, symbolSize: usize, count: usize, srcStride: usize, outPtr: usize, outStride: usize): void {
  if (symbolSize < 8) leavesTiny(srcPtr, symbolSize, count, srcStride, outPtr, outStride);
  else if (symbolSize < 128) leavesSingle(srcPtr, symbolSize, count, srcStride, outPtr, outStride);
  else leavesMulti(srcPtr, symbolSize, count, srcStride, outPtr, outStride);
}

/**
 * Leaf digests of 64-byte symbols: for k in [0, count), the 32 bytes at outPtr + 32k become
 * BLAKE2b-256(0x00 || 64 bytes at srcPtr + 64k) (e.g. the leaves of the tree over the n pair
 * hashes). outPtr == srcPtr is allowed. Why not hashLeaves: these are inner-node compressions with
 * another prefix byte, so they run on the inner-node code that is already compiled and hot, and
 * do not make V8 tier up (compile, ~40 ms of CPU) the 64-byte leaf kernel for the 1000 leaves of
 * an encode's last step.
 */
export function hashLeaves64(srcPtr: usize, count: usize, outPtr: usize): void {
  let k: usize = 0;
  if (THREE_AT_ONCE)
    for (; k + 2 < count; k += 3) {
      const a = srcPtr + (k << 6);
      const d = outPtr + (k << 5);
      pair3(a, a + 32, a + 64, a + 96, a + 128, a + 160, d, d + 32, d + 64, 0);
    }
  for (; k < count; k++) pairScalar(srcPtr + (k << 6), srcPtr + (k << 6) + 32, outPtr + (k << 5), 0);
}

/**
 * Inner nodes: for k in [0, count), the 32 bytes at outPtr + 32k become
 * BLAKE2b-256(0x01 || 64 bytes at srcPtr + 64k). outPtr == srcPtr is allowed (in-place level
 * reduction); otherwise the ranges must not overlap.
 */
export function hashInnerNodes(srcPtr: usize, count: usize, outPtr: usize): void {
  // 2·count nodes of 32 bytes, back to back: one even level reduction (no padding).
  reduceLevel(srcPtr, count << 1, 32, outPtr);
}

/** Parents of `count` nodes at src + i*stride → dst + 32j, the last one padded with Empty if count is odd. */
function reduceLevel(src: usize, count: usize, stride: usize, dst: usize): void {
  const pairs = count >> 1;
  const step = stride << 1;
  let j: usize = 0;
  if (THREE_AT_ONCE)
    for (; j + 2 < pairs; j += 3) {
      const a = src + j * step;
      const b = a + step;
      const c = b + step;
      const d = dst + (j << 5);
      pair3(a, a + stride, b, b + stride, c, c + stride, d, d + 32, d + 64, NODE);
    }
  for (; j < pairs; j++) {
    const a = src + j * step;
    pairScalar(a, a + stride, dst + (j << 5), NODE);
  }
  if (count & 1) pairScalar(src + (count - 1) * stride, changetype<usize>(ZERO32), dst + (pairs << 5), NODE);
}

/**
 * Walrus Merkle root of `count` leaf digests at leafHashesPtr + i*stride (32 bytes each) → 32
 * bytes at outPtr. count 0 → 32 zero bytes; count 1 → the leaf digest itself.
 * Scratch: ceil(count/2) * 32 bytes at scratchPtr (none when count ≤ 1), clobbered; it must not
 * overlap the leaves. outPtr may equal scratchPtr, and may overlap the leaves (written last).
 */
export function merkleRoot(leafHashesPtr: usize, count: usize, stride: usize, scratchPtr: usize, outPtr: usize): void {
  if (count <= 1) {
    if (count == 0) {
      store<u64>(outPtr, 0); store<u64>(outPtr, 0, 8); store<u64>(outPtr, 0, 16); store<u64>(outPtr, 0, 24);
    } else {
      memory.copy(outPtr, leafHashesPtr, 32);
    }
    return;
  }
  reduceLevel(leafHashesPtr, count, stride, scratchPtr);
  let m = (count + 1) >> 1;
  while (m > 1) {
    // In place: parent j is written at 32j after nodes 2j, 2j+1 (≥ 32j) have been read.
    reduceLevel(scratchPtr, m, 32, scratchPtr);
    m = (m + 1) >> 1;
  }
  memory.copy(outPtr, scratchPtr, 32);
}

/**
 * The node `levels` levels above an aligned block of `count` nodes (32 bytes each at
 * srcPtr + i*stride) of a Walrus Merkle tree level → 32 bytes at outPtr: the block reduced exactly
 * `levels` times, a reduction with an odd number of nodes padded with Empty as the whole level would
 * be. Pre: 1 ≤ count ≤ 2^levels; the block starts at a multiple of 2^levels in its level, and is
 * either full (count = 2^levels) or the level's last block; the tree has more than 2^levels
 * leaves (its root lies above this node). Then the result is the tree's own node, so a level's
 * blocks can be reduced separately (as they are produced) and the root taken over their nodes.
 * Scratch: ceil(count/2) * 32 bytes at scratchPtr (not overlapping the block), clobbered; outPtr
 * may equal scratchPtr.
 */
export function merkleNode(srcPtr: usize, count: usize, stride: usize, levels: u32, scratchPtr: usize, outPtr: usize): void {
  reduceLevel(srcPtr, count, stride, scratchPtr);
  let m = (count + 1) >> 1;
  for (let l: u32 = 1; l < levels; l++) {
    reduceLevel(scratchPtr, m, 32, scratchPtr);
    m = (m + 1) >> 1;
  }
  memory.copy(outPtr, scratchPtr, 32);
}

/**
 * One level of three same-shaped blocks at once (SIMD builds): the parents of `count` nodes at
 * a + i·stride → da + 32j, likewise b → db and c → dc, an odd last node padded with Empty. Every
 * parent is hashed three at a time, whatever `count` is.
 */
function reduceLevel3(a: usize, b: usize, c: usize, count: usize, stride: usize, da: usize, db: usize, dc: usize): void {
  const pairs = count >> 1;
  const step = stride << 1;
  for (let j: usize = 0; j < pairs; j++) {
    const o = j * step;
    const d = j << 5;
    pair3(a + o, a + o + stride, b + o, b + o + stride, c + o, c + o + stride, da + d, db + d, dc + d, NODE);
  }
  if (count & 1) {
    const o = (count - 1) * stride;
    const z = changetype<usize>(ZERO32);
    const d = pairs << 5;
    pair3(a + o, z, b + o, z, c + o, z, da + d, db + d, dc + d, NODE);
  }
}

/**
 * merkleNode of `blockCount` blocks of the same shape: block t's `count` nodes at
 * srcPtr + t·blockStride + i·stride, its node (`levels` levels up) to outPtr + t·outStride. Same
 * preconditions per block as merkleNode. Why: a block of 16 nodes alone leaves 6 of its 15
 * parents to the one-at-a-time path (each level's remainder after triples); three blocks in
 * lockstep hash every parent three at a time (at n = 1000, ~250 k parents of the recovery rows'
 * block nodes). Scratch: 3·ceil(count/2)·32 bytes at scratchPtr (not overlapping the blocks).
 */
export function merkleNodes(
  srcPtr: usize, count: usize, stride: usize, levels: u32, blockCount: usize, blockStride: usize,
  scratchPtr: usize, outPtr: usize, outStride: usize,
): void {
  let t: usize = 0;
  if (THREE_AT_ONCE) {
    const half = ((count + 1) >> 1) << 5;
    const sa = scratchPtr;
    const sb = sa + half;
    const sc = sb + half;
    for (; t + 2 < blockCount; t += 3) {
      const a = srcPtr + t * blockStride;
      reduceLevel3(a, a + blockStride, a + 2 * blockStride, count, stride, sa, sb, sc);
      let m = (count + 1) >> 1;
      for (let l: u32 = 1; l < levels; l++) {
        // In place, as in merkleRoot.
        reduceLevel3(sa, sb, sc, m, 32, sa, sb, sc);
        m = (m + 1) >> 1;
      }
      const o = outPtr + t * outStride;
      memory.copy(o, sa, 32);
      memory.copy(o + outStride, sb, 32);
      memory.copy(o + 2 * outStride, sc, 32);
    }
  }
  for (; t < blockCount; t++) merkleNode(srcPtr + t * blockStride, count, stride, levels, scratchPtr, outPtr + t * outStride);
}

/**
 * Many Merkle roots: for t in [0, treeCount), tree t has `count` leaf digests at
 * leafHashesPtr + t*treeStride + i*leafStride, and its root goes to outPtr + 32t.
 * Scratch: ceil(count/2) * 32 bytes at scratchPtr, as for merkleRoot. The roots must not overlap
 * leaves of trees not yet processed.
 */
export function merkleRoots(leafHashesPtr: usize, count: usize, leafStride: usize, treeCount: usize, treeStride: usize, scratchPtr: usize, outPtr: usize): void {
  for (let t: usize = 0; t < treeCount; t++) {
    merkleRoot(leafHashesPtr + t * treeStride, count, leafStride, scratchPtr, outPtr + (t << 5));
  }
}
