/**
 * The one interface behind which everything encoding-specific lives. RedStuff itself (the 2D
 * layout, Merkle commitments, blob IDs, decoding and recovery flows in src/codec/) is written once
 * against it; an encoding type is one module implementing it (rs2.ts, rs8.ts) plus a line in
 * index.ts.
 */
import type { KernelExports } from '../../wasm/kernel.ts';
import { countsFit, type RsField } from '../../rs/reed-solomon.ts';

/** Names of the encodings Tusk implements. */
export type EncodingName = 'RS2' | 'RS8';

/** An encoding type: symbol rules, committee limits and the Reed–Solomon kernels it runs. */
export interface EncodingScheme {
  readonly name: EncodingName;
  /** The encoding-type byte in BCS metadata and in the blob-ID derivation. */
  readonly typeByte: number;
  /** Symbol sizes are multiples of this (one field element). */
  readonly symbolAlignment: number;
  /** Largest symbol size (a u16 in SliverData BCS). */
  readonly maxSymbolSize: number;
  /** Smallest committee (f ≥ 1 so both codes have recovery symbols). */
  readonly minShards: number;
  /** Largest committee whose row and column codes both fit the field. */
  readonly maxShards: number;
  /** Field of the Reed–Solomon code (for src/rs/ helpers). */
  readonly field: RsField;
  /** Scratch bytes the decoder's erasure vector needs. */
  readonly erasureBytes: number;
  /** Bytes of one planar work shard holding `count` symbols of `symbolSize` bytes. */
  planarBytes(count: number, symbolSize: number): number;
  /** Symbol (a, b) at sym + a·strideA + b·strideB → shard b (work + b·shardStride), symbol slot a. */
  gather(
    k: KernelExports,
    sym: number,
    strideA: number,
    strideB: number,
    countA: number,
    countB: number,
    symbolSize: number,
    work: number,
    shardStride: number,
  ): void;
  /** Inverse of gather. */
  scatter(
    k: KernelExports,
    work: number,
    shardStride: number,
    countA: number,
    countB: number,
    symbolSize: number,
    sym: number,
    strideA: number,
    strideB: number,
  ): void;
  /**
   * Bytes of one slot when symbols of `symbolSize` bytes are laid out so that each can be hashed
   * where it lies in the work shard after an RS transform ({@link gatherSlots},
   * {@link slotsToSymbols}); 0 when that layout would cost more RS work than the scatter it saves
   * (RS2: a slot is whole 64-byte blocks, so small symbols would mostly be padding).
   */
  slotBytes(symbolSize: number): number;
  /** Symbol (a, b) at sym + a·strideA + b·strideB → shard b (work + b·shardStride), slot a (at a·slotBytes). */
  gatherSlots(
    k: KernelExports,
    sym: number,
    strideA: number,
    strideB: number,
    countA: number,
    countB: number,
    symbolSize: number,
    work: number,
    shardStride: number,
    slotBytes: number,
  ): void;
  /** In place: slot a of shards b < countB becomes symbol a's symbolSize bytes, at its slot's start. */
  slotsToSymbols(
    k: KernelExports,
    work: number,
    shardStride: number,
    countA: number,
    countB: number,
    symbolSize: number,
    slotBytes: number,
  ): void;
  /** RS encode in place (work-array contract of assembly/rs/encode.ts). */
  encode(k: KernelExports, base: number, stride: number, bytes: number, o: number, r: number): void;
  /** RS erasure decode in place (contract of assembly/rs/decode.ts). */
  decode(k: KernelExports, base: number, stride: number, bytes: number, o: number, r: number, received: number, erasures: number): void;
  /** The erasure locator of a received pattern into `erasures` (erasureBytes), for {@link decodeWithLocator}. */
  decodeLocator(k: KernelExports, o: number, r: number, received: number, erasures: number): void;
  /** {@link decode} with the locator already in `erasures` (only read: stripes may share it). */
  decodeWithLocator(
    k: KernelExports,
    base: number,
    stride: number,
    bytes: number,
    o: number,
    r: number,
    received: number,
    erasures: number,
  ): void;
}

/** Largest n ≥ 4 for which the row code (n−f → n) and column code (n−2f → n) both fit `order`. */
export function largestCommittee(order: number): number {
  let best = 0;
  for (let n = 4; n < order; n++) {
    const f = Math.floor((n - 1) / 3);
    if (countsFit(n - f, f, order) && countsFit(n - 2 * f, 2 * f, order)) best = n;
  }
  return best;
}
