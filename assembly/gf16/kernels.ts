// GF(2^16) arithmetic kernels over shards in the 64-byte "planar" block layout
// (shared/spec/reed-solomon.md §2, §5): each 64-byte block holds 32 elements, low bytes in
// bytes 0…31 and high bytes in bytes 32…63. Lengths are multiples of 64.
//
// The SIMD build multiplies with i8x16.swizzle over the Mul128 nibble tables (§5.2–§5.3): 8
// lookups per 16 elements. The scalar build uses LOG/EXP directly (2 lookups per element), which
// beats 8 byte-table lookups per element without vector shuffles.

import { mul, mul128Row } from './tables';
import { xorInto } from '../rs/xor';

/**
 * Table lookup of 16 nibbles (indices 0…15). With relaxed SIMD, `relaxed_swizzle`: its result is
 * only implementation-defined for indices ≥ 16, which never occur here, and on x64 it is a bare
 * `pshufb` where `swizzle` first saturates the indices (an extra `paddusb` per lookup).
 */
// @ts-ignore: decorator
@inline export function lookup16(t: v128, idx: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i8x16.relaxed_swizzle(t, idx);
  return i8x16.swizzle(t, idx);
}

// @ts-ignore: decorator
@inline function nibbleProduct(t0: v128, t1: v128, t2: v128, t3: v128, n0: v128, n1: v128, n2: v128, n3: v128): v128 {
  return v128.xor(v128.xor(lookup16(t0, n0), lookup16(t1, n1)), v128.xor(lookup16(t2, n2), lookup16(t3, n3)));
}

/** x = x · m (m given as log, no sentinel: 65535 means one) over `bytes` bytes. */
export function mulInPlace(x: usize, bytes: usize, logM: u32): void {
  const end = x + bytes;
  if (ASC_FEATURE_SIMD) {
    const t = mul128Row(logM);
    const lo0 = v128.load(t), lo1 = v128.load(t, 16), lo2 = v128.load(t, 32), lo3 = v128.load(t, 48);
    const hi0 = v128.load(t, 64), hi1 = v128.load(t, 80), hi2 = v128.load(t, 96), hi3 = v128.load(t, 112);
    const mask = i8x16.splat(0x0f);
    while (x < end) {
      for (let k: usize = 0; k < 32; k += 16) {
        const l = v128.load(x + k);
        const h = v128.load(x + k + 32);
        const n0 = v128.and(l, mask);
        const n1 = i8x16.shr_u(l, 4);
        const n2 = v128.and(h, mask);
        const n3 = i8x16.shr_u(h, 4);
        v128.store(x + k, nibbleProduct(lo0, lo1, lo2, lo3, n0, n1, n2, n3));
        v128.store(x + k + 32, nibbleProduct(hi0, hi1, hi2, hi3, n0, n1, n2, n3));
      }
      x += 64;
    }
  } else {
    while (x < end) {
      for (let k: usize = 0; k < 32; k++) {
        const v = <u32>load<u8>(x + k) | (<u32>load<u8>(x + k + 32) << 8);
        const p = mul(v, logM);
        store<u8>(x + k, <u8>p);
        store<u8>(x + k + 32, <u8>(p >> 8));
      }
      x += 64;
    }
  }
}

/**
 * FFT butterfly on two shards (§3.2): if m ≠ 65535 { x ^= y·m }; then y ^= x.
 * One pass over memory: both updates happen while the block is in registers.
 */
