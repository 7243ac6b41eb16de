import { describe, expect, it } from 'vitest';
import { EncodingConfig, MAX_ENCODER_SHARDS, MAX_N_SHARDS, MIN_N_SHARDS } from '../src/codec/config.ts';
import { supportsCounts } from '../src/rs/reed-solomon.ts';
import { largestCommittee } from '../src/codec/encodings/scheme.ts';
import { RS2, RS8 } from '../src/codec/encodings/index.ts';
import { encodeBlob, computeBlobMetadata } from '../src/codec/encode.ts';
import { BlobTooLargeError, TuskInputError } from '../src/errors.ts';

describe('RS2 committee parameters', () => {
  it('matches the table of walrus-core (§1.1)', () => {
    const table: [number, number, number][] = [
      [4, 2, 3],
      [7, 3, 5],
      [10, 4, 7],
      [100, 34, 67],
      [1000, 334, 667],
    ];
    for (const [n, kp, ks] of table) {
      const c = new EncodingConfig(n);
      expect([c.primarySymbols, c.secondarySymbols]).toEqual([kp, ks]);
    }
  });

  it('n = 1000 limits and pricing lengths (§8)', () => {
    const c = new EncodingConfig(1000);
    expect(c.maxBlobSize).toBe(14_599_533_452);
    expect(c.primarySliverBytes(65534)).toBe(43_711_178);
    expect(c.encodedBlobLength(1)).toBe(66_034_000);
    expect(c.encodedBlobLength(1 << 20)).toBe(70_038_000);
    expect(c.symbolSize(1 << 20)).toBe(6);
    expect(c.encodedBlobLength(100 << 20)).toBe(536_504_000);
    expect(c.symbolSize(100 << 20)).toBe(472);
    expect(c.symbolSize(0)).toBe(2);
  });

  it('MAX_N_SHARDS is the largest committee whose codes fit the RS count limits', () => {
    expect(MIN_N_SHARDS).toBe(4);
    expect(MAX_N_SHARDS).toBe(49155);
    expect(largestCommittee(65536)).toBe(RS2.maxShards);
    expect(largestCommittee(256)).toBe(RS8.maxShards);
    // n = 49155: f = 16384, column code 16387 : 32768 fits (32768 + 32768 = 65536); n + 1 does not.
    expect(supportsCounts(49155 - 2 * 16384, 2 * 16384)).toBe(true);
    expect(supportsCounts(49156 - 2 * 16385, 2 * 16385)).toBe(false);
    expect(() => new EncodingConfig(MAX_N_SHARDS)).not.toThrow();
    expect(() => new EncodingConfig(MAX_N_SHARDS + 1)).toThrow(TuskInputError);
    expect(MAX_N_SHARDS).toBeGreaterThan(1000);
    expect(MAX_N_SHARDS).toBeLessThan(65535);
  });

  it('rejects bad committee sizes with typed errors', () => {
    for (const bad of [0, -1, 1.5, NaN, 65536, 70000, 3]) {
      expect(() => new EncodingConfig(bad)).toThrow(TuskInputError);
      expect(() => encodeBlob(new Uint8Array(1), { nShards: bad })).toThrow(TuskInputError);
    }
    expect(() => new EncodingConfig(65535)).toThrow(/n_shards ≤/);
  });

  it('encoders stop at MAX_ENCODER_SHARDS with a clear error', () => {
    expect(() => encodeBlob(new Uint8Array(1), { nShards: MAX_ENCODER_SHARDS + 1 })).toThrow(/more than 8192 shards/);
  });

  it('rejects bad sizes and blobs over the maximum', () => {
    const c = new EncodingConfig(4);
    for (const bad of [-1, 1.5, NaN, Infinity]) expect(() => c.symbolSize(bad)).toThrow(TuskInputError);
    expect(() => c.symbolSize(c.maxBlobSize + 1)).toThrow(BlobTooLargeError);
    expect(c.symbolSize(c.maxBlobSize)).toBe(65534);
    // A real over-size buffer: n = 4 allows 6 × 65534 bytes.
    expect(() => computeBlobMetadata(new Uint8Array(c.maxBlobSize + 1), { nShards: 4 })).toThrow(BlobTooLargeError);
    expect(() => encodeBlob('abc' as unknown as Uint8Array, { nShards: 4 })).toThrow(TuskInputError);
  });
});
