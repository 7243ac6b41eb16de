/**
 * RS8 — Tusk's encoding for small committees: RedStuff over GF(2^8) with Leopard's 8-bit
 * additive-FFT code and reed-solomon-simd's rate rule (Leopard has no low-rate encoder; the column
 * code needs one). A byte is one element, so symbols have any size ≥ 1 and a shard is just its
 * symbols' bytes back to back; a multiply costs two nibble lookups instead of eight.
 *
 * Type byte 127: not a Walrus encoding (Walrus assigns its BCS variants sequentially: 0 RaptorQ,
 * 1 RS2), and still a single byte both as a BCS ULEB enum index and as Move's u8.
 */
import { type EncodingScheme } from './scheme.ts';

export const RS8: EncodingScheme = {
  name: 'RS8',
  typeByte: 127,
  symbolAlignment: 1,
  maxSymbolSize: 65535,
  minShards: 4,
  maxShards: 195, // = largestCommittee(256), pinned by a test (a 65k-step search at every import is not free)
  field: 'gf8',
  erasureBytes: 256 * 2,
  planarBytes: (count, symbolSize) => Math.ceil((count * symbolSize) / 64) * 64,
  // Symbol slot a of shard b is bytes [a·S, (a+1)·S): a strided copy, no layout change.
  gather: (k, sym, strideA, strideB, countA, countB, s, work, shardStride) =>
    k.copySymbols(sym, strideA, strideB, countA, countB, s, work, s, shardStride),
  scatter: (k, work, shardStride, countA, countB, s, sym, strideA, strideB) =>
    k.copySymbols(work, s, shardStride, countA, countB, s, sym, strideA, strideB),
  // Symbol slots are the symbols' own bytes already (gather is a strided copy).
  slotBytes: (s) => s,
  gatherSlots: (k, sym, strideA, strideB, countA, countB, s, work, shardStride) =>
    k.copySymbols(sym, strideA, strideB, countA, countB, s, work, s, shardStride),
  slotsToSymbols: () => {},
  encode: (k, base, stride, bytes, o, r) => k.rs8Encode(base, stride, bytes, o, r),
  decode: (k, base, stride, bytes, o, r, received, erasures) => k.rs8Decode(base, stride, bytes, o, r, received, erasures),
  decodeLocator: (k, o, r, received, erasures) => k.rs8DecodeLocator(o, r, received, erasures),
  decodeWithLocator: (k, base, stride, bytes, o, r, received, erasures) =>
    k.rs8DecodeWithLocator(base, stride, bytes, o, r, received, erasures),
};
