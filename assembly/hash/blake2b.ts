// BLAKE2b-256 (RFC 7693, digest length 32, no key) and the Walrus Merkle tree (core/merkle.rs):
//   leaf digest  = BLAKE2b-256(0x00 || symbol)
//   inner digest = BLAKE2b-256(0x01 || left || right)
//   a level with an odd number of nodes is padded with an "Empty" node of 32 zero bytes;
//   root of one leaf = its digest; root of no leaves = 32 zero bytes.
//
// Every pointer is a byte offset into the host-owned memory; nothing here allocates. Reads never
// touch bytes outside the input ranges (no over-reads, so inputs may end at the end of memory).
// The two-lane paths hash two independent messages per i64x2 vector (lanes = two leaves, two inner
// nodes; an odd leftover goes through the scalar i64 path) — see SIMD_HASH_LANES for why they are
// off. See blake2b-compress.ts for F.
import {
  compressSingle1, compressSingle9, compressSingle16, compressChained16,
  compress2xSingle1, compress2xSingle9, compress2xSingle16, compress2xChained16,
  initState,
  HA0, HA1, HA2, HA3, HB0, HB1, HB2, HB3,
} from './blake2b-compress';

/**
 * Whether SIMD builds hash two messages per i64x2 vector. Off: in V8 (Node 24, x64 EPYC) the
 * scalar i64 compression is faster at every size the codec hashes — `node bench/blake2b.ts`,
 * min of repeated calls, 2026-12-04: leaves S=6 9.72 vs 10.45 M/s, S=302 732 vs 785 MB/s,
 * S=1206 910 vs 966 MB/s, inner nodes 8.01 vs 9.03 M/s (SIMD vs scalar). x64 has no 64-bit
 * vector rotate below AVX-512 (ror24/ror63 cost three instructions each, against one `ror`) and
 * 16 state + 16 message vectors do not fit 16 xmm registers. Kept compiled-out, not deleted, for
 * engines where the balance differs (tests then run both paths).
 */
const SIMD_HASH_LANES: bool = false;

/** 32 zero bytes: the Walrus "Empty" node. Read-only. */
const ZERO32: StaticArray<u64> = [0, 0, 0, 0];

// ---------------------------------------------------------------------------------------------
// Message words. A message is `pl` prefix bytes (pl = 0, or pl = 1 with byte value `prefix`)
// followed by data[0..len). Word at message offset o (a multiple of 8) is message bytes
// [o, o+8) little-endian, zero past the end of the message.

/** n < 8 bytes at p, little-endian, zero-extended; reads exactly [p, p+n). */
// @ts-ignore: decorator
@inline function loadSmall(p: usize, n: usize): u64 {
  let v: u64 = 0;
  if (n & 4) v = <u64>load<u32>(p);
  if (n & 2) v |= <u64>load<u16>(p + (n & 4)) << (<u64>(n & 4) << 3);
  if (n & 1) v |= <u64>load<u8>(p + (n & 6)) << (<u64>(n & 6) << 3);
  return v;
}

/** data[s..len) as a word, for 0 < len - s < 8; reads only inside data[0..len). */
// @ts-ignore: decorator
@inline function loadTail(src: usize, s: usize, len: usize): u64 {
  const n = len - s;
  if (len >= 8) return load<u64>(src + len - 8) >> (<u64>(8 - n) << 3);
  return loadSmall(src + s, n);
}

/** Message word at message offset o (see above). */
// @ts-ignore: decorator
@inline function msgWord(src: usize, len: usize, pl: usize, prefix: u64, o: usize): u64 {
  if (pl != 0 && o == 0) {
    // prefix byte, then data[0..min(len, 7)).
    const head = len >= 8 ? load<u64>(src) & 0x00ffffffffffffff : loadSmall(src, len < 7 ? len : 7);
    return prefix | (head << 8);
  }
  const s = o - pl;
  if (s + 8 <= len) return load<u64>(src + s);
  if (s >= len) return 0;
  return loadTail(src, s, len);
}

/** Word at offset o of two messages with the same length, as (lane 0, lane 1). */
// @ts-ignore: decorator
@inline function msgWord2(a: usize, b: usize, len: usize, pl: usize, prefix: u64, o: usize): v128 {
  const s = o - pl;
  if ((pl == 0 || o != 0) && s + 8 <= len) return v128.load64_lane(b + s, v128.load64_zero(a + s), 1);
  return i64x2.replace_lane(i64x2.splat(msgWord(a, len, pl, prefix, o)), 1, msgWord(b, len, pl, prefix, o));
}

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

/** Inner node: BLAKE2b-256(0x01 || 32 bytes at l || 32 bytes at r) → out (may alias l or r). */
// @ts-ignore: decorator
@inline function hashPair(l: usize, r: usize, out: usize): void {
  compressSingle9(out, 65,
    1 | (load<u64>(l) << 8), load<u64>(l, 7), load<u64>(l, 15), load<u64>(l, 23),
    (load<u64>(l, 24) >> 56) | (load<u64>(r) << 8), load<u64>(r, 7), load<u64>(r, 15), load<u64>(r, 23),
    load<u64>(r, 24) >> 56);
}

