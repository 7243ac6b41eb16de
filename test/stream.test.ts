/** Streaming encoder: same bytes as the in-memory encoder, bounded memory, clean failure. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { encodeBlob } from '../src/codec/encode.ts';
import { decodeBlob } from '../src/codec/decode.ts';
import { encodeStream } from '../src/stream/encode-stream.ts';
import { callbackSink } from '../src/stream/sink.ts';
import { directorySink } from '../src/stream/sliver-dir.ts';
import { readSliverDirectory, writeSliverDirectory } from '../src/stream/sliver-dir.ts';
import { CodecPool } from '../src/pool/codec-pool.ts';
import type { SliverData } from '../src/codec/sliver.ts';
import { officialEncode } from './helpers/official.ts';
import { randomBytes } from './helpers/blobs.ts';

function collect() {
  const got = new Map<string, Buffer>();
  const sink = callbackSink((s: SliverData) => void got.set(`${s.axis}${s.index}`, Buffer.from(s.toBcs())));
  return { got, sink };
}

describe('encodeStream', () => {
  const pools = [new CodecPool({ threads: 1 }), new CodecPool({ threads: 2 })];
  const dir = mkdtempSync(join(tmpdir(), 'tusk-stream-test-'));
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives the official encoder's bytes and blob ID, from a file, with a tiny budget and both pool sizes", async () => {
    const n = 100;
    const data = randomBytes(3_000_017, 5);
    const file = join(dir, 'in.bin');
    writeFileSync(file, data);
    const ref = officialEncode(data, n);
    for (const pool of pools) {
      const { got, sink } = collect();
      const meta = await encodeStream(file, { nShards: n, sink, pool, memoryBudget: 8 << 20 });
      expect(Buffer.from(meta.blobId).equals(Buffer.from(ref.blobId))).toBe(true);
      expect(got.size).toBe(2 * n);
      for (let i = 0; i < n; i++) {
        expect(got.get(`primary${i}`)!.equals(Buffer.from(ref.primary[i]))).toBe(true);
        expect(got.get(`secondary${i}`)!.equals(Buffer.from(ref.secondary[i]))).toBe(true);
      }
    }
  });

  it('matches the in-memory encoder for Node streams and async iterables (n = 1000, rs8 n = 195)', async () => {
    for (const [n, encoding, size] of [
      [1000, 'rs2', 2_500_000],
      [195, 'rs8', 1_000_001],
    ] as const) {
      const data = randomBytes(size, n);
      const ref = encodeBlob(data, { nShards: n, encoding });
      const chunks = function* () {
        for (let i = 0; i < data.length; i += 65_537) yield data.subarray(i, i + 65_537);
      };
      const viaStream = collect();
      const m1 = await encodeStream(Readable.from(chunks()), { nShards: n, encoding, sink: viaStream.sink, pool: pools[1], tempDir: dir });
      const viaIterable = collect();
      const m2 = await encodeStream(
        (async function* () {
          yield* chunks();
        })(),
        { nShards: n, encoding, length: size, sink: viaIterable.sink, pool: pools[1] },
      );
      for (const m of [m1, m2]) expect(m.blobIdString).toBe(ref.blobIdString);
      for (const { got } of [viaStream, viaIterable]) {
        for (const s of [...ref.primarySlivers, ...ref.secondarySlivers]) {
          if (!got.get(`${s.axis}${s.index}`)!.equals(Buffer.from(s.toBcs()))) throw new Error(`${s.axis} ${s.index} differs (n=${n})`);
        }
      }
    }
  });

  it('writes a sliver directory that reads back', async () => {
    const data = randomBytes(777_777, 9);
    const out = join(dir, 'spool');
    const meta = await encodeStream(data, { nShards: 10, sink: await directorySink(out), pool: pools[0] });
    const read = await readSliverDirectory(out);
    expect(read.metadata.blobIdString).toBe(meta.blobIdString);
    expect(read.slivers).toHaveLength(20);
    expect(
      decodeBlob(
        read.metadata,
        read.slivers.filter((s) => s.axis === 'secondary'),
        { nShards: 10 },
      ),
    ).toEqual(data);
  });

  it('in-place sliver writes (directorySink) give the same files as delivered slivers, with no temporary files (n = 1000, rs8 n = 31)', async () => {
    for (const [nShards, encoding, size] of [
      [1000, 'rs2', 3_000_001],
      [31, 'rs8', 400_003],
    ] as const) {
      const data = randomBytes(size, nShards);
      const inPlace = join(dir, `in-place-${nShards}`);
      const delivered = join(dir, `delivered-${nShards}`);
      const temps = mkdtempSync(join(dir, 'temps-'));
      // A small budget: many row and column stripes, so every sliver file gets many positional writes.
      const options = { nShards, encoding, pool: pools[1], memoryBudget: 48 << 20, tempDir: temps };
      const a = await encodeStream(data, { ...options, sink: await directorySink(inPlace) });
      expect(readdirSync(temps)).toEqual([]); // no column or row file was needed
      const inner = await directorySink(delivered);
      // Without sliverFile the encoder delivers every sliver (temporary column and row files).
      const plain = { writeSliver: inner.writeSliver, writeMetadata: inner.writeMetadata, close: inner.close };
      const b = await encodeStream(data, { ...options, sink: plain });
      expect(a.blobIdString).toBe(b.blobIdString);
      const ref = encodeBlob(data, { nShards, encoding });
      expect(a.blobIdString).toBe(ref.blobIdString);
      for (const axis of ['primary', 'secondary'] as const) {
        for (let i = 0; i < nShards; i++) {
          const got = readFileSync(join(inPlace, axis, `${i}.bcs`));
          if (!got.equals(readFileSync(join(delivered, axis, `${i}.bcs`)))) throw new Error(`${axis} ${i} differs`);
          const want = (axis === 'primary' ? ref.primarySlivers : ref.secondarySlivers)[i].toBcs();
          if (!got.equals(Buffer.from(want))) throw new Error(`${axis} ${i} differs from encodeBlob`);
        }
      }
      rmSync(temps, { recursive: true, force: true });
    }
  });

  // Stripes are sized for I/O (64 KiB per shard), RS calls for the work array (8 KiB): a stripe of
  // h rows runs as tasks of ⌊8 KiB / S⌋ rows, the last one shorter, and a column stripe as RS calls
  // of as many columns. S = 3000: calls of 2 rows or columns in stripes of 21 rows (then 13);
  // S = 9000: one row or column per call.
  it('RS calls smaller than the stripes (n = 100, S = 3000 and 9000): the same slivers as the in-memory encoder', async () => {
    for (const S of [3000, 9000]) {
      const size = 34 * 67 * S - 5; // n = 100: k_p = 34, k_s = 67
      const data = randomBytes(size, S);
      const { got, sink } = collect();
      const meta = await encodeStream(data, { nShards: 100, pool: pools[1], sink });
      const ref = encodeBlob(data, { nShards: 100 });
      expect(ref.symbolSize).toBe(S);
      expect(meta.blobIdString).toBe(ref.blobIdString);
      for (const sliver of [...ref.primarySlivers, ...ref.secondarySlivers]) {
        if (!got.get(`${sliver.axis}${sliver.index}`)?.equals(Buffer.from(sliver.toBcs())))
          throw new Error(`${sliver.axis} ${sliver.index} differs`);
      }
    }
  });

  it('abort mid-encode: rejects with the reason, leaves no temporary files and no output directory', async () => {
    const data = randomBytes(8 << 20, 3);
    const out = join(dir, 'aborted');
    const controller = new AbortController();
    let seen = 0;
    const inner = await directorySink(out);
    const sink = {
      ...inner,
      writeSliver: (s: SliverData) => {
        if (++seen === 50) controller.abort(new Error('stop now'));
        return inner.writeSliver(s);
      },
    };
    const temps = mkdtempSync(join(dir, 'temps-'));
    await expect(
      encodeStream(data, { nShards: 1000, sink, pool: pools[1], signal: controller.signal, memoryBudget: 64 << 20, tempDir: temps }),
    ).rejects.toThrow('stop now');
    expect(readdirSync(temps)).toEqual([]);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('reports progress for each phase up to its total', async () => {
    const phases = new Map<string, { done: number; total: number }>();
    await encodeStream(randomBytes(1 << 20, 1), {
      nShards: 100,
      sink: collect().sink,
      pool: pools[1],
      onProgress: (p) => phases.set(p.phase, { done: p.bytesDone, total: p.bytesTotal }),
    });
    expect([...phases.keys()]).toEqual(['rows', 'columns', 'slivers']);
    for (const { done, total } of phases.values()) expect(done).toBe(total);
  });
});

describe('encodeStream failures', () => {
  it('a source that fails mid-way rejects (no hang) and cleans up', async () => {
    const pool = new CodecPool({ threads: 2 });
    try {
      async function* broken() {
        yield randomBytes(1 << 20, 1);
        throw new Error('disk on fire');
      }
      const temps = mkdtempSync(join(tmpdir(), 'tusk-failing-'));
      await expect(
        encodeStream(broken(), { nShards: 1000, length: 8 << 20, sink: collect().sink, pool, memoryBudget: 48 << 20, tempDir: temps }),
      ).rejects.toThrow('disk on fire');
      await expect(encodeStream(broken(), { nShards: 1000, length: 3 << 20, sink: collect().sink, pool, tempDir: temps })).rejects.toThrow(
        'disk on fire',
      );
      await expect(encodeStream(broken(), { nShards: 1000, sink: collect().sink, pool, tempDir: temps })).rejects.toThrow('disk on fire');
      // A stream longer than its declared length is an error, not a silent truncation.
      await expect(
        encodeStream(Readable.from([randomBytes(1000, 2)]), { nShards: 10, length: 999, sink: collect().sink, pool, tempDir: temps }),
      ).rejects.toThrow(/longer than the declared length/);
      // A budget too small for even one stripe is a clear error.
      await expect(
        encodeStream(randomBytes(1 << 20, 3), { nShards: 1000, sink: collect().sink, pool, memoryBudget: 8 << 20, tempDir: temps }),
      ).rejects.toThrow(/memory budget .* too small/);
      expect(readdirSync(temps)).toEqual([]);
      rmSync(temps, { recursive: true, force: true });
    } finally {
      await pool.close();
    }
  });
});

describe('decodeDirectory (streaming decoder)', () => {
  it('rebuilds the blob from k_p primary slivers (half recovery) or k_s secondary ones, skipping bad files', async () => {
    const { decodeDirectory } = await import('../src/stream/decode-stream.ts');
    const { readFileSync, unlinkSync, writeFileSync: write } = await import('node:fs');
    const pool = new CodecPool({ threads: 2 });
    const dir = mkdtempSync(join(tmpdir(), 'tusk-decode-test-'));
    try {
      for (const [n, encoding, size] of [
        [100, 'rs2', 2_000_003],
        [1000, 'rs2', 1_500_000],
        [31, 'rs8', 300_001],
      ] as const) {
        const data = randomBytes(size, n);
        const spool = join(dir, `spool-${n}-${encoding}`);
        await encodeStream(data, { nShards: n, encoding, pool, sink: await directorySink(spool) });
        const f = Math.floor((n - 1) / 3),
          kP = n - 2 * f,
          half = Math.floor(kP / 2);
        for (let i = 0; i < n; i++) if (i < half || i > half + kP) unlinkSync(join(spool, 'primary', `${i}.bcs`));
        const bad = readFileSync(join(spool, 'primary', `${half}.bcs`));
        bad[bad.length - 10] ^= 4; // corrupt one: k_p valid ones remain
        write(join(spool, 'primary', `${half}.bcs`), bad);
        const rejected: string[] = [];
        const out = join(dir, `out-${n}.bin`);
        const r = await decodeDirectory(spool, out, { pool, memoryBudget: 32 << 20, onRejected: (e) => rejected.push(e.message) });
        expect(r).toMatchObject({ axis: 'primary', bytes: size, reconstructed: half + 1 }); // 0…half−1 deleted, half corrupted
        expect(rejected).toEqual([`primary sliver ${half}: Merkle root of the expanded sliver does not match the metadata`]);
        expect(readFileSync(out).equals(Buffer.from(data))).toBe(true);
        // Secondary axis only: k_s of them.
        for (let i = 0; i < n; i++) if (i >= half && i <= half + kP) unlinkSync(join(spool, 'primary', `${i}.bcs`));
        for (let j = 0; j < f; j++) unlinkSync(join(spool, 'secondary', `${j}.bcs`));
        const out2 = join(dir, `out2-${n}.bin`);
        expect((await decodeDirectory(spool, out2, { pool })).axis).toBe('secondary');
        expect(readFileSync(out2).equals(Buffer.from(data))).toBe(true);
        // A second, non-canonical name for a valid sliver is skipped, not counted twice.
        const { copyFileSync } = await import('node:fs');
        copyFileSync(join(spool, 'secondary', `${f + 1}.bcs`), join(spool, 'secondary', `0${f + 1}.bcs`));
        // One more missing: a clear, retryable error and no output file.
        unlinkSync(join(spool, 'secondary', `${f}.bcs`));
        await expect(decodeDirectory(spool, join(dir, 'never.bin'), { pool })).rejects.toThrow(/not enough valid slivers/);
        expect(existsSync(join(dir, 'never.bin'))).toBe(false);
      }
      expect(readdirSync(dir).filter((x) => x.includes('.tmp-'))).toEqual([]);
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('writeSliverDirectory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tusk-writedir-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the in-memory encoding in the tusk encode layout, atomically, and refuses an existing directory', async () => {
    const data = randomBytes(20_000, 41);
    const blob = encodeBlob(data, { nShards: 10 });
    const out = join(dir, 'enc');
    await writeSliverDirectory(out, blob);
    expect(readdirSync(out).sort()).toEqual(['blob.json', 'metadata.bcs', 'primary', 'secondary']);
    expect(readdirSync(dir)).toEqual(['enc']); // no temporary sibling left behind
    const back = await readSliverDirectory(out);
    expect(back.slivers).toHaveLength(20);
    expect(Buffer.from(decodeBlob(back.metadata, back.slivers, { nShards: 10 })).equals(Buffer.from(data))).toBe(true);
    await expect(writeSliverDirectory(out, blob)).rejects.toThrow(/already exists/);
    await writeSliverDirectory(out, blob, { overwrite: true });
    expect(readdirSync(dir)).toEqual(['enc']);
  });
});