export function fftButterfly(x: usize, y: usize, bytes: usize, logM: u32): void {
  if (logM == 65535) {
    xorInto(y, x, bytes);
    return;
  }
  const end = x + bytes;
  if (ASC_FEATURE_SIMD) {
    const t = mul128Row(logM);
    const lo0 = v128.load(t), lo1 = v128.load(t, 16), lo2 = v128.load(t, 32), lo3 = v128.load(t, 48);
    const hi0 = v128.load(t, 64), hi1 = v128.load(t, 80), hi2 = v128.load(t, 96), hi3 = v128.load(t, 112);
    const mask = i8x16.splat(0x0f);
    while (x < end) {
      for (let k: usize = 0; k < 32; k += 16) {
        const l = v128.load(y + k);
        const h = v128.load(y + k + 32);
        const n0 = v128.and(l, mask), n1 = i8x16.shr_u(l, 4);
        const n2 = v128.and(h, mask), n3 = i8x16.shr_u(h, 4);
        const xl = v128.xor(v128.load(x + k), nibbleProduct(lo0, lo1, lo2, lo3, n0, n1, n2, n3));
        const xh = v128.xor(v128.load(x + k + 32), nibbleProduct(hi0, hi1, hi2, hi3, n0, n1, n2, n3));
        v128.store(x + k, xl);
        v128.store(x + k + 32, xh);
        v128.store(y + k, v128.xor(l, xl));
        v128.store(y + k + 32, v128.xor(h, xh));
      }
      x += 64;
      y += 64;
    }
  } else {
    while (x < end) {
      for (let k: usize = 0; k < 32; k++) {
        const b = <u32>load<u8>(y + k) | (<u32>load<u8>(y + k + 32) << 8);
        const a = (<u32>load<u8>(x + k) | (<u32>load<u8>(x + k + 32) << 8)) ^ mul(b, logM);
        store<u8>(x + k, <u8>a);
        store<u8>(x + k + 32, <u8>(a >> 8));
        store<u8>(y + k, <u8>(a ^ b));
        store<u8>(y + k + 32, <u8>((a ^ b) >> 8));
      }
      x += 64;
      y += 64;
    }
  }
}

/** IFFT butterfly on two shards (§3.2): y ^= x; then if m ≠ 65535 { x ^= y·m }. */
export function ifftButterfly(x: usize, y: usize, bytes: usize, logM: u32): void {
  if (logM == 65535) {
    xorInto(y, x, bytes);
    return;
  }
  const end = x + bytes;
  if (ASC_FEATURE_SIMD) {
    const t = mul128Row(logM);
    const lo0 = v128.load(t), lo1 = v128.load(t, 16), lo2 = v128.load(t, 32), lo3 = v128.load(t, 48);
    const hi0 = v128.load(t, 64), hi1 = v128.load(t, 80), hi2 = v128.load(t, 96), hi3 = v128.load(t, 112);
    const mask = i8x16.splat(0x0f);
    while (x < end) {
      for (let k: usize = 0; k < 32; k += 16) {
        const xl = v128.load(x + k);
        const xh = v128.load(x + k + 32);
        const l = v128.xor(v128.load(y + k), xl);
        const h = v128.xor(v128.load(y + k + 32), xh);
        v128.store(y + k, l);
        v128.store(y + k + 32, h);
        const n0 = v128.and(l, mask), n1 = i8x16.shr_u(l, 4);
        const n2 = v128.and(h, mask), n3 = i8x16.shr_u(h, 4);
        v128.store(x + k, v128.xor(xl, nibbleProduct(lo0, lo1, lo2, lo3, n0, n1, n2, n3)));
        v128.store(x + k + 32, v128.xor(xh, nibbleProduct(hi0, hi1, hi2, hi3, n0, n1, n2, n3)));
      }
      x += 64;
      y += 64;
    }
  } else {
    while (x < end) {
      for (let k: usize = 0; k < 32; k++) {
        const a = <u32>load<u8>(x + k) | (<u32>load<u8>(x + k + 32) << 8);
        const b = (<u32>load<u8>(y + k) | (<u32>load<u8>(y + k + 32) << 8)) ^ a;
        store<u8>(y + k, <u8>b);
        store<u8>(y + k + 32, <u8>(b >> 8));
        const a2 = a ^ mul(b, logM);
        store<u8>(x + k, <u8>a2);
        store<u8>(x + k + 32, <u8>(a2 >> 8));
      }
      x += 64;
      y += 64;
    }
  }
}
