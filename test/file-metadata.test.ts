/**
 * computeFileMetadata (src/stream/file-metadata.ts): a file read piecewise into per-slot kernel
 * buffers (rows for the row tasks, then columns for the systematic column tasks: never the whole
 * blob) — the same metadata as the in-memory encoder and the official one, on pools of 1 and 2
 * workers and on a caller-slot pool, in both wasm flavours.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeBlob, runSourceOn, type MessageSource, type RecoverySpill } from '../src/codec/encode.ts';
import { CodecPool } from '../src/pool/codec-pool.ts';
import { EncodingConfig } from '../src/codec/config.ts';
import { computeFileMetadata } from '../src/stream/file-metadata.ts';
import { computeStreamMetadata } from '../src/stream/encode-stream.ts';
import { randomBytes } from './helpers/blobs.ts';
import { blobIdToBase64Url, officialBlobId } from './helpers/official.ts';

describe('computeFileMetadata', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tusk-file-meta-'));
  const pools = [new CodecPool({ threads: 1 }), new CodecPool({ threads: 2 }), new CodecPool({ threads: 1, callerSlot: true })];
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  // Larger files first: the later, smaller ones reuse kernel memory holding the earlier bytes, so
  // a missing zero padding past the blob's end would change their blob IDs.
  for (const [n, size, encoding] of [
    [1000, 9_000_017, 'rs2'],
    [100, 1_000_003, 'rs2'],
    [10, 100_001, 'rs2'],
    [7, 1, 'rs2'],
    [4, 0, 'rs2'],
    [31, 50_000, 'rs8'],
  ] as const) {
    it(`n = ${n}, ${size} B, ${encoding}: same metadata as encodeBlob (and the official encoder for RS2)`, async () => {
      const data = randomBytes(size, n + size);
      const path = join(dir, `${n}-${size}.bin`);
      writeFileSync(path, data);
      const ref = encodeBlob(data, { nShards: n, encoding });
      if (encoding === 'rs2') expect(ref.blobIdString).toBe(blobIdToBase64Url(officialBlobId(data, n)));
      for (const pool of pools) {
        const got = await computeFileMetadata(path, { nShards: n, encoding, pool });
        expect(got.blobIdString).toBe(ref.blobIdString);
        expect(Buffer.from(got.metadata.toBcs()).equals(Buffer.from(ref.metadata.toBcs()))).toBe(true);
      }
    });
  }

  it('an aborted signal stops the read with its reason', async () => {
    const path = join(dir, 'abort.bin');
    writeFileSync(path, randomBytes(100_000, 3));
    const signal = AbortSignal.abort(new Error('stop here'));
    await expect(computeFileMetadata(path, { nShards: 10, pool: pools[0], signal })).rejects.toThrow(/stop here/);
  });

  it('computeStreamMetadata (bounded memory, no sliver kept): same metadata, no temporary files left', async () => {
    for (const [n, size, encoding] of [
      [1000, 3_000_001, 'rs2'],
      [31, 400_003, 'rs8'],
    ] as const) {
      const data = randomBytes(size, n);
      const path = join(dir, `stream-${n}.bin`);
      writeFileSync(path, data);
      const temps = mkdtempSync(join(dir, 'temps-'));
      const got = await computeStreamMetadata(path, { nShards: n, encoding, pool: pools[1], memoryBudget: 48 << 20, tempDir: temps });
      const ref = encodeBlob(data, { nShards: n, encoding });
      expect(got.blobIdString).toBe(ref.blobIdString);
      expect(Buffer.from(got.metadata.toBcs()).equals(Buffer.from(ref.metadata.toBcs()))).toBe(true);
      expect(readdirSync(temps)).toEqual([]);
    }
  });

  it('computeStreamMetadata for committees whose trees are smaller than three column blocks (n = 7…47): same metadata', async () => {
    // merkleNodes reduces three blocks at once in a slot's Merkle scratch: a planner that sized it
    // for one tree of n leaves (ceil(n/2)·32 bytes) let it overrun into the next slot's scratch.
    for (const [n, encoding] of [
      [7, 'rs2'],
      [13, 'rs2'],
      [31, 'rs2'],
      [47, 'rs2'],
      [31, 'rs8'],
    ] as const) {
      const data = randomBytes(150_001, n);
      const path = join(dir, `stream-small-${n}-${encoding}.bin`);
      writeFileSync(path, data);
      const ref = encodeBlob(data, { nShards: n, encoding });
      for (let round = 0; round < 3; round++) {
        const got = await computeStreamMetadata(path, { nShards: n, encoding, pool: pools[1], memoryBudget: 48 << 20 });
        expect(Buffer.from(got.metadata.toBcs()).equals(Buffer.from(ref.metadata.toBcs())), `n = ${n} ${encoding}`).toBe(true);
      }
    }
  });

  it('a missing file is a file error; an aborted signal stops it', async () => {
    await expect(computeFileMetadata(join(dir, 'nope.bin'), { nShards: 10, pool: pools[0] })).rejects.toMatchObject({ code: 'ENOENT' });
    const path = join(dir, 'abort.bin');
    writeFileSync(path, randomBytes(100_000, 1));
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(computeFileMetadata(path, { nShards: 10, pool: pools[0], signal: controller.signal })).rejects.toThrow('stop');
  });
});

/**
 * The recovery columns of a large metadata-only encode wait in a spill (an unlinked temporary
 * file) between the phases instead of fresh kernel memory: the same metadata for every path of the
 * rows task (RS2 with and without symbol slots, RS8), nothing left in the temporary directory, and
 * kernel memory when no file can be made.
 */
