// Additive FFT / IFFT over an array of shards, for any field F (shared/spec/reed-solomon.md §3.2).
//
// Shard i of the work array starts at `base + i·stride`; `bytes` bytes of it are processed (a
// multiple of 64; operations are lane-wise, so column slices of wider shards may run separately).
// A skew equal to the field's modulus is the "times zero" sentinel (pure XOR butterfly).
//
// Radix-2, layer by layer. A fused radix-4 form (two layers per pass) measured ~10% slower here:
// the swizzle multiply is compute-bound, and fusing only added register pressure.

/** In-place IFFT on W[pos, pos+size); only groups starting below `trunc` run (the rest are zero). */
export function ifft<F>(base: usize, stride: usize, bytes: usize, pos: u32, size: u32, trunc: u32, skewDelta: u32): void {
  const field = changetype<F>(0);
  for (let dist: u32 = 1; dist < size; dist <<= 1) {
    const span = <usize>dist * stride;
    for (let r: u32 = 0; r < trunc; r += dist << 1) {
      const logM = field.skew(r + dist + skewDelta - 1);
      let a = base + <usize>(pos + r) * stride;
      for (let i: u32 = 0; i < dist; i++) {
        field.ifftButterfly(a, a + span, bytes, logM);
        a += stride;
      }
    }
  }
}

/** In-place FFT on W[pos, pos+size); only outputs below `trunc` are valid afterwards. */
export function fft<F>(base: usize, stride: usize, bytes: usize, pos: u32, size: u32, trunc: u32, skewDelta: u32): void {
  const field = changetype<F>(0);
  for (let dist: u32 = size >> 1; dist > 0; dist >>= 1) {
    const span = <usize>dist * stride;
    for (let r: u32 = 0; r < trunc; r += dist << 1) {
      const logM = field.skew(r + dist + skewDelta - 1);
      let a = base + <usize>(pos + r) * stride;
      for (let i: u32 = 0; i < dist; i++) {
        field.fftButterfly(a, a + span, bytes, logM);
        a += stride;
      }
    }
  }
}
