/** RS8: RedStuff over GF(2^8) — every committee size, both decoding axes, recovery, proofs. */
import { describe, expect, it } from 'vitest';
import { encodeBlob, computeBlobMetadata } from '../src/codec/encode.ts';
import { decodeBlob } from '../src/codec/decode.ts';
import { EncodingConfig } from '../src/codec/config.ts';
import { RS8, encodingByName, encodingByType } from '../src/codec/encodings/index.ts';
import { recoverSliver, recoverySymbolsFrom, verifyInconsistencyProof } from '../src/codec/recovery.ts';
import { BlobMetadataWithId } from '../src/codec/metadata.ts';
import { InconsistentBlobError, TuskInputError } from '../src/errors.ts';
import { inconsistentEncoding, pick, randomBytes, rng } from './helpers/blobs.ts';

describe('RS8 parameters', () => {
  it('has its own type byte, alignment 1 and a maximum committee of 195', () => {
    expect(RS8.typeByte).toBe(127);
    expect(RS8.typeByte).not.toBe(encodingByName('rs2').typeByte);
    expect(encodingByType(127)).toBe(RS8);
    expect(RS8.maxShards).toBe(195);
    const c = new EncodingConfig(10, 'rs8');
    expect(c.symbolSize(c.sourceSymbols * 3 + 1)).toBe(4); // odd sizes allowed, no rounding to even
    expect(c.symbolSize(c.sourceSymbols * 3)).toBe(3);
    expect(c.maxBlobSize).toBe(28 * 65535);
  });

  it('rejects committees its field cannot hold, with a clear error', () => {
    expect(() => new EncodingConfig(196, 'rs8')).toThrow(/RS8 supports n_shards ≤ 195/);
    expect(() => encodeBlob(new Uint8Array(10), { nShards: 1000, encoding: 'rs8' })).toThrow(TuskInputError);
    expect(() => new EncodingConfig(10, 'rs9' as 'rs8')).toThrow(/unknown encoding "rs9"/);
  });
});

describe('RS8 round trips for every committee size', () => {
  it('n = 4 … 195: decode from random k_p primary slivers; blob IDs differ from RS2', () => {
    const next = rng(8);
    for (let n = 4; n <= RS8.maxShards; n++) {
      const cfg = new EncodingConfig(n, 'rs8');
      const size = (next() % (cfg.sourceSymbols * 5)) + 1;
      const data = randomBytes(size, n);
      const blob = encodeBlob(data, { nShards: n, encoding: 'rs8' });
      expect(blob.metadata.encodingType).toBe(127);
      expect(blob.encoding).toBe('RS8');
      const prim = pick(n, cfg.primarySymbols, next).map((i) => blob.primarySlivers[i]);
      const out = decodeBlob(blob.metadataWithId, prim, { nShards: n });
      if (!Buffer.from(out).equals(Buffer.from(data))) throw new Error(`RS8 n=${n} size=${size}: wrong bytes`);
      if (n % 16 === 4) {
        expect(computeBlobMetadata(data, { nShards: n, encoding: 'rs8' }).blobIdString).toBe(blob.blobIdString);
        expect(computeBlobMetadata(data, { nShards: n }).blobIdString).not.toBe(blob.blobIdString);
      }
    }
  });

  for (const n of [4, 10, 31, 100, 195]) {
    it(`n = ${n}: secondary-axis decoding, strict check, recovery on both axes`, () => {
      const cfg = new EncodingConfig(n, 'rs8');
      const next = rng(n);
      const data = randomBytes(Math.min(cfg.maxBlobSize, 250_001), n + 1);
      const blob = encodeBlob(data, { nShards: n, encoding: 'rs8' });
      const sec = pick(n, cfg.secondarySymbols, next).map((j) => blob.secondarySlivers[j]);
      expect(decodeBlob(blob.metadataWithId, sec, { nShards: n, consistencyCheck: 'strict' })).toEqual(data);
      const roundTrip = BlobMetadataWithId.fromBcs(blob.metadataWithId.toBcs());
      expect(decodeBlob(roundTrip, blob.primarySlivers.slice(n - cfg.primarySymbols), { nShards: n })).toEqual(data);
      const t = next() % n;
      const fromSec = pick(n, cfg.secondarySymbols, next).flatMap((j) => recoverySymbolsFrom(cfg, blob.secondarySlivers[j], [t]));
      expect(recoverSliver(cfg, blob.metadata, 'primary', t, fromSec).sliver?.toBcs()).toEqual(blob.primarySlivers[t].toBcs());
      const fromPri = pick(n, cfg.primarySymbols, next).flatMap((i) => recoverySymbolsFrom(cfg, blob.primarySlivers[i], [t]));
      expect(recoverSliver(cfg, blob.metadata, 'secondary', t, fromPri).sliver?.toBcs()).toEqual(blob.secondarySlivers[t].toBcs());
    });
  }

  it('detects inconsistent RS8 encodings and proves them', () => {
    const n = 31;
    const cfg = new EncodingConfig(n, 'rs8');
    const blob = encodeBlob(randomBytes(9999, 4), { nShards: n, encoding: 'rs8' });
    const bad = inconsistentEncoding(blob, 2);
    const without = bad.primary.filter((s) => s.index !== 2).slice(0, cfg.primarySymbols);
    expect(() => decodeBlob(bad.metadata, without, { nShards: n })).toThrow(InconsistentBlobError);
    const symbols = bad.primary.slice(0, cfg.primarySymbols).flatMap((s) => recoverySymbolsFrom(cfg, s, [0]));
    const proof = recoverSliver(cfg, bad.metadata.metadata, 'secondary', 0, symbols).inconsistencyProof!;
    expect(verifyInconsistencyProof(cfg, bad.metadata.metadata, proof)).toBe(true);
  });
});