describe('computeFileMetadata: recovery columns spilled to a temporary file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tusk-spill-'));
  const pools = [new CodecPool({ threads: 2 }), new CodecPool({ threads: 1, callerSlot: true })];
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
    chmodSync(dir, 0o700);
    rmSync(dir, { recursive: true, force: true });
  });

  // Each has ≥ 4 MiB of recovery columns (the spill's threshold): n = 1000 with S = 42 (no slots),
  // n = 100 with S = 3776 (slots), RS8 n = 31 with S = 38 200.
  const cases = [
    [1000, 9_000_017, 'rs2'],
    [100, 34 * 67 * 3776, 'rs2'],
    [31, 11 * 21 * 38_200, 'rs8'],
  ] as const;
  for (const [n, size, encoding] of cases) {
    it(`n = ${n}, ${size} B, ${encoding}: same metadata; the temporary directory stays empty`, async () => {
      const data = randomBytes(size, 7 * n + 1);
      const path = join(dir, `${n}.bin`);
      writeFileSync(path, data);
      const temps = mkdtempSync(join(dir, 'temps-'));
      const ref = encodeBlob(data, { nShards: n, encoding });
      for (const pool of pools) {
        const got = await computeFileMetadata(path, { nShards: n, encoding, pool, tempDir: temps });
        expect(Buffer.from(got.metadata.toBcs()).equals(Buffer.from(ref.metadata.toBcs()))).toBe(true);
        expect(got.blobIdString).toBe(ref.blobIdString);
      }
      expect(readdirSync(temps)).toEqual([]);
    }, 60_000);
  }

  // Blobs over ~640 MiB at n = 1000 read narrower Phase B stripes than a 16-column block (the
  // slot buffer holds k_p·w·S bytes of columns): w = 1, and w = 3 (stripes cut across blocks, so
  // every block is partial and reduced in Phase C).
  for (const [n, size, encoding] of cases) {
    it(`narrow Phase B stripes, n = ${n}, ${encoding}: same metadata; progress reaches the blob size in both phases`, async () => {
      const data = randomBytes(size, 5 * n + 3);
      const path = join(dir, `narrow-${n}.bin`);
      writeFileSync(path, data);
      const ref = encodeBlob(data, { nShards: n, encoding });
      const column = new EncodingConfig(n, encoding).primarySymbols * ref.symbolSize; // k_p·S
      for (const [w, pool] of [
        [1, pools[0]],
        [3, pools[1]],
      ] as const) {
        const seen: Record<string, number[]> = { rows: [], columns: [] };
        const got = await computeFileMetadata(path, {
          nShards: n,
          encoding,
          pool,
          columnStripeBytes: w * column + column - 1,
          onProgress: (p) => {
            expect(p.bytesTotal).toBe(size);
            seen[p.phase].push(p.bytesDone);
          },
        });
        expect(Buffer.from(got.metadata.toBcs()).equals(Buffer.from(ref.metadata.toBcs()))).toBe(true);
        for (const done of Object.values(seen)) {
          expect(done.at(-1)).toBe(size);
          expect(done).toEqual([...done].sort((a, b) => a - b));
        }
        // w columns per stripe: the column phase has one task per stripe, ≥ n / w of them.
        expect(seen.columns.length).toBeGreaterThanOrEqual(Math.ceil(n / w));
      }
    }, 60_000);
  }

  it('the spill holds every recovery column once, in blocks that do not overlap, and every byte is read back once', async () => {
    const [n, size] = [1000, 9_000_017];
    const data = readFileSync(join(dir, `${n}.bin`));
    expect(data.length).toBe(size);
    const stored = new Map<number, Uint8Array>();
    let written = 0;
    let read = 0;
    const spill: RecoverySpill = {
      write(mem, src, length, position) {
        for (const [p, b] of stored) expect(position >= p + b.length || position + length <= p).toBe(true);
        stored.set(position, mem.slice(src, src + length));
        written += length;
      },
      read(mem, position, dsts, pieceBytes) {
        // The pieces lie inside one written block.
        const [start, block] = [...stored].filter(([p, b]) => p <= position && position < p + b.length)[0];
        dsts.forEach((d, i) => {
          const at = position - start + i * pieceBytes;
          expect(at + pieceBytes).toBeLessThanOrEqual(block.length);
          mem.set(block.subarray(at, at + pieceBytes), d);
        });
        read += dsts.length * pieceBytes;
      },
    };
    let opened = 0;
    const got = await runSourceOn(pools[0], size, { nShards: n }, ({ rowBytes, rows, symbolSize: S }) => {
      const source: MessageSource = {
        openSpill: () => (opened++, spill),
        readRows: (mem, dst, r0, count) => {
          const bytes = data.subarray(r0 * rowBytes, (r0 + count) * rowBytes);
          mem.set(bytes, dst);
          mem.fill(0, dst + bytes.length, dst + count * rowBytes);
        },
        readColumns: (mem, dst, c0, w) => {
          for (let r = 0; r < rows; r++) {
            const bytes = data.subarray(r * rowBytes + c0 * S, r * rowBytes + (c0 + w) * S);
            mem.set(bytes, dst + r * w * S);
            mem.fill(0, dst + r * w * S + bytes.length, dst + (r + 1) * w * S);
          }
        },
      };
      return source;
    });
    expect(got.blobIdString).toBe(encodeBlob(data, { nShards: n }).blobIdString);
    expect(opened).toBe(1);
    const area = (n - 667) * 334 * got.symbolSize;
    expect(written).toBe(area);
    expect(read).toBe(area);
  }, 60_000);

  it('no file can be made in the temporary directory: kernel memory instead, same metadata', async () => {
    if (process.getuid?.() === 0) {
      // root writes to a read-only directory anyway: use a path that is not a directory.
      const notDir = join(dir, 'not-a-dir');
      writeFileSync(notDir, '');
      await checkFallback(notDir);
    } else {
      const ro = mkdtempSync(join(dir, 'ro-'));
      chmodSync(ro, 0o500);
      await checkFallback(ro);
    }
    async function checkFallback(tempDir: string) {
      const path = join(dir, '1000.bin');
      const data = readFileSync(path);
      const got = await computeFileMetadata(path, { nShards: 1000, pool: pools[1], tempDir });
      expect(got.blobIdString).toBe(encodeBlob(data, { nShards: 1000 }).blobIdString);
    }
  }, 60_000);
});
