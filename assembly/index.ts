// Entry point of the Tusk kernels. Every export is a pure kernel over host-laid-out memory:
// nothing here allocates (runtime "stub", no `new` anywhere). See src/wasm/kernel.ts.
//
// Reed–Solomon runs over two fields with one algorithm (rs/field.ts): GF(2^16) for Walrus RS2
// (`rsEncode`, `rsDecode`) and GF(2^8) for Tusk RS8 (`rs8Encode`, `rs8Decode`).

import { GF16, GF8 } from './rs/field';
import { encode } from './rs/encode';
import { decode, decodeLocator, decodeWithLocator } from './rs/decode';

export { gf16Init, gf16Attach, gf16TableBytes, gf16ExpPtr, gf16LogPtr, gf16SkewPtr, gf16Mul128Ptr, gf16Mul128Row } from './gf16/tables';
export { gf8Init, gf8Attach, gf8TableBytes, gf8ExpPtr, gf8LogPtr, gf8SkewPtr } from './gf8/tables';
export { gf16InitLogWalsh, gf16AttachLogWalsh } from './rs/fwht16';
export { rsWorkShards } from './rs/encode';
export { rsDecodeWorkShards, rsDecodePosition } from './rs/decode';
export { symbolsToShards, shardsToSymbols, copySymbols, symbolsToSlots, slotsToSymbols } from './codec/layout';
export { blake2b256, hashLeaves, hashLeaves64, hashInnerNodes, merkleRoot, merkleRoots, merkleNode, merkleNodes } from './hash/blake2b';

/** First byte the host may use: everything below is the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}

/** RS encode over GF(2^16); see rs/encode.ts for the work-array contract. */
export function rsEncode(base: usize, stride: usize, bytes: usize, o: u32, r: u32): void {
  encode<GF16>(base, stride, bytes, o, r);
}

/** RS encode over GF(2^8). */
export function rs8Encode(base: usize, stride: usize, bytes: usize, o: u32, r: u32): void {
  encode<GF8>(base, stride, bytes, o, r);
}

/** RS erasure decode over GF(2^16); see rs/decode.ts. `erasures`: 65536 u16 of scratch. */
export function rsDecode(base: usize, stride: usize, bytes: usize, o: u32, r: u32, received: usize, erasures: usize): void {
  decode<GF16>(base, stride, bytes, o, r, received, erasures);
}

/** The erasure locator of a received pattern over GF(2^16) into `erasures` (65536 u16); see rs/decode.ts. */
export function rsDecodeLocator(o: u32, r: u32, received: usize, erasures: usize): void {
  decodeLocator<GF16>(o, r, received, erasures);
}

/** RS erasure decode over GF(2^16) with a locator from rsDecodeLocator (only read). */
export function rsDecodeWithLocator(base: usize, stride: usize, bytes: usize, o: u32, r: u32, received: usize, erasures: usize): void {
  decodeWithLocator<GF16>(base, stride, bytes, o, r, received, erasures);
}

/** The erasure locator over GF(2^8) into `erasures` (256 u16). */
export function rs8DecodeLocator(o: u32, r: u32, received: usize, erasures: usize): void {
  decodeLocator<GF8>(o, r, received, erasures);
}

/** RS erasure decode over GF(2^8) with a locator from rs8DecodeLocator (only read). */
export function rs8DecodeWithLocator(base: usize, stride: usize, bytes: usize, o: u32, r: u32, received: usize, erasures: usize): void {
  decodeWithLocator<GF8>(base, stride, bytes, o, r, received, erasures);
}

/** RS erasure decode over GF(2^8). `erasures`: 256 u16 of scratch. */
export function rs8Decode(base: usize, stride: usize, bytes: usize, o: u32, r: u32, received: usize, erasures: usize): void {
  decode<GF8>(base, stride, bytes, o, r, received, erasures);
}
