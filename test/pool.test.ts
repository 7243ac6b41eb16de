/** The codec worker pool: same bytes as the single-thread encoder, whatever the pool size. */
import { afterAll, describe, expect, it } from 'vitest';
import { encodeBlob } from '../src/codec/encode.ts';
import { encodeBlobAsync, computeBlobMetadataAsync } from '../src/pool/async-codec.ts';
import { CodecPool } from '../src/pool/codec-pool.ts';
import { randomBytes } from './helpers/blobs.ts';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defaultKernel } from '../src/wasm/kernel.ts';
import type { StripeTask } from '../src/codec/tasks.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A Phase C task of n = 4, k_p = 2: recovery row 0's root over its 2 block nodes → pair 2's primary hash. */
function recoveryRootTask(rowNodes: number, pairHashes: number, scratch: number): StripeTask {
  return {
    kind: 'roots',
    n: 4,
    kP: 2,
    first: 0,
    count: 1,
    levels: 1,
    blocks: 2,
    rowNodes,
    partialBlocks: [],
    partial: 0,
    pairHashes,
    scratch,
  };
}

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

  it('ready(): at once for the caller slot; a worker slot only once its thread has booted', async () => {
    const pool = new CodecPool({ threads: 1, callerSlot: true });
    try {
      let workerUp = false;
      const worker = pool.ready(0).then(() => (workerUp = true));
      await pool.ready(pool.slots - 1);
      // A thread takes tens of milliseconds to boot: not up one macrotask after the constructor.
      await new Promise((r) => setImmediate(r));
      expect(workerUp).toBe(false);
      await worker;
      expect(workerUp).toBe(true);
      await pool.ready(1); // the same thread's second slot
    } finally {
      await pool.close();
    }
  });

  it('callerSlot: the calling thread runs one chain itself, same bytes', async () => {
    const pool = new CodecPool({ threads: 1, callerSlot: true });
    try {
      expect(pool.slots).toBe(3); // two slots for the worker (it is given two tasks at once), one for the caller
      const data = randomBytes(700_001, 9);
      const ref = encodeBlob(data, { nShards: 300 });
      const meta = await computeBlobMetadataAsync(data, { nShards: 300, pool });
      expect(Buffer.from(meta.metadata.toBcs()).equals(Buffer.from(ref.metadata.toBcs()))).toBe(true);
      const got = await encodeBlobAsync(data, { nShards: 300, pool });
      expect(got.blobIdString).toBe(ref.blobIdString);
      for (let i = 0; i < 300; i++) {
        if (Buffer.compare(got.primarySlivers[i].toBcs(), ref.primarySlivers[i].toBcs()) !== 0) throw new Error(`primary ${i} differs`);
      }
    } finally {
      await pool.close();
    }
  });

  it("a task's error reaches the caller, and the worker keeps serving", async () => {
    const kernel = defaultKernel();
    const bad = recoveryRootTask(0, kernel.memory.buffer.byteLength, 0);
    // Under vitest every task is bounds-checked before it runs (CHECK_TASKS), in the worker too.
    await expect(pools[0].run(kernel, bad)).rejects.toThrow(/outside memory/);
    const data = randomBytes(10_001, 5);
    const meta = await computeBlobMetadataAsync(data, { nShards: 10, pool: pools[0] });
    expect(meta.blobIdString).toBe(encodeBlob(data, { nShards: 10 }).blobIdString);
  });

  it('an idle pool does not keep the process alive (no close needed to exit)', () => {
    const script = [
      "const { CodecPool } = await import('./src/pool/codec-pool.ts');",
      "const { computeBlobMetadataAsync } = await import('./src/pool/async-codec.ts');",
      'const pool = new CodecPool({ threads: 2 });',
      'const m = await computeBlobMetadataAsync(new Uint8Array(1000), { nShards: 10, pool });',
      'console.log(m.blobIdString);',
    ].join('\n');
    const out = execFileSync(process.execPath, ['-e', script], { cwd: ROOT, timeout: 60_000, encoding: 'utf8' });
    expect(out.trim()).toBe(encodeBlob(new Uint8Array(1000), { nShards: 10 }).blobIdString);
  });

  it('prespawned workers: a pool adopts them (module sent after boot, same bytes); unadopted ones do not hold the process', () => {
    const script = [
      "const { prespawnCodecWorkers, takePrespawnedWorker } = await import('./src/pool/prespawn.ts');",
      'prespawnCodecWorkers(3);',
      "const { CodecPool } = await import('./src/pool/codec-pool.ts');",
      "const { computeBlobMetadataAsync } = await import('./src/pool/async-codec.ts');",
      'const pool = new CodecPool({ threads: 2 });', // adopts two, one stays waiting
      'const left = takePrespawnedWorker();',
      "if (!left || takePrespawnedWorker()) throw new Error('expected exactly one worker left over');",
      'prespawnCodecWorkers(1);', // never adopted: must not keep the process alive
      'const m = await computeBlobMetadataAsync(new Uint8Array(100_000).fill(7), { nShards: 100, pool });',
      'await left.terminate();',
      'console.log(m.blobIdString);',
    ].join('\n');
    const out = execFileSync(process.execPath, ['-e', script], { cwd: ROOT, timeout: 60_000, encoding: 'utf8' });
    expect(out.trim()).toBe(encodeBlob(new Uint8Array(100_000).fill(7), { nShards: 100 }).blobIdString);
  });

  it('close() lets queued tasks finish, then refuses new ones', async () => {
    const pool = new CodecPool({ threads: 1 });
    const kernel = defaultKernel();
    const mark = kernel.mark();
    try {
      const rowNodes = kernel.alloc(4 * 32);
      const out = kernel.alloc(4 * 64);
      const scratch = kernel.alloc(64);
      kernel.u8().fill(7, rowNodes, rowNodes + 4 * 32);
      kernel.u8().fill(0, out, out + 4 * 64);
      const task = recoveryRootTask(rowNodes, out, scratch);
      const queued = pool.run(kernel, task);
      const closing = pool.close();
      await queued; // queued before close(): it runs
      await closing;
      expect(
        kernel
          .u8()
          .subarray(out + 128, out + 160)
          .some((b) => b !== 0),
      ).toBe(true);
      await expect(pool.run(kernel, task)).rejects.toThrow(/closed/);
    } finally {
      kernel.release(mark);
    }
  });

  it('rejects a bad pool size', () => {
    expect(() => new CodecPool({ threads: 0 })).toThrow(/positive integer/);
  });
});
