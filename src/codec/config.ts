/**
 * RS2 committee-derived parameters (shared/spec/walrus-protocol.md §1.1–§1.2, §7 pricing).
 *
 * For n shards: f = ⌊(n−1)/3⌋, k_p = n − 2f primary source symbols (rows of the message matrix,
 * symbols per secondary sliver), k_s = n − f secondary source symbols (columns, symbols per
 * primary sliver). The row code is RS(k_s → n) and the column code RS(k_p → n).
 */
import { TuskInputError, BlobTooLargeError } from '../errors.ts';

/** Walrus encoding-type byte of RS2 (BCS and Move constant). */
export const ENCODING_TYPE_RS2 = 1;
/** Largest RS2 symbol: u16::MAX − 1 (symbols are even). */
export const MAX_SYMBOL_SIZE = 65534;
/** Symbols are a whole number of GF(2^16) elements. */
export const SYMBOL_ALIGNMENT = 2;

function nextPow2(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}

/** reed-solomon-simd's count rule (§3.1 of the RS spec). */
function rsSupports(o: number, r: number): boolean {
  return o >= 1 && r >= 1 && Math.min(nextPow2(o), nextPow2(r)) + Math.max(o, r) <= 65536;
}

/** Smallest committee RS2 supports: with n < 4, f = 0 and neither code has recovery symbols. */
export const MIN_N_SHARDS = 4;

/**
 * Largest committee whose row and column codes both fit reed-solomon-simd's count limits.
 * (Computed once; n = 65535 itself does not fit: the row code would be 43691 : 21844.)
 */
export const MAX_N_SHARDS: number = (() => {
  let best = 0;
  for (let n = MIN_N_SHARDS; n <= 65535; n++) {
    const f = Math.floor((n - 1) / 3);
    if (rsSupports(n - f, f) && rsSupports(n - 2 * f, 2 * f)) best = n;
  }
  return best;
})();

/** Parameters of the RS2 encoding for one committee size. Immutable. */
export class EncodingConfig {
  readonly nShards: number;
  /** Tolerated faulty shards. */
  readonly f: number;
  /** Primary source symbols = message rows = symbols per secondary sliver. */
  readonly primarySymbols: number;
  /** Secondary source symbols = message columns = symbols per primary sliver. */
  readonly secondarySymbols: number;
  readonly encodingType = ENCODING_TYPE_RS2;

  /** @throws TuskInputError unless nShards is an integer in [MIN_N_SHARDS, MAX_N_SHARDS]. */
  constructor(nShards: number) {
    if (!Number.isInteger(nShards) || nShards < 1 || nShards > 65535) {
      throw new TuskInputError(`n_shards must be an integer in 1…65535, got ${nShards}`);
    }
    if (nShards < MIN_N_SHARDS) {
      throw new TuskInputError(`RS2 needs n_shards ≥ ${MIN_N_SHARDS} (with fewer, f = 0 and there is no redundancy), got ${nShards}`);
    }
    if (nShards > MAX_N_SHARDS) {
      throw new TuskInputError(`RS2 supports n_shards ≤ ${MAX_N_SHARDS} (Reed–Solomon count limits), got ${nShards}`);
    }
    this.nShards = nShards;
    this.f = Math.floor((nShards - 1) / 3);
    this.primarySymbols = nShards - 2 * this.f;
    this.secondarySymbols = nShards - this.f;
  }

  /** Source symbols in the message matrix: k_p · k_s. */
  get sourceSymbols(): number {
    return this.primarySymbols * this.secondarySymbols;
  }

  /** Largest blob this committee can encode: k_p · k_s · 65534 bytes. */
  get maxBlobSize(): number {
    return this.sourceSymbols * MAX_SYMBOL_SIZE;
  }

  /**
   * Symbol size for a blob of `length` bytes: the even ceiling of max(length, 1)/(k_p·k_s).
   * @throws TuskInputError for a non-integer or negative length; BlobTooLargeError above the max.
   */
  symbolSize(length: number): number {
    assertLength(length);
    if (length > this.maxBlobSize) throw new BlobTooLargeError(length, this.maxBlobSize, this.nShards);
    const s = Math.ceil(Math.max(length, 1) / this.sourceSymbols);
    return s + (s % 2);
  }

  /** Byte length of a primary sliver (k_s symbols). */
  primarySliverBytes(symbolSize: number): number {
    return this.secondarySymbols * symbolSize;
  }

  /** Byte length of a secondary sliver (k_p symbols). */
  secondarySliverBytes(symbolSize: number): number {
    return this.primarySymbols * symbolSize;
  }

  /** Encoded length used for storage pricing: n·(n·64+32) + n·(k_p+k_s)·S. */
  encodedBlobLength(length: number): number {
    const s = this.symbolSize(length);
    const n = this.nShards;
    return n * (n * 64 + 32) + n * (this.primarySymbols + this.secondarySymbols) * s;
  }

  /** Secondary sliver index paired with primary sliver (pair index) `pair`: n − 1 − pair. */
  secondaryIndexOfPair(pair: number): number {
    return this.nShards - 1 - pair;
  }
}

/** Throws TuskInputError unless `length` is a non-negative safe integer. */
export function assertLength(length: number): void {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new TuskInputError(`blob length must be a non-negative integer, got ${length}`);
  }
}
