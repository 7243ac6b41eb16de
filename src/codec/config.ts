/**
 * Committee-derived encoding parameters (shared/spec/walrus-protocol.md §1.1–§1.2, §7 pricing).
 *
 * For n shards: f = ⌊(n−1)/3⌋, k_p = n − 2f primary source symbols (rows of the message matrix,
 * symbols per secondary sliver), k_s = n − f secondary source symbols (columns, symbols per
 * primary sliver). The row code is RS(k_s → n) and the column code RS(k_p → n).
 */
import { TuskInputError, BlobTooLargeError } from '../errors.ts';
import { RS2, encodingByName, type EncodingName, type EncodingScheme } from './encodings/index.ts';

/** Walrus encoding-type byte of RS2 (BCS and Move constant). */
export const ENCODING_TYPE_RS2 = RS2.typeByte;
/** Largest RS2 symbol: u16::MAX − 1 (symbols are even). */
export const MAX_SYMBOL_SIZE = RS2.maxSymbolSize;
/** Smallest committee RS2 supports: with n < 4, f = 0 and neither code has recovery symbols. */
export const MIN_N_SHARDS = RS2.minShards;
/**
 * Largest committee whose RS2 row and column codes both fit reed-solomon-simd's count limits
 * (every n in between is supported; n = 65535 itself does not fit).
 */
export const MAX_N_SHARDS = RS2.maxShards;

/**
 * Largest committee Tusk's encoders handle: they keep up to n² leaf hashes (32 bytes each; a
 * third of them in memory-only encodes, src/codec/leaf-layout.ts; the streaming encoder budgets
 * for all) in one WebAssembly memory (4 GiB), 2 GiB at n = 8192. Above it every encode fails up front with a
 * TuskInputError. (Decoding, verification and recovery have no such limit.)
 */
export const MAX_ENCODER_SHARDS = 8192;

/** @throws TuskInputError when `nShards` exceeds {@link MAX_ENCODER_SHARDS}. */
export function assertEncoderCommittee(nShards: number): void {
  if (nShards > MAX_ENCODER_SHARDS) {
    throw new TuskInputError(
      `encoding for more than ${MAX_ENCODER_SHARDS} shards is not supported (the n² leaf hashes must fit in WebAssembly memory), got ${nShards}`,
    );
  }
}

/**
 * Parameters of an encoding (RS2 by default) for one committee size. Immutable.
 * Everything encoding-specific is reached through `scheme`.
 */
export class EncodingConfig {
  readonly scheme: EncodingScheme;
  readonly nShards: number;
  /** Tolerated faulty shards. */
  readonly f: number;
  /** Primary source symbols = message rows = symbols per secondary sliver. */
  readonly primarySymbols: number;
  /** Secondary source symbols = message columns = symbols per primary sliver. */
  readonly secondarySymbols: number;
  /** The encoding-type byte (metadata BCS, blob-ID derivation). */
  readonly encodingType: number;

  /**
   * @param encoding a scheme or its name (`'RS2'`, `'rs8'`, …); default RS2.
   * @throws TuskInputError unless nShards is an integer in the scheme's [minShards, maxShards].
   */
  constructor(nShards: number, encoding: EncodingScheme | EncodingName | Lowercase<EncodingName> = RS2) {
    const scheme = typeof encoding === 'string' ? encodingByName(encoding) : encoding;
    if (!Number.isInteger(nShards) || nShards < 1 || nShards > 65535) {
      throw new TuskInputError(`n_shards must be an integer in 1…65535, got ${nShards}`);
    }
    if (nShards < scheme.minShards) {
      throw new TuskInputError(
        `${scheme.name} needs n_shards ≥ ${scheme.minShards} (with fewer, f = 0 and there is no redundancy), got ${nShards}`,
      );
    }
    if (nShards > scheme.maxShards) {
      throw new TuskInputError(
        `${scheme.name} supports n_shards ≤ ${scheme.maxShards} (Reed–Solomon count limits of its field), got ${nShards}`,
      );
    }
    this.scheme = scheme;
    this.encodingType = scheme.typeByte;
    this.nShards = nShards;
    this.f = Math.floor((nShards - 1) / 3);
    this.primarySymbols = nShards - 2 * this.f;
    this.secondarySymbols = nShards - this.f;
  }

  /** Source symbols in the message matrix: k_p · k_s. */
  get sourceSymbols(): number {
    return this.primarySymbols * this.secondarySymbols;
  }

  /** Largest blob this committee can encode: k_p · k_s · (max symbol size) bytes. */
  get maxBlobSize(): number {
    return this.sourceSymbols * this.scheme.maxSymbolSize;
  }

  /**
   * Symbol size for a blob of `length` bytes: max(length, 1)/(k_p·k_s) rounded up to the scheme's
   * alignment (RS2: even).
   * @throws TuskInputError for a non-integer or negative length; BlobTooLargeError above the max.
   */
  symbolSize(length: number): number {
    assertLength(length);
    if (length > this.maxBlobSize) throw new BlobTooLargeError(length, this.maxBlobSize, this.nShards);
    const a = this.scheme.symbolAlignment;
    return Math.ceil(Math.ceil(Math.max(length, 1) / this.sourceSymbols) / a) * a;
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
}

/** Throws TuskInputError unless `length` is a non-negative safe integer. */
export function assertLength(length: number): void {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new TuskInputError(`blob length must be a non-negative integer, got ${length}`);
  }
}
