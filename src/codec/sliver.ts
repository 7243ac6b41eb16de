/**
 * Slivers and sliver pairs (walrus-protocol.md §1.4, §2).
 *
 * `SliverData` BCS = ULEB128(len) ‖ data ‖ u16 symbol_size ‖ u16 index (the axis is not encoded).
 * A sliver keeps its BCS bytes and exposes `data` as a view into them, so producing the wire form
 * costs no copy.
 */
import { readU16, readUleb, ulebLength, writeU16, writeUleb } from './bcs.ts';
import { TuskInputError } from '../errors.ts';

/** Which axis of the RedStuff matrix a sliver belongs to. */
export type SliverAxis = 'primary' | 'secondary';

/** One sliver: a row (primary) or column (secondary) of the expanded message matrix. */
export class SliverData {
  readonly axis: SliverAxis;
  /** Sliver index on its axis (primary: pair index; secondary: n − 1 − pair index). */
  readonly index: number;
  readonly symbolSize: number;
  /** Symbol bytes (a view into `bcs`). */
  readonly data: Uint8Array;
  private readonly bcs: Uint8Array;

  private constructor(axis: SliverAxis, bcs: Uint8Array, dataOffset: number, dataLength: number, symbolSize: number, index: number) {
    this.axis = axis;
    this.bcs = bcs;
    this.data = bcs.subarray(dataOffset, dataOffset + dataLength);
    this.symbolSize = symbolSize;
    this.index = index;
  }

  /** BCS length of a sliver whose data is `dataLength` bytes. */
  static bcsLength(dataLength: number): number {
    return ulebLength(dataLength) + dataLength + 4;
  }

  /**
   * Lays out a sliver's BCS frame inside `frame` (exactly bcsLength(dataLength) bytes, caller-owned
   * and kept by the sliver) and returns the sliver; its `data` is to be filled in by the caller.
   */
  static inFrame(axis: SliverAxis, frame: Uint8Array, dataLength: number, symbolSize: number, index: number): SliverData {
    const off = writeUleb(frame, 0, dataLength);
    writeU16(frame, off + dataLength, symbolSize);
    writeU16(frame, off + dataLength + 2, index);
    return new SliverData(axis, frame, off, dataLength, symbolSize, index);
  }

  /** Builds a sliver from its parts (copies `data`). */
  static create(axis: SliverAxis, data: Uint8Array, symbolSize: number, index: number): SliverData {
    const s = SliverData.inFrame(axis, new Uint8Array(SliverData.bcsLength(data.length)), data.length, symbolSize, index);
    s.data.set(data);
    return s;
  }

  /** Parses BCS bytes (kept by reference; the caller must not modify them afterwards). */
  static fromBcs(axis: SliverAxis, bcs: Uint8Array): SliverData {
    const { value: len, next } = readUleb(bcs, 0);
    if (next + len + 4 !== bcs.length) {
      throw new TuskInputError(`SliverData BCS: length ${bcs.length} does not match its data length ${len}`);
    }
    return new SliverData(axis, bcs, next, len, readU16(bcs, next + len), readU16(bcs, next + len + 2));
  }

  /** The BCS bytes (a view shared with this sliver; copy before modifying). */
  toBcs(): Uint8Array {
    return this.bcs;
  }

  /** Symbol `i` of this sliver (a view). */
  symbol(i: number): Uint8Array {
    return this.data.subarray(i * this.symbolSize, (i + 1) * this.symbolSize);
  }
}

/**
 * Writes the BCS header (ULEB length) and trailer (symbol size, index = firstIndex + i) of `count`
 * consecutive SliverData frames of `frame` bytes at `base` in `mem`; the data is filled in later.
 */
export function writeSliverFrames(
  mem: Uint8Array,
  base: number,
  count: number,
  frame: number,
  dataBytes: number,
  symbolSize: number,
  firstIndex = 0,
): void {
  const head = ulebLength(dataBytes);
  for (let i = 0; i < count; i++) {
    const f = base + i * frame;
    writeUleb(mem, f, dataBytes);
    writeU16(mem, f + head + dataBytes, symbolSize);
    writeU16(mem, f + head + dataBytes + 2, firstIndex + i);
  }
}

/** Sliver pair i: primary sliver i and secondary sliver n − 1 − i, stored together by one shard. */
export interface SliverPair {
  /** Pair index (= primary sliver index). */
  readonly index: number;
  readonly primary: SliverData;
  readonly secondary: SliverData;
}

/** BCS of a `SliverPair`: primary SliverData then secondary SliverData (fresh array). */
export function sliverPairToBcs(pair: SliverPair): Uint8Array {
  const a = pair.primary.toBcs(),
    b = pair.secondary.toBcs();
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