function pairScalar(l: usize, r: usize, out: usize): void {
  hashPair(l, r, out);
}

/**
 * BLAKE2b-256 of `pl` zero bytes (pl = 0 or 1) followed by data[0..len), digest at out. One shared
 * (not inlined) copy serves blake2b256 and the scalar leaf paths: each inlined compression adds
 * 7–18 KB of wasm and seconds of build time.
 */
function hashMessage(src: usize, len: usize, pl: usize, out: usize): void {
  if (len + pl <= 128) hashSingleBlock(src, len, pl, 0, out);
  else hashMultiBlock(src, len, pl, 0, out);
}

/** Two inner nodes at once (SIMD builds only). Both inputs are read before either output is written. */
// @ts-ignore: decorator
@inline function hashPair2(la: usize, ra: usize, lb: usize, rb: usize, outA: usize, outB: usize): void {
  const l0 = v128.load64_lane(lb, v128.load64_zero(la), 1);
  const l3 = v128.load64_lane(lb + 24, v128.load64_zero(la + 24), 1);
  const r0 = v128.load64_lane(rb, v128.load64_zero(ra), 1);
  const r3 = v128.load64_lane(rb + 24, v128.load64_zero(ra + 24), 1);
  compress2xSingle9(outA, outB, 65,
    v128.or(i64x2.shl(l0, 8), i64x2.splat(1)),
    v128.load64_lane(lb + 7, v128.load64_zero(la + 7), 1),
    v128.load64_lane(lb + 15, v128.load64_zero(la + 15), 1),
    v128.load64_lane(lb + 23, v128.load64_zero(la + 23), 1),
    v128.or(i64x2.shr_u(l3, 56), i64x2.shl(r0, 8)),
    v128.load64_lane(rb + 7, v128.load64_zero(ra + 7), 1),
    v128.load64_lane(rb + 15, v128.load64_zero(ra + 15), 1),
    v128.load64_lane(rb + 23, v128.load64_zero(ra + 23), 1),
    i64x2.shr_u(r3, 56));
}

function pairSimd(la: usize, ra: usize, lb: usize, rb: usize, outA: usize, outB: usize): void {
  if (ASC_FEATURE_SIMD) hashPair2(la, ra, lb, rb, outA, outB);
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
  if (SIMD_HASH_LANES) {
    for (; k + 1 < count; k += 2) {
      const a = src + k * srcStride;
      const b = a + srcStride;
      const oa = out + k * outStride;
      compress2xSingle1(oa, oa + outStride, <u64>(len + 1),
        i64x2.shl(i64x2.replace_lane(i64x2.splat(loadSmall(a, len)), 1, loadSmall(b, len)), 8));
    }
  }
  for (; k < count; k++) {
    compressSingle1(out + k * outStride, <u64>(len + 1), loadSmall(src + k * srcStride, len) << 8);
  }
}

function leavesSingle(src: usize, len: usize, count: usize, srcStride: usize, out: usize, outStride: usize): void {
  let k: usize = 0;
  if (SIMD_HASH_LANES) {
    for (; k + 1 < count; k += 2) {
      const a = src + k * srcStride;
      const b = a + srcStride;
      const oa = out + k * outStride;
      compress2xSingle16(oa, oa + outStride, <u64>(len + 1),
        msgWord2(a, b, len, 1, 0, 0), msgWord2(a, b, len, 1, 0, 8),
        msgWord2(a, b, len, 1, 0, 16), msgWord2(a, b, len, 1, 0, 24),
        msgWord2(a, b, len, 1, 0, 32), msgWord2(a, b, len, 1, 0, 40),
        msgWord2(a, b, len, 1, 0, 48), msgWord2(a, b, len, 1, 0, 56),
        msgWord2(a, b, len, 1, 0, 64), msgWord2(a, b, len, 1, 0, 72),
        msgWord2(a, b, len, 1, 0, 80), msgWord2(a, b, len, 1, 0, 88),
        msgWord2(a, b, len, 1, 0, 96), msgWord2(a, b, len, 1, 0, 104),
        msgWord2(a, b, len, 1, 0, 112), msgWord2(a, b, len, 1, 0, 120));
    }
  }
  for (; k < count; k++) hashMessage(src + k * srcStride, len, 1, out + k * outStride);
}

