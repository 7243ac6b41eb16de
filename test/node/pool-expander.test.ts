/** Sliver work on the codec pool: verification, decoding from recovery positions, recovery checks. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBlob } from '../../src/codec/encode.ts';
import { EncodingConfig } from '../../src/codec/config.ts';
import { recoverySymbolsFrom } from '../../src/codec/recovery.ts';
import { CodecPool } from '../../src/pool/codec-pool.ts';
import { PoolExpander } from '../../src/node/pool-expander.ts';
import { NotEnoughSymbolsError } from '../../src/errors.ts';
import { flipBit, inconsistentEncoding, randomBytes } from '../helpers/blobs.ts';

const n = 10;
const cfg = new EncodingConfig(n);
let pool: CodecPool;
let expander: PoolExpander;

beforeAll(() => {
  pool = new CodecPool({ threads: 2 });
  expander = new PoolExpander(pool);
});

afterAll(async () => {
  expander.close();
  await pool.close();
});

describe('PoolExpander', () => {
  const blob = encodeBlob(randomBytes(9000, 41), { nShards: n });

  it('verifies slivers of both axes and names what is wrong', async () => {
    expect(await expander.verify(cfg, blob.metadata, blob.primarySlivers[2])).toBeNull();
    expect(await expander.verify(cfg, blob.metadata, blob.secondarySlivers[7])).toBeNull();
    expect((await expander.verify(cfg, blob.metadata, flipBit(blob.secondarySlivers[7], 3)))?.message).toMatch(/Merkle root/);
    // Concurrent verifications spread over the kernels and all come back right.
    const all = await Promise.all([...blob.primarySlivers, ...blob.secondarySlivers].map((s) => expander.verify(cfg, blob.metadata, s)));
    expect(all.every((e) => e === null)).toBe(true);
    expect(expander.pending).toBe(0);
  });

  it('recovers a sliver from symbols at recovery positions (decode on the pool) and spots inconsistent blobs', async () => {
    for (const [axis, target, sources] of [
      ['primary', 1, [3, 4, 5, 6, 7, 8, 9]], // k_s = 7 secondary sources, three of them recovery positions
      ['secondary', 8, [6, 7, 8, 9]], // k_p = 4 primary sources, all recovery positions
    ] as const) {
      const from = axis === 'primary' ? blob.secondarySlivers : blob.primarySlivers;
      const symbols = sources.flatMap((j) => recoverySymbolsFrom(cfg, from[j], [target]));
      const result = await expander.recoverSliver(cfg, blob.metadata, axis, target, symbols);
      const want = axis === 'primary' ? blob.primarySlivers[target] : blob.secondarySlivers[target];
      expect(result.sliver!.toBcs()).toEqual(want.toBcs());
      await expect(expander.recoverSliver(cfg, blob.metadata, axis, target, symbols.slice(1))).rejects.toBeInstanceOf(
        NotEnoughSymbolsError,
      );
    }
    const bad = inconsistentEncoding(blob, 1);
    const symbols = bad.primary.slice(0, cfg.primarySymbols).flatMap((s) => recoverySymbolsFrom(cfg, s, [0]));
    const result = await expander.recoverSliver(cfg, bad.metadata.metadata, 'secondary', 0, symbols);
    expect(result.sliver).toBeUndefined();
    expect(result.inconsistent).toHaveLength(cfg.primarySymbols);
  });

  it('rejects malformed decode input', async () => {
    const S = blob.symbolSize;
    const sym = (i: number) => ({ sourceIndex: i, data: new Uint8Array(S) });
    await expect(expander.decodeSliverData(cfg, 'secondary', [sym(0), sym(0), sym(1), sym(2)], S)).rejects.toThrow(/distinct/);
    await expect(expander.decodeSliverData(cfg, 'secondary', [sym(0), sym(1), sym(2)], S)).rejects.toThrow(/exactly 4/);
    await expect(expander.decodeSliverData(cfg, 'secondary', [sym(0), sym(1), sym(2), sym(10)], S)).rejects.toThrow(/distinct positions/);
  });
});
