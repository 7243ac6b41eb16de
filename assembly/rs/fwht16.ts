// Walsh–Hadamard transform mod 65535 over 65536 u16 values (shared/spec/reed-solomon.md §4.1) and
// the decoder's LOG_WALSH table for GF(2^16).
//
// The crate's partial reductions map onto 16-bit lanes: add_mod is one's-complement addition (add,
// then add the carry back) and sub_mod is wrapping subtraction minus the borrow, so the SIMD build
// runs 8 lanes per vector. Any full FWHT gives congruent results (the crate truncates; we do not).

import { addMod, logAt, subMod } from '../gf16/tables';

export let logWalsh16Ptr: usize = 0;

export function fwht16(data: usize): void {
  if (ASC_FEATURE_SIMD) {
    // Distances 1, 2, 4 stay inside one vector: scalar (3 of 16 layers).
    for (let dist: u32 = 1; dist < 8; dist <<= 1) layerScalar(data, dist);
    for (let dist: u32 = 8; dist < 65536; dist <<= 1) {
      const span = (<usize>dist) << 1;
      for (let r: u32 = 0; r < 65536; r += dist << 1) {
        let a = data + ((<usize>r) << 1);
        const aEnd = a + span;
        for (; a < aEnd; a += 16) {
          const x = v128.load(a);
          const y = v128.load(a + span);
          const s = i16x8.add(x, y);
          const carry = i16x8.lt_u(s, x); // −1 in lanes where the 16-bit sum wrapped
          const d = i16x8.sub(x, y);
          const borrow = i16x8.lt_u(x, y);
          v128.store(a, i16x8.sub(s, carry));
          v128.store(a + span, i16x8.add(d, borrow));
        }
      }
    }
  } else {
    for (let dist: u32 = 1; dist < 65536; dist <<= 1) layerScalar(data, dist);
  }
}

function layerScalar(data: usize, dist: u32): void {
  for (let r: u32 = 0; r < 65536; r += dist << 1) {
    for (let i: u32 = r; i < r + dist; i++) {
      const pa = data + ((<usize>i) << 1);
      const pb = pa + ((<usize>dist) << 1);
      const a = <u32>load<u16>(pa),
        b = <u32>load<u16>(pb);
      store<u16>(pa, <u16>addMod(a, b));
      store<u16>(pb, <u16>subMod(a, b));
    }
  }
}

/** Builds LOG_WALSH at `ptr` (65536 u16): LOG with entry 0 set to 0, then the FWHT (§1.5). */
export function gf16InitLogWalsh(ptr: usize): void {
  logWalsh16Ptr = ptr;
  for (let i: u32 = 0; i < 65536; i++) store<u16>(ptr + ((<usize>i) << 1), <u16>logAt(i));
  store<u16>(ptr, 0);
  fwht16(ptr);
}

/** Points the decoder at a LOG_WALSH table already present at `ptr`. */
export function gf16AttachLogWalsh(ptr: usize): void {
  logWalsh16Ptr = ptr;
}
