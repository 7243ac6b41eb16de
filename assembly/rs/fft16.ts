// Additive FFT / IFFT over an array of shards (shared/spec/reed-solomon.md §3.2).
//
// Shard i of the work array starts at `base + i·stride` and `bytes` bytes of it are processed
// (a multiple of 64; every operation is lane-wise, so a caller may run column slices of wider
// shards independently, §2). Skews come from the SKEW table; 65535 is the "times zero" sentinel.
//
// Layer order is radix-2 (naive form). The engines' fused radix-4 form is only a reordering of
// independent butterflies and gives identical bytes.

import { skewAt } from '../gf16/tables';
import { fftButterfly, ifftButterfly } from '../gf16/kernels';

/** In-place IFFT on W[pos, pos+size); only groups starting below `trunc` are touched. */
export function ifft(base: usize, stride: usize, bytes: usize, pos: u32, size: u32, trunc: u32, skewDelta: u32): void {
  for (let dist: u32 = 1; dist < size; dist <<= 1) {
    const span = <usize>dist * stride;
    for (let r: u32 = 0; r < trunc; r += dist << 1) {
      const logM = skewAt(r + dist + skewDelta - 1);
      let a = base + <usize>(pos + r) * stride;
      for (let i: u32 = 0; i < dist; i++) {
        ifftButterfly(a, a + span, bytes, logM);
        a += stride;
      }
    }
  }
}

/** In-place FFT on W[pos, pos+size); only outputs below `trunc` are valid afterwards. */
export function fft(base: usize, stride: usize, bytes: usize, pos: u32, size: u32, trunc: u32, skewDelta: u32): void {
  for (let dist: u32 = size >> 1; dist > 0; dist >>= 1) {
    const span = <usize>dist * stride;
    for (let r: u32 = 0; r < trunc; r += dist << 1) {
      const logM = skewAt(r + dist + skewDelta - 1);
      let a = base + <usize>(pos + r) * stride;
      for (let i: u32 = 0; i < dist; i++) {
        fftButterfly(a, a + span, bytes, logM);
        a += stride;
      }
    }
  }
}
