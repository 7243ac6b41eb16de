// Moving S-byte symbols between the RS symbol byte layout and planar RS work shards.
//
// A symbol of S bytes (S even) holds E = S/2 GF(2^16) elements in reed-solomon-simd's shard
// format: full 64-byte blocks of 32 low + 32 high bytes, then a tail of t low + t high bytes
// (t = (S mod 64)/2). A planar work shard is a dense sequence of elements in 64-byte blocks
// (32 low, 32 high), so many symbols share one shard and every element position is one
// independent codeword — which is how RedStuff encodes all rows (or columns) in one RS call.
//
// Both kernels walk a 2-D grid of symbols (a, b): symbol (a, b) lives at
// `sym + a·strideA + b·strideB` and maps to shard b (at `work + b·shardStride`), element a·E.

/**
 * Copies m ≤ 64 bytes between non-overlapping ranges without a call into memmove (V8 lowers a
 * variable-length memory.copy to a runtime call, which dominated these kernels). The last word
 * is written at m − w, overlapping the previous one: both write the same source bytes.
 */
// @ts-ignore: decorator
@inline function copyShort(dst: usize, src: usize, m: u32): void {
  if (ASC_FEATURE_SIMD && m >= 16) {
    let i: u32 = 0;
    for (; i + 16 <= m; i += 16) v128.store(dst + i, v128.load(src + i));
    if (i < m) v128.store(dst + m - 16, v128.load(src + m - 16));
  } else if (m >= 8) {
    let i: u32 = 0;
    for (; i + 8 <= m; i += 8) store<u64>(dst + i, load<u64>(src + i));
    if (i < m) store<u64>(dst + m - 8, load<u64>(src + m - 8));
  } else if (m >= 4) {
    store<u32>(dst, load<u32>(src));
    store<u32>(dst + m - 4, load<u32>(src + m - 4));
  } else if (m >= 2) {
    store<u16>(dst, load<u16>(src));
    store<u16>(dst + m - 2, load<u16>(src + m - 2));
  } else if (m == 1) {
    store<u8>(dst, load<u8>(src));
  }
}

// @ts-ignore: decorator
@inline function copyRunIn(loSrc: usize, hiSrc: usize, n: u32, shard: usize, g: u32): void {
  // n elements (lo bytes at loSrc, hi bytes at hiSrc) → planar elements g, g+1, … of `shard`.
  while (n > 0) {
    const off = g & 31;
    const m = min(n, 32 - off);
    const blk = shard + (<usize>(g >> 5) << 6) + off;
    copyShort(blk, loSrc, m);
    copyShort(blk + 32, hiSrc, m);
    loSrc += m;
    hiSrc += m;
    g += m;
    n -= m;
  }
}

// @ts-ignore: decorator
@inline function copyRunOut(shard: usize, g: u32, n: u32, loDst: usize, hiDst: usize): void {
  while (n > 0) {
    const off = g & 31;
    const m = min(n, 32 - off);
    const blk = shard + (<usize>(g >> 5) << 6) + off;
    copyShort(loDst, blk, m);
    copyShort(hiDst, blk + 32, m);
    loDst += m;
    hiDst += m;
    g += m;
    n -= m;
  }
}

/**
 * Gathers symbols (a, b), a < countA, b < countB into planar shards: shard b, elements a·E….
 * Pre: shards are large enough for countA·E elements (rounded up to 32); their padding lanes are
 * left untouched (zero them first if the RS transform must see zeros there).
 */
export function symbolsToShards(
  sym: usize, strideA: usize, strideB: usize, countA: u32, countB: u32, symbolSize: u32,
  work: usize, shardStride: usize,
): void {
  const e = symbolSize >> 1;
  const fullBlocks = symbolSize >> 6;
  const t = (symbolSize & 63) >> 1;
  const alignedFast = (symbolSize & 63) == 0;
  for (let b: u32 = 0; b < countB; b++) {
    const shard = work + <usize>b * shardStride;
    let src = sym + <usize>b * strideB;
    let g: u32 = 0;
    for (let a: u32 = 0; a < countA; a++) {
      if (alignedFast) {
        // Whole 64-byte blocks: the symbol is already planar.
        memory.copy(shard + (<usize>g << 1), src, symbolSize);
      } else {
        let s = src;
        let gg = g;
        for (let k: u32 = 0; k < fullBlocks; k++) {
          copyRunIn(s, s + 32, 32, shard, gg);
          s += 64;
          gg += 32;
        }
        if (t != 0) copyRunIn(s, s + t, t, shard, gg);
      }
      g += e;
      src += strideA;
    }
  }
}

/** Inverse of symbolsToShards: planar shard b, elements a·E… → symbol bytes at (a, b). */
export function shardsToSymbols(
  work: usize, shardStride: usize, countA: u32, countB: u32, symbolSize: u32,
  sym: usize, strideA: usize, strideB: usize,
): void {
  const e = symbolSize >> 1;
  const fullBlocks = symbolSize >> 6;
  const t = (symbolSize & 63) >> 1;
  const alignedFast = (symbolSize & 63) == 0;
  for (let b: u32 = 0; b < countB; b++) {
    const shard = work + <usize>b * shardStride;
    let dst = sym + <usize>b * strideB;
    let g: u32 = 0;
    for (let a: u32 = 0; a < countA; a++) {
      if (alignedFast) {
        memory.copy(dst, shard + (<usize>g << 1), symbolSize);
      } else {
        let d = dst;
        let gg = g;
        for (let k: u32 = 0; k < fullBlocks; k++) {
          copyRunOut(shard, gg, 32, d, d + 32);
          d += 64;
          gg += 32;
        }
        if (t != 0) copyRunOut(shard, gg, t, d, d + t);
      }
      g += e;
      dst += strideA;
    }
  }
}

