/**
 * computeFileMetadata (src/stream/file-metadata.ts): a file read piecewise into per-slot kernel
 * buffers (rows for the row tasks, then columns for the systematic column tasks: never the whole
 * blob) — the same metadata as the in-memory encoder and the official one, on pools of 1 and 2
 * workers and on a caller-slot pool, in both wasm flavours.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeBlob } from '../src/codec/encode.ts';
import { CodecPool } from '../src/pool/codec-pool.ts';
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

  it('a missing file is a file error; an aborted signal stops it', async () => {
    await expect(computeFileMetadata(join(dir, 'nope.bin'), { nShards: 10, pool: pools[0] })).rejects.toMatchObject({ code: 'ENOENT' });
    const path = join(dir, 'abort.bin');
    writeFileSync(path, randomBytes(100_000, 1));
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(computeFileMetadata(path, { nShards: 10, pool: pools[0], signal: controller.signal })).rejects.toThrow('stop');
  });
});
