/**
 * Recycled kernel memory (WasmKernel.recycle, EncodedBlob.dispose): a disposed result's memory
 * serves the next large encode — it takes far fewer page faults than one on fresh memory — and the
 * bytes stay right although the recycled memory still holds the previous blob.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { computeBlobMetadata, encodeBlob } from '../src/codec/encode.ts';
import { encodeBlobAsync } from '../src/pool/async-codec.ts';
import { CodecPool } from '../src/pool/codec-pool.ts';
import { randomBytes } from './helpers/blobs.ts';

/** Minor page faults of this process while `work` runs (fresh memory is faulted in page by page). */
async function faultsOf<T>(work: () => T | Promise<T>): Promise<{ value: T; faults: number }> {
  const before = process.resourceUsage().minorPageFault;
  const value = await work();
  return { value, faults: process.resourceUsage().minorPageFault - before };
}

describe('recycled kernel memory', () => {
  const pool = new CodecPool({ threads: 2 });
  afterAll(() => pool.close());

  it('a disposed result’s memory serves the next large encode (sync and on the pool) with correct output', async () => {
    // n = 100, 16 MiB: ~49 MB of slivers, above the dedicated-memory threshold.
    const first = randomBytes(16 << 20, 1);
    const second = randomBytes((16 << 20) - 12345, 2); // shorter: old bytes past its end must not leak in
    const fresh = await faultsOf(() => encodeBlob(first, { nShards: 100 }));
    fresh.value.dispose();
    fresh.value.dispose(); // idempotent
    const reused = await faultsOf(() => encodeBlobAsync(second, { nShards: 100, pool }));
    // Fresh memory: one fault per page of the ~85 MB dedicated memory; recycled: a small fraction.
    expect(reused.faults).toBeLessThan(fresh.faults / 2);
    const b = reused.value;
    expect(b.blobIdString).toBe(computeBlobMetadata(second, { nShards: 100 }).blobIdString);
    const again = encodeBlob(second, { nShards: 100 }); // fresh memory (the spare one is taken)
    for (let i = 0; i < 100; i++) {
      expect(Buffer.from(b.primarySlivers[i].toBcs()).equals(Buffer.from(again.primarySlivers[i].toBcs()))).toBe(true);
      expect(Buffer.from(b.secondarySlivers[i].toBcs()).equals(Buffer.from(again.secondarySlivers[i].toBcs()))).toBe(true);
    }
    b.dispose();
    const c = await faultsOf(() => encodeBlob(first, { nShards: 100 }));
    expect(c.faults).toBeLessThan(fresh.faults / 2);
    expect(c.value.blobIdString).toBe(fresh.value.blobIdString);
    again.dispose();
    c.value.dispose();
  });
});
