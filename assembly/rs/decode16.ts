// reed-solomon-simd 3.1 erasure decoder over GF(2^16) (shared/spec/reed-solomon.md §4).
//
// Work array contract (host-owned, planar shards as for the encoder): shard at position x lives
// at base + x·stride. The host writes every received shard at its position — high rate: recovery
// j at j, original i at C + i; low rate: original i at i, recovery j at C + j — and a `received`
// byte map: received[i] (i < o) for original i, received[o + j] for recovery j (1 = present).
// The kernel zeroes the other positions up to N = rsDecodeWorkShards(o, r), computes the error
// locator, and restores every missing original in place at its position. `erasures` is host
// scratch of 65536 u16 (128 KiB). Pre: at least o shards received.

import { fft, ifft } from './fft16';
import { mulInPlace, xorInto } from '../gf16/kernels';
import { addMod, logAt, subMod } from '../gf16/tables';
import { rsUseHighRate } from './encode16';

export let logWalshPtr: usize = 0;

// @ts-ignore: decorator
@inline function nextPow2(x: u32): u32 {
  return x <= 1 ? 1 : <u32>1 << (32 - clz<u32>(x - 1));
}

/** Chunk size C of the decoder layout. */
export function rsDecodeChunk(o: u32, r: u32): u32 {
  return rsUseHighRate(o, r) ? nextPow2(r) : nextPow2(o);
}

/** Shards N the host must provide for a decode of (o, r). */
export function rsDecodeWorkShards(o: u32, r: u32): u32 {
  const c = rsDecodeChunk(o, r);
  return nextPow2(c + (rsUseHighRate(o, r) ? o : r));
}

/** Work position of original i (recovery = false) or recovery shard i (recovery = true). */
export function rsDecodePosition(o: u32, r: u32, recovery: bool, i: u32): u32 {
  const c = rsDecodeChunk(o, r);
  if (rsUseHighRate(o, r)) return recovery ? i : c + i;
  return recovery ? c + i : i;
}

/**
 * In-place Walsh–Hadamard transform mod 65535 over 65536 u16 values (§4.1), with the crate's
 * partial reductions: add_mod is one's-complement addition (add, then add the carry back);
 * sub_mod is wrapping subtraction minus the borrow. Any full FWHT gives congruent results.
 */
export function fwht(data: usize): void {
  if (ASC_FEATURE_SIMD) {
    // Distances 1, 2, 4: inside one 8-lane vector; done with scalar code on u16 (cheap: 3 of 16 layers).
    for (let dist: u32 = 1; dist < 8; dist <<= 1) fwhtLayerScalar(data, dist);
    for (let dist: u32 = 8; dist < 65536; dist <<= 1) {
      const span = <usize>dist << 1;
      for (let r: u32 = 0; r < 65536; r += dist << 1) {
        let a = data + (<usize>r << 1);
        const aEnd = a + span;
        for (; a < aEnd; a += 16) {
          const x = v128.load(a);
          const y = v128.load(a + span);
          const s = i16x8.add(x, y);
          const carry = i16x8.lt_u(s, x); // lanes of −1 where the 16-bit sum wrapped
          const d = i16x8.sub(x, y);
          const borrow = i16x8.lt_u(x, y);
          v128.store(a, i16x8.sub(s, carry));
          v128.store(a + span, i16x8.add(d, borrow));
        }
      }
    }
  } else {
    for (let dist: u32 = 1; dist < 65536; dist <<= 1) fwhtLayerScalar(data, dist);
  }
}

function fwhtLayerScalar(data: usize, dist: u32): void {
  for (let r: u32 = 0; r < 65536; r += dist << 1) {
    for (let i: u32 = r; i < r + dist; i++) {
      const pa = data + (<usize>i << 1);
      const pb = pa + (<usize>dist << 1);
      const a = <u32>load<u16>(pa), b = <u32>load<u16>(pb);
      store<u16>(pa, <u16>addMod(a, b));
      store<u16>(pb, <u16>subMod(a, b));
    }
  }
}

/** Builds LOG_WALSH at `ptr` (65536 u16): LOG with entry 0 set to 0, then FWHT (§1.5). */
export function gf16InitLogWalsh(ptr: usize): void {
  logWalshPtr = ptr;
  for (let i: u32 = 0; i < 65536; i++) store<u16>(ptr + (<usize>i << 1), <u16>logAt(i));
  store<u16>(ptr, 0);
  fwht(ptr);
}

/** Points the decoder at a LOG_WALSH table already present at `ptr`. */
export function gf16AttachLogWalsh(ptr: usize): void {
  logWalshPtr = ptr;
}

/** Formal derivative over W[0, n) in ascending order (§4.3 step 4). */
function formalDerivative(base: usize, stride: usize, bytes: usize, n: u32): void {
  for (let i: u32 = 1; i < n; i++) {
    const w = i & (0 - i); // lowest set bit
    for (let k: u32 = 0; k < w; k++) {
      xorInto(base + <usize>(i - w + k) * stride, base + <usize>(i + k) * stride, bytes);
    }
  }
}

/** Decodes in place; see the contract at the top of this file. */
export function rsDecode(base: usize, stride: usize, bytes: usize, o: u32, r: u32, received: usize, erasures: usize): void {
  const high = rsUseHighRate(o, r);
  const c = rsDecodeChunk(o, r);
  const end: u32 = c + (high ? o : r);
  const n = nextPow2(end);
  // Erasure vector E (1 = erased) over all 65536 positions.
  memory.fill(erasures, 0, 65536 * 2);
  if (high) {
    for (let j: u32 = 0; j < r; j++) if (load<u8>(received + o + j) == 0) store<u16>(erasures + (<usize>j << 1), 1);
    for (let x: u32 = r; x < c; x++) store<u16>(erasures + (<usize>x << 1), 1);
    for (let i: u32 = 0; i < o; i++) if (load<u8>(received + i) == 0) store<u16>(erasures + (<usize>(c + i) << 1), 1);
  } else {
    for (let i: u32 = 0; i < o; i++) if (load<u8>(received + i) == 0) store<u16>(erasures + (<usize>i << 1), 1);
    for (let j: u32 = 0; j < r; j++) if (load<u8>(received + o + j) == 0) store<u16>(erasures + (<usize>(c + j) << 1), 1);
    for (let x: u32 = end; x < 65536; x++) store<u16>(erasures + (<usize>x << 1), 1);
  }
  // Error locator evaluation (eval_poly): FWHT, multiply by LOG_WALSH mod 65535, FWHT.
  fwht(erasures);
  for (let x: u32 = 0; x < 65536; x++) {
    const p = erasures + (<usize>x << 1);
    const prod: u32 = <u32>load<u16>(p) * <u32>load<u16>(logWalshPtr + (<usize>x << 1));
    store<u16>(p, <u16>addMod(prod & 0xffff, prod >> 16));
  }
  fwht(erasures);
  // Scale received shards by E[x]; zero erased and padding positions.
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
    if (present) mulInPlace(shard, bytes, <u32>load<u16>(erasures + (<usize>x << 1)));
    else memory.fill(shard, 0, bytes);
  }
  ifft(base, stride, bytes, 0, n, end, 0);
  formalDerivative(base, stride, bytes, n);
  fft(base, stride, bytes, 0, n, end, 0);
  // Reveal the missing originals.
  for (let i: u32 = 0; i < o; i++) {
    if (load<u8>(received + i) != 0) continue;
    const x = high ? c + i : i;
    mulInPlace(base + <usize>x * stride, bytes, 65535 - <u32>load<u16>(erasures + (<usize>x << 1)));
  }
}
