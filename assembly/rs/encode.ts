// The reed-solomon-simd 3.1 encoders for any field F: rate rule, high rate, low rate
// (shared/spec/reed-solomon.md §3.1, §3.3, §3.4). Over GF(2^16) the bytes are the crate's; over
// GF(2^8) the high rate is Leopard's FF8 encoder and the low rate its mirror (Leopard has none).
//
// Work array contract (host-owned): shard i at base + i·stride, `bytes` bytes processed (multiple
// of 64). Before: originals in W[0, o). After: recovery shard j in W[j], j < r. The host reserves
// rsWorkShards(o, r) shards; everything past W[o) is scratch.

import { fft, ifft } from './fft';
import { xorInto } from './xor';

// @ts-ignore: decorator
@inline export function nextPow2(x: u32): u32 {
  return x <= 1 ? 1 : <u32>1 << (32 - clz<u32>(x - 1));
}

/** The crate's default rate rule: true = high rate. */
export function rsUseHighRate(o: u32, r: u32): bool {
  const po = nextPow2(o), pr = nextPow2(r);
  if (po != pr) return po > pr;
  return o <= r;
}

/** Shards the host must provide for an encode of (o, r) (either field). */
export function rsWorkShards(o: u32, r: u32): u32 {
  if (rsUseHighRate(o, r)) {
    const c = nextPow2(r);
    return ((o + c - 1) / c) * c;
  }
  const c = nextPow2(o);
  return max(c, ((r + c - 1) / c) * c);
}

/** Encodes in place over field F; see the work array contract above. Pre: counts supported. */
export function encode<F>(base: usize, stride: usize, bytes: usize, o: u32, r: u32): void {
  if (rsUseHighRate(o, r)) encodeHigh<F>(base, stride, bytes, o, r);
  else encodeLow<F>(base, stride, bytes, o, r);
}

function zeroShards(base: usize, stride: usize, bytes: usize, from: u32, to: u32): void {
  for (let i = from; i < to; i++) memory.fill(base + <usize>i * stride, 0, bytes);
}

function encodeHigh<F>(base: usize, stride: usize, bytes: usize, o: u32, r: u32): void {
  const c = nextPow2(r);
  const total = ((o + c - 1) / c) * c;
  zeroShards(base, stride, bytes, o, total);
  ifft<F>(base, stride, bytes, 0, c, min(o, c), c);
  for (let p: u32 = c; p < o; p += c) {
    ifft<F>(base, stride, bytes, p, c, min(c, o - p), p + c);
    for (let i: u32 = 0; i < c; i++) xorInto(base + <usize>i * stride, base + <usize>(p + i) * stride, bytes);
  }
  fft<F>(base, stride, bytes, 0, c, r, 0);
}

function encodeLow<F>(base: usize, stride: usize, bytes: usize, o: u32, r: u32): void {
  const c = nextPow2(o);
  zeroShards(base, stride, bytes, o, c);
  ifft<F>(base, stride, bytes, 0, c, o, 0);
  for (let p: u32 = c; p < r; p += c) {
    for (let i: u32 = 0; i < c; i++) memory.copy(base + <usize>(p + i) * stride, base + <usize>i * stride, bytes);
  }
  for (let p: u32 = 0; p < r; p += c) fft<F>(base, stride, bytes, p, c, min(c, r - p), p + c);
}
