/** The codec worker pool: same bytes as the single-thread encoder, whatever the pool size. */
import { afterAll, describe, expect, it } from 'vitest';
import { encodeBlob } from '../src/codec/encode.ts';
import { encodeBlobAsync, computeBlobMetadataAsync } from '../src/pool/async-codec.ts';
import { CodecPool } from '../src/pool/codec-pool.ts';
import { randomBytes } from './helpers/blobs.ts';

describe('CodecPool', () => {
  const pools = [new CodecPool({ threads: 1 }), new CodecPool({ threads: 2 })];
  afterAll(async () => Promise.all(pools.map((p) => p.close())));

  for (const [n, size, encoding] of [
    [10, 100_001, 'rs2'],
    [100, 1_000_003, 'rs2'],
    [1000, 2_000_001, 'rs2'],
    [31, 50_000, 'rs8'],
  ] as const) {
    it(`n = ${n}, ${size} B, ${encoding}: pool sizes 1 and 2 give the single-thread output`, async () => {
      const data = randomBytes(size, n);
      const ref = encodeBlob(data, { nShards: n, encoding });
      for (const pool of pools) {
        const got = await encodeBlobAsync(data, { nShards: n, encoding, pool });
        expect(got.blobIdString).toBe(ref.blobIdString);
        for (let i = 0; i < n; i++) {
          if (Buffer.compare(got.primarySlivers[i].toBcs(), ref.primarySlivers[i].toBcs()) !== 0)
            throw new Error(`primary ${i} differs (pool ${pool.slots})`);
          if (Buffer.compare(got.secondarySlivers[i].toBcs(), ref.secondarySlivers[i].toBcs()) !== 0)
            throw new Error(`secondary ${i} differs (pool ${pool.slots})`);
        }
        const meta = await computeBlobMetadataAsync(data, { nShards: n, encoding, pool });
        expect(Buffer.from(meta.metadata.toBcs()).equals(Buffer.from(ref.metadata.toBcs()))).toBe(true);
      }
    });
  }

  it('concurrent async encodes on the shared default kernel do not interfere', async () => {
    const inputs = [randomBytes(300_001, 1), randomBytes(200_003, 2), randomBytes(250_007, 3), randomBytes(100_001, 4)];
    const refs = inputs.map((d) => encodeBlob(d, { nShards: 100 }).blobIdString);
    const got = await Promise.all(
      inputs.flatMap((d) => [
        encodeBlobAsync(d, { nShards: 100, pool: pools[1] }).then((b) => b.blobIdString),
        computeBlobMetadataAsync(d, { nShards: 100, pool: pools[0] }).then((m) => m.blobIdString),
      ]),
    );
    expect(got).toEqual(refs.flatMap((r) => [r, r]));
  });

  it('large outputs use a dedicated zero-copy memory on the pool, with identical bytes', async () => {
    const data = randomBytes(8 << 20, 8); // n = 100: ~36 MB of slivers, above the 32 MiB threshold
    const ref = encodeBlob(data, { nShards: 100 });
    const got = await encodeBlobAsync(data, { nShards: 100, pool: pools[1] });
    expect(got.primarySlivers[0].data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(got.primarySlivers[0].data.buffer).not.toBe(ref.primarySlivers[0].data.buffer);
    for (let i = 0; i < 100; i++) {
      if (Buffer.compare(got.primarySlivers[i].toBcs(), ref.primarySlivers[i].toBcs()) !== 0) throw new Error(`primary ${i} differs`);
      if (Buffer.compare(got.secondarySlivers[i].toBcs(), ref.secondarySlivers[i].toBcs()) !== 0) throw new Error(`secondary ${i} differs`);
    }
  });

  it('rejects a bad pool size', () => {
    expect(() => new CodecPool({ threads: 0 })).toThrow(/positive integer/);
  });
});
