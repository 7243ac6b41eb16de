/** RS2 blob decoding: round trips, both axes, the official decoder both ways, hostile input. */
import { describe, expect, it } from 'vitest';
import { encodeBlob } from '../src/codec/encode.ts';
import { decodeBlob } from '../src/codec/decode.ts';
import { EncodingConfig } from '../src/codec/config.ts';
import { SliverData } from '../src/codec/sliver.ts';
import { BlobMetadataWithId } from '../src/codec/metadata.ts';
import { InconsistentBlobError, MetadataVerificationError, NotEnoughSliversError, SliverVerificationError } from '../src/errors.ts';
import { officialDecode, officialEncode } from './helpers/official.ts';
import { flipBit, inconsistentEncoding, pick, randomBytes, rng } from './helpers/blobs.ts';

const SLOW = process.env.TUSK_SLOW === '1';

describe('decodeBlob round trips', () => {
  for (const n of [4, 7, 10, 13, 100]) {
    it(`n = ${n}: any k_p primary slivers, any k_s secondary slivers`, () => {
      const cfg = new EncodingConfig(n);
      const next = rng(n);
      for (const size of [0, 1, 63, 1000, cfg.sourceSymbols * 64 + 17, Math.min(cfg.maxBlobSize, 300_001)]) {
        const data = randomBytes(size, size + n);
        const blob = encodeBlob(data, { nShards: n });
        for (let t = 0; t < 3; t++) {
          const prim = pick(n, cfg.primarySymbols, next).map((i) => blob.primarySlivers[i]);
          expect(Buffer.from(decodeBlob(blob.metadataWithId, prim, { nShards: n })).equals(Buffer.from(data))).toBe(true);
          const sec = pick(n, cfg.secondarySymbols, next).map((i) => blob.secondarySlivers[i]);
          expect(Buffer.from(decodeBlob(blob.metadataWithId, sec, { nShards: n })).equals(Buffer.from(data))).toBe(true);
        }
        // Only recovery slivers (indices ≥ k_p), with the strict check.
        const rec = blob.primarySlivers.slice(n - cfg.primarySymbols);
        expect(decodeBlob(blob.metadataWithId, rec, { nShards: n, consistencyCheck: 'strict' })).toEqual(data);
      }
    });
  }
});

describe('decoding against the official implementation', () => {
  for (const n of [4, 7, 10, 100, 1000]) {
    it(`n = ${n}: Tusk decodes official slivers, and the official decoder accepts Tusk's`, () => {
      const cfg = new EncodingConfig(n);
      const next = rng(n * 7);
      const size = n === 1000 ? 1_000_003 : Math.min(cfg.maxBlobSize, 123_457);
      const data = randomBytes(size, n);
      const ref = officialEncode(data, n);
      const ours = encodeBlob(data, { nShards: n });
      const ids = pick(n, cfg.primarySymbols, next);
      const theirSlivers = ids.map((i) => SliverData.fromBcs('primary', ref.primary[i]));
      expect(decodeBlob(ours.metadataWithId, theirSlivers, { nShards: n })).toEqual(data);
      const ourBcs = ids.map((i) => ours.primarySlivers[i].toBcs());
      expect(officialDecode(ourBcs, size, n, ours.blobId)).toEqual(data);
    });
  }
});

describe('hostile input', () => {
  const n = 10;
  const cfg = new EncodingConfig(n);
  const data = randomBytes(5000, 3);
  const blob = encodeBlob(data, { nShards: n });
  const kP = cfg.primarySymbols;

  it('ignores a sliver with one flipped bit, reports it, and still decodes from the others', () => {
    const rejected: SliverVerificationError[] = [];
    const slivers = [flipBit(blob.primarySlivers[0], 5, 1), ...blob.primarySlivers.slice(1, kP + 1)];
    expect(decodeBlob(blob.metadataWithId, slivers, { nShards: n, onRejected: (e) => rejected.push(e) })).toEqual(data);
    expect(rejected.map((e) => e.message)).toEqual(['primary sliver 0: Merkle root of the expanded sliver does not match the metadata']);
  });

  it('rejects truncated slivers, wrong symbol sizes, out-of-range and duplicate indices', () => {
    const s = blob.primarySlivers[1];
    const truncated = SliverData.create('primary', s.data.subarray(0, s.data.length - 2), s.symbolSize, s.index);
    const wrongSize = SliverData.create('primary', s.data, s.symbolSize + 2, s.index);
    const outOfRange = SliverData.create('primary', s.data, s.symbolSize, n);
    const rejected: string[] = [];
    const slivers = [
      truncated,
      wrongSize,
      outOfRange,
      blob.primarySlivers[2],
      blob.primarySlivers[2],
      ...blob.primarySlivers.slice(3, 3 + kP - 1),
    ];
    expect(decodeBlob(blob.metadataWithId, slivers, { nShards: n, onRejected: (e) => rejected.push(e.message) })).toEqual(data);
    expect(rejected).toEqual([
      expect.stringMatching(/primary sliver 1: length \d+ bytes, expected \d+/),
      expect.stringMatching(/primary sliver 1: symbol size \d+, expected \d+/),
      expect.stringMatching(/primary sliver 10: index out of range/),
      'primary sliver 2: duplicate index (ignored)',
    ]);
    expect(() => SliverData.fromBcs('primary', s.toBcs().subarray(0, 10))).toThrow(/does not match its data length/);
  });

  it('refuses to decode from too few slivers, listing the rejected ones', () => {
    const few = [flipBit(blob.primarySlivers[0]), ...blob.primarySlivers.slice(1, kP)];
    try {
      decodeBlob(blob.metadataWithId, few, { nShards: n });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(NotEnoughSliversError);
      expect((e as NotEnoughSliversError).retryable).toBe(true);
      expect((e as NotEnoughSliversError).rejected).toHaveLength(1);
      expect((e as Error).message).toMatch(/3 of 4 primary and 0 of 7 secondary/);
    }
  });

  it('rejects metadata whose blob ID does not match', () => {
    const wrongId = blob.blobId.slice();
    wrongId[0] ^= 1;
    const bad = new BlobMetadataWithId(wrongId, blob.metadata);
    expect(() => decodeBlob(bad, blob.primarySlivers, { nShards: n })).toThrow(MetadataVerificationError);
    expect(() => decodeBlob(blob.metadataWithId, blob.primarySlivers, { nShards: 13 })).toThrow(MetadataVerificationError);
  });

  it('detects an inconsistently encoded blob instead of returning wrong bytes', () => {
    const bad = inconsistentEncoding(blob, 1);
    // Every sliver verifies on its own, so decoding from rows without row 1 reconstructs a row 1
    // that differs from what the metadata commits to.
    const slivers = bad.primary.filter((s) => s.index !== 1).slice(0, kP);
    expect(() => decodeBlob(bad.metadata, slivers, { nShards: n })).toThrow(InconsistentBlobError);
    expect(() => decodeBlob(bad.metadata, slivers, { nShards: n, consistencyCheck: 'strict' })).toThrow(InconsistentBlobError);
    // With the altered row itself among the systematic slivers the bytes come straight from it.
    expect(decodeBlob(bad.metadata, bad.primary.slice(0, kP), { nShards: n })).not.toEqual(data);
  });

  it.runIf(SLOW)('n = 1000, 16 MiB: decodes from recovery slivers only', () => {
    const big = randomBytes(16 << 20, 5);
    const b = encodeBlob(big, { nShards: 1000 });
    expect(decodeBlob(b.metadataWithId, b.primarySlivers.slice(1000 - 334), { nShards: 1000 })).toEqual(big);
  });
});