/**
 * Copies symbols (a, b) of `symbolSize` bytes from `src + a·srcStrideA + b·srcStrideB` to
 * `dst + a·dstStrideA + b·dstStrideB` (a transpose when the strides swap roles).
 */
export function copySymbols(
  src: usize, srcStrideA: usize, srcStrideB: usize, countA: u32, countB: u32, symbolSize: u32,
  dst: usize, dstStrideA: usize, dstStrideB: usize,
): void {
  for (let b: u32 = 0; b < countB; b++) {
    let s = src + <usize>b * srcStrideB;
    let d = dst + <usize>b * dstStrideB;
    for (let a: u32 = 0; a < countA; a++) {
      if (symbolSize <= 64) copyShort(d, s, symbolSize);
      else memory.copy(d, s, symbolSize);
      s += srcStrideA;
      d += dstStrideA;
    }
  }
}

/**
 * Gathers symbols (a, b), a < countA, b < countB into 64-byte-aligned slots: symbol (a, b) goes to
 * shard b at byte a·slotBytes (slotBytes a multiple of 64 holding the symbol's planar form). A
 * symbol's full 64-byte blocks are planar already and are copied as they are; its tail's t low
 * bytes go to the tail block's +0 and its t high bytes to +32. The tail block's other bytes
 * (padding lanes) are left as they are: RS lanes are independent, so whatever they hold only
 * reaches padding lanes. Why: once encoded, each slot turns back into its symbol's bytes in place
 * (slotsToSymbols) and is hashed where it is, with no scatter (RS2 only; RS8 symbols are slots).
 */
export function symbolsToSlots(
  sym: usize, strideA: usize, strideB: usize, countA: u32, countB: u32, symbolSize: u32,
  work: usize, shardStride: usize, slotBytes: usize,
): void {
  const full = <usize>(symbolSize & ~63);
  const t = (symbolSize & 63) >> 1;
  for (let b: u32 = 0; b < countB; b++) {
    let dst = work + <usize>b * shardStride;
    let src = sym + <usize>b * strideB;
    for (let a: u32 = 0; a < countA; a++) {
      copyBlocks(dst, src, full);
      if (t != 0) {
        copyShort(dst + full, src + full, t);
        copyShort(dst + full + 32, src + full + t, t);
      }
      dst += slotBytes;
      src += strideA;
    }
  }
}

/**
 * In place, after an RS transform over symbolsToSlots' layout: each of the countA slots of shards
 * b < countB (shard b at work + b·shardStride, slot a at +a·slotBytes) becomes its symbol's
 * bytes (its tail's high bytes move from +32 to +t of the tail block), so slot a holds symbol a's
 * symbolSize bytes at work + b·shardStride + a·slotBytes.
 */
export function slotsToSymbols(work: usize, shardStride: usize, countA: u32, countB: u32, symbolSize: u32, slotBytes: usize): void {
  const full = <usize>(symbolSize & ~63);
  const t = (symbolSize & 63) >> 1;
  if (t == 0) return;
  for (let b: u32 = 0; b < countB; b++) {
    let tail = work + <usize>b * shardStride + full;
    for (let a: u32 = 0; a < countA; a++) {
      moveDown(tail + t, tail + 32, t);
      tail += slotBytes;
    }
  }
}

/** Copies `bytes` (a multiple of 64) from src to dst (non-overlapping), without a memmove call. */
// @ts-ignore: decorator
@inline function copyBlocks(dst: usize, src: usize, bytes: usize): void {
  for (let i: usize = 0; i < bytes; i += 64) {
    if (ASC_FEATURE_SIMD) {
      v128.store(dst + i, v128.load(src + i));
      v128.store(dst + i, v128.load(src + i, 16), 16);
      v128.store(dst + i, v128.load(src + i, 32), 32);
      v128.store(dst + i, v128.load(src + i, 48), 48);
    } else {
      for (let k: usize = 0; k < 64; k += 8) store<u64>(dst + i + k, load<u64>(src + i + k));
    }
  }
}

/** Moves m < 32 bytes down (dst < src, the ranges may overlap): every byte is read before any is written. */
// @ts-ignore: decorator
@inline function moveDown(dst: usize, src: usize, m: u32): void {
  if (m >= 16) {
    if (ASC_FEATURE_SIMD) {
      const x = v128.load(src);
      const y = v128.load(src + m - 16);
      v128.store(dst, x);
      v128.store(dst + m - 16, y);
    } else {
      const x0 = load<u64>(src), x1 = load<u64>(src, 8);
      const y0 = load<u64>(src + m - 16), y1 = load<u64>(src + m - 8);
      store<u64>(dst, x0); store<u64>(dst, x1, 8);
      store<u64>(dst + m - 16, y0); store<u64>(dst + m - 8, y1);
    }
  } else if (m >= 8) {
    const x = load<u64>(src);
    const y = load<u64>(src + m - 8);
    store<u64>(dst, x);
    store<u64>(dst + m - 8, y);
  } else if (m >= 4) {
    const x = load<u32>(src);
    const y = load<u32>(src + m - 4);
    store<u32>(dst, x);
    store<u32>(dst + m - 4, y);
  } else if (m >= 2) {
    const x = load<u16>(src);
    const y = load<u16>(src + m - 2);
    store<u16>(dst, x);
    store<u16>(dst + m - 2, y);
  } else if (m == 1) {
    store<u8>(dst, load<u8>(src));
  }
}
