// The reed-solomon-simd 3.1 erasure decoder for any field F (shared/spec/reed-solomon.md §4).
//
// Work array contract (host-owned, shards as for the encoder): the shard at position x lives at
// base + x·stride. The host writes every received shard at its position — high rate: recovery j
// at j, original i at C + i; low rate: original i at i, recovery j at C + j (rsDecodePosition) —
// and a `received` byte map: received[i] (i < o) for original i, received[o + j] for recovery j.
// The kernel zeroes all other positions up to N = rsDecodeWorkShards(o, r), evaluates the error
// locator and restores every missing original in place at its position. `erasures` is host
// scratch of order(F) u16 values. Pre: at least o shards received.

import { fft, ifft } from './fft';
import { xorInto } from './xor';
import { nextPow2, rsUseHighRate } from './encode';

/** Chunk size C of the decoder layout. */
export function rsDecodeChunk(o: u32, r: u32): u32 {
  return rsUseHighRate(o, r) ? nextPow2(r) : nextPow2(o);
}

/** Shards N the host must provide for a decode of (o, r). */
export function rsDecodeWorkShards(o: u32, r: u32): u32 {
  return nextPow2(rsDecodeChunk(o, r) + (rsUseHighRate(o, r) ? o : r));
}

/** Work position of original i (recovery = false) or recovery shard i (recovery = true). */
export function rsDecodePosition(o: u32, r: u32, recovery: bool, i: u32): u32 {
  const c = rsDecodeChunk(o, r);
  if (rsUseHighRate(o, r)) return recovery ? i : c + i;
  return recovery ? c + i : i;
}

/** Formal derivative over W[0, n) in ascending order (§4.3 step 4). */
function formalDerivative(base: usize, stride: usize, bytes: usize, n: u32): void {
  for (let i: u32 = 1; i < n; i++) {
    const w = i & (0 - i); // lowest set bit
    for (let k: u32 = 0; k < w; k++) xorInto(base + <usize>(i - w + k) * stride, base + <usize>(i + k) * stride, bytes);
  }
}

// @ts-ignore: decorator
@inline function setErased(erasures: usize, x: u32): void {
  store<u16>(erasures + (<usize>x << 1), 1);
}

/**
 * The erasure locator of a received pattern (§4.3 steps 1–2): `erasures` (order(F) u16) ends
 * holding E[x] for every work position. It depends on (o, r, received) only, so a decode of many
 * stripes with the same shards computes it once ({@link decodeWithLocator}); at GF(2^16) it is two
 * 65536-point FWHTs and a 65536-step product, ~2.5 ms, about an eighth of a 7 KB-per-shard stripe's
 * decode at n = 1000.
 */
export function decodeLocator<F>(o: u32, r: u32, received: usize, erasures: usize): void {
  const field = changetype<F>(0);
  const order = field.order();
  const modulus = field.modulus();
  const high = rsUseHighRate(o, r);
  const c = rsDecodeChunk(o, r);
  const end: u32 = c + (high ? o : r);
  // Erasure vector E (1 = erased) over all `order` positions.
  memory.fill(erasures, 0, <usize>order << 1);
  if (high) {
    for (let j: u32 = 0; j < r; j++) if (load<u8>(received + o + j) == 0) setErased(erasures, j);
    for (let x: u32 = r; x < c; x++) setErased(erasures, x);
    for (let i: u32 = 0; i < o; i++) if (load<u8>(received + i) == 0) setErased(erasures, c + i);
  } else {
    for (let i: u32 = 0; i < o; i++) if (load<u8>(received + i) == 0) setErased(erasures, i);
    for (let j: u32 = 0; j < r; j++) if (load<u8>(received + o + j) == 0) setErased(erasures, c + j);
    for (let x: u32 = end; x < order; x++) setErased(erasures, x);
  }
  // Error locator evaluation: FWHT, multiply by LOG_WALSH mod the field modulus, FWHT.
  field.fwht(erasures);
  for (let x: u32 = 0; x < order; x++) {
    const p = erasures + (<usize>x << 1);
    const prod: u32 = <u32>load<u16>(p) * field.logWalsh(x);
    store<u16>(p, <u16>(prod % modulus));
  }
  field.fwht(erasures);
}

/**
 * Decodes in place over field F (see the contract at the top of this file) with the locator
 * {@link decodeLocator} left in `erasures` for the same (o, r, received); `erasures` is only read,
 * so concurrent stripes may share it.
 */
export function decodeWithLocator<F>(base: usize, stride: usize, bytes: usize, o: u32, r: u32, received: usize, erasures: usize): void {
  const field = changetype<F>(0);
  const modulus = field.modulus();
  const high = rsUseHighRate(o, r);
  const c = rsDecodeChunk(o, r);
  const end: u32 = c + (high ? o : r);
  const n = nextPow2(end);
  // Scale received shards by E[x]; zero erased and padding positions.
  let lastMissing: u32 = 0; // one past the highest work position of a missing original
  for (let x: u32 = 0; x < n; x++) {
    const shard = base + <usize>x * stride;
    let present = false;
    if (high) {
      if (x < r) present = load<u8>(received + o + x) != 0;
      else if (x >= c && x < end) present = load<u8>(received + (x - c)) != 0;
    } else {
      if (x < o) present = load<u8>(received + x) != 0;
      else if (x >= c && x < end) present = load<u8>(received + o + (x - c)) != 0;
    }
    if (present) field.mulInPlace(shard, bytes, <u32>load<u16>(erasures + (<usize>x << 1)));
    else memory.fill(shard, 0, bytes);
  }
  for (let i: u32 = 0; i < o; i++) if (load<u8>(received + i) == 0) lastMissing = (high ? c + i : i) + 1;
  ifft<F>(base, stride, bytes, 0, n, end, 0);
  formalDerivative(base, stride, bytes, n);
  // Only the missing originals are read back: the FFT's outputs past the last of them are not
  // computed (low rate: originals sit at the bottom, so at n = 1000 from primaries this skips
  // ~60 % of the FFT's butterflies).
  fft<F>(base, stride, bytes, 0, n, lastMissing, 0);
  // Reveal the missing originals.
  for (let i: u32 = 0; i < o; i++) {
    if (load<u8>(received + i) != 0) continue;
    const x = high ? c + i : i;
    field.mulInPlace(base + <usize>x * stride, bytes, modulus - <u32>load<u16>(erasures + (<usize>x << 1)));
  }
}

/** Decodes in place over field F; see the contract at the top of this file. */
export function decode<F>(base: usize, stride: usize, bytes: usize, o: u32, r: u32, received: usize, erasures: usize): void {
  decodeLocator<F>(o, r, received, erasures);
  decodeWithLocator<F>(base, stride, bytes, o, r, received, erasures);
}