/** Two leaves of the same length > 127 in lock-step (SIMD builds only). */
// @ts-ignore: decorator
@inline function leafMulti2(a: usize, b: usize, len: usize, outA: usize, outB: usize): void {
  const total = len + 1;
  initState();
  let o: usize = 0;
  while (true) {
    const last = total - o <= 128;
    let m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128, m6: v128, m7: v128;
    let m8: v128, m9: v128, m10: v128, m11: v128, m12: v128, m13: v128, m14: v128, m15: v128;
    if (!last && o != 0) {
      const pa = a + o - 1;
      const pb = b + o - 1;
      m0 = v128.load64_lane(pb, v128.load64_zero(pa), 1);
      m1 = v128.load64_lane(pb + 8, v128.load64_zero(pa + 8), 1);
      m2 = v128.load64_lane(pb + 16, v128.load64_zero(pa + 16), 1);
      m3 = v128.load64_lane(pb + 24, v128.load64_zero(pa + 24), 1);
      m4 = v128.load64_lane(pb + 32, v128.load64_zero(pa + 32), 1);
      m5 = v128.load64_lane(pb + 40, v128.load64_zero(pa + 40), 1);
      m6 = v128.load64_lane(pb + 48, v128.load64_zero(pa + 48), 1);
      m7 = v128.load64_lane(pb + 56, v128.load64_zero(pa + 56), 1);
      m8 = v128.load64_lane(pb + 64, v128.load64_zero(pa + 64), 1);
      m9 = v128.load64_lane(pb + 72, v128.load64_zero(pa + 72), 1);
      m10 = v128.load64_lane(pb + 80, v128.load64_zero(pa + 80), 1);
      m11 = v128.load64_lane(pb + 88, v128.load64_zero(pa + 88), 1);
      m12 = v128.load64_lane(pb + 96, v128.load64_zero(pa + 96), 1);
      m13 = v128.load64_lane(pb + 104, v128.load64_zero(pa + 104), 1);
      m14 = v128.load64_lane(pb + 112, v128.load64_zero(pa + 112), 1);
      m15 = v128.load64_lane(pb + 120, v128.load64_zero(pa + 120), 1);
    } else {
      m0 = msgWord2(a, b, len, 1, 0, o); m1 = msgWord2(a, b, len, 1, 0, o + 8);
      m2 = msgWord2(a, b, len, 1, 0, o + 16); m3 = msgWord2(a, b, len, 1, 0, o + 24);
      m4 = msgWord2(a, b, len, 1, 0, o + 32); m5 = msgWord2(a, b, len, 1, 0, o + 40);
      m6 = msgWord2(a, b, len, 1, 0, o + 48); m7 = msgWord2(a, b, len, 1, 0, o + 56);
      m8 = msgWord2(a, b, len, 1, 0, o + 64); m9 = msgWord2(a, b, len, 1, 0, o + 72);
      m10 = msgWord2(a, b, len, 1, 0, o + 80); m11 = msgWord2(a, b, len, 1, 0, o + 88);
      m12 = msgWord2(a, b, len, 1, 0, o + 96); m13 = msgWord2(a, b, len, 1, 0, o + 104);
      m14 = msgWord2(a, b, len, 1, 0, o + 112); m15 = msgWord2(a, b, len, 1, 0, o + 120);
    }
    compress2xChained16(last ? <u64>total : <u64>(o + 128), last ? ~(<u64>0) : 0,
      m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15);
    if (last) break;
    o += 128;
  }
  store<u64>(outA, HA0); store<u64>(outA, HA1, 8); store<u64>(outA, HA2, 16); store<u64>(outA, HA3, 24);
  store<u64>(outB, HB0); store<u64>(outB, HB1, 8); store<u64>(outB, HB2, 16); store<u64>(outB, HB3, 24);
}

function leavesMulti(src: usize, len: usize, count: usize, srcStride: usize, out: usize, outStride: usize): void {
  let k: usize = 0;
  if (SIMD_HASH_LANES) {
    for (; k + 1 < count; k += 2) {
      const a = src + k * srcStride;
      const oa = out + k * outStride;
      leafMulti2(a, a + srcStride, len, oa, oa + outStride);
    }
  }
  for (; k < count; k++) hashMessage(src + k * srcStride, len, 1, out + k * outStride);
}

/**
 * Walrus leaf digests: for k in [0, count), the 32 bytes at outPtr + k*outStride become
 * BLAKE2b-256(0x00 || bytes [srcPtr + k*srcStride, +symbolSize)). Any symbolSize ≥ 0 works
 * (Walrus symbols are even, 2..65534). Reads only the symbols' bytes. Outputs must not overlap
 * symbols not yet hashed (outputs are written in order k = 0, 1, …, in SIMD builds two at a time).
 */
export function hashLeaves(srcPtr: usize, symbolSize: usize, count: usize, srcStride: usize, outPtr: usize, outStride: usize): void {
  if (symbolSize < 8) leavesTiny(srcPtr, symbolSize, count, srcStride, outPtr, outStride);
  else if (symbolSize < 128) leavesSingle(srcPtr, symbolSize, count, srcStride, outPtr, outStride);
  else leavesMulti(srcPtr, symbolSize, count, srcStride, outPtr, outStride);
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
  if (SIMD_HASH_LANES) {
    for (; j + 1 < pairs; j += 2) {
      const a = src + j * step;
      const b = a + step;
      pairSimd(a, a + stride, b, b + stride, dst + (j << 5), dst + (j << 5) + 32);
    }
  }
  for (; j < pairs; j++) {
    const a = src + j * step;
    pairScalar(a, a + stride, dst + (j << 5));
  }
  if (count & 1) pairScalar(src + (count - 1) * stride, changetype<usize>(ZERO32), dst + (pairs << 5));
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
