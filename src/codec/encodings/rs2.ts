/**
 * RS2 — Walrus's encoding: RedStuff over GF(2^16) with reed-solomon-simd 3.1's code. Symbols are
 * even-sized (S/2 elements in the crate's 32-low/32-high block layout); the kernels move them into
 * dense planar shards and back.
 */
import { type EncodingScheme } from './scheme.ts';

export const RS2: EncodingScheme = {
  name: 'RS2',
  typeByte: 1, // Walrus EncodingType::RS2 (BCS variant 1; Move constant RS2 = 1)
  symbolAlignment: 2,
  maxSymbolSize: 65534,
  minShards: 4,
  maxShards: 49155, // = largestCommittee(65536), pinned by a test (a 65k-step search at every import is not free)
  field: 'gf16',
  erasureBytes: 65536 * 2,
  planarBytes: (count, symbolSize) => Math.ceil((count * (symbolSize / 2)) / 32) * 64,
  gather: (k, sym, strideA, strideB, countA, countB, s, work, shardStride) =>
    k.symbolsToShards(sym, strideA, strideB, countA, countB, s, work, shardStride),
  scatter: (k, work, shardStride, countA, countB, s, sym, strideA, strideB) =>
    k.shardsToSymbols(work, shardStride, countA, countB, s, sym, strideA, strideB),
  // A slot is the symbol's planar form in whole 64-byte blocks: worth it while the padding adds at
  // most 1/16 to the RS work (S ≥ 960 at worst; 1206-byte symbols, a 256 MiB blob at n = 1000: 0.8 %).
  slotBytes: (s) => {
    const slot = Math.ceil(s / 64) * 64;
    return slot * 15 <= s * 16 ? slot : 0;
  },
  gatherSlots: (k, sym, strideA, strideB, countA, countB, s, work, shardStride, slotBytes) =>
    k.symbolsToSlots(sym, strideA, strideB, countA, countB, s, work, shardStride, slotBytes),
  slotsToSymbols: (k, work, shardStride, countA, countB, s, slotBytes) => k.slotsToSymbols(work, shardStride, countA, countB, s, slotBytes),
  encode: (k, base, stride, bytes, o, r) => k.rsEncode(base, stride, bytes, o, r),
  decode: (k, base, stride, bytes, o, r, received, erasures) => k.rsDecode(base, stride, bytes, o, r, received, erasures),
  decodeLocator: (k, o, r, received, erasures) => k.rsDecodeLocator(o, r, received, erasures),
  decodeWithLocator: (k, base, stride, bytes, o, r, received, erasures) =>
    k.rsDecodeWithLocator(base, stride, bytes, o, r, received, erasures),
};
