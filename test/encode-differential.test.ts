/**
 * Differential tests: Tusk's RS2 encoder against the official Walrus encoder
 * (@mysten/walrus-wasm, devDependency). Every sliver's BCS, every pair hash, the root hash, the
 * metadata BCS and the blob ID must be byte-identical.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { encodeBlob, computeBlobMetadata } from '../src/codec/encode.ts';
import { EncodingConfig } from '../src/codec/config.ts';
import { officialEncode } from './helpers/official.ts';
import { randomBytes } from './helpers/blobs.ts';

const SLOW = process.env.TUSK_SLOW === '1';

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

function compare(data: Uint8Array, nShards: number): void {
  const ours = encodeBlob(data, { nShards });
  const ref = officialEncode(data, nShards);
  expect(ours.symbolSize).toBe(ref.symbolSize);
  expect(hex(ours.rootHash)).toBe(hex(ref.rootHash));
  expect(hex(ours.blobId)).toBe(hex(ref.blobId));
  for (let i = 0; i < nShards; i++) {
    if (hex(ours.primarySlivers[i].toBcs()) !== hex(ref.primary[i])) {
      throw new Error(`primary sliver ${i} differs (n=${nShards}, L=${data.length})`);
    }
    if (hex(ours.secondarySlivers[i].toBcs()) !== hex(ref.secondary[i])) {
      throw new Error(`secondary sliver ${i} differs (n=${nShards}, L=${data.length})`);
    }
    expect(hex(ours.metadata.hashes[i].primary)).toBe(hex(ref.pairHashes[i].primary));
    expect(hex(ours.metadata.hashes[i].secondary)).toBe(hex(ref.pairHashes[i].secondary));
  }
  expect(hex(ours.metadata.toBcs())).toBe(hex(ref.metadataBcs));
  // The metadata-only path agrees with the full encode.
  const meta = computeBlobMetadata(data, { nShards });
  expect(meta.blobIdString).toBe(ours.blobIdString);
  expect(hex(meta.metadata.toBcs())).toBe(hex(ref.metadataBcs));
}

/** Sizes that exercise symbol-size steps and the 64-byte tail rule for committee `n`. */
function interestingSizes(n: number): number[] {
  const c = new EncodingConfig(n);
  const k = c.sourceSymbols;
  const sizes = new Set<number>([0, 1, 2, 3, k - 1, k, k + 1, 2 * k, 2 * k + 1]);
  for (const s of [4, 24, 62, 64, 66, 126, 128, 130]) {
    sizes.add(k * s); // exactly S = s
    sizes.add(k * (s - 2) + 1); // the smallest blob with S = s
  }
  return [...sizes].filter((x) => x <= c.maxBlobSize).sort((a, b) => a - b);
}

describe('RS2 encode matches the official encoder', () => {
  for (const n of [4, 7, 10, 13, 100]) {
    it(`n_shards = ${n}: sizes straddling symbol-size steps and tail cases`, () => {
      for (const size of interestingSizes(n)) compare(randomBytes(size, size + n), n);
    });
  }

  it('n_shards = 301: several sizes', () => {
    for (const size of [0, 1, 65_535, 1 << 20]) compare(randomBytes(size, size + 7), 301);
  });

  it('n_shards = 1000: empty, 1 byte, odd sizes and ~1 MiB (S = 6, 2 and 4 with tails)', () => {
    for (const size of [0, 1, 300_001, 1_048_576 + 3]) compare(randomBytes(size, size + 11), 1000);
  });

  it('random sizes up to a few MiB across committee sizes', () => {
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const count = SLOW ? 12 : 4;
    for (let i = 0; i < count; i++) {
      const n = [4, 7, 10, 13, 100, 301][next() % 6];
      const size = next() % Math.min(new EncodingConfig(n).maxBlobSize + 1, SLOW ? 4 << 20 : 1 << 20);
      compare(randomBytes(size, next()), n);
    }
  });

  it.runIf(SLOW)('n_shards = 1000: 16 MiB and a 64-byte-aligned symbol size', () => {
    const k = new EncodingConfig(1000).sourceSymbols;
    compare(randomBytes(16 << 20, 99), 1000);
    compare(randomBytes(k * 64, 98), 1000);
  });
});

describe('blob-ID snapshots of the official TS SDK (n = 1000)', () => {
  const snapshots = JSON.parse(readFileSync(new URL('./fixtures/blob-id-snapshots.json', import.meta.url), 'utf8')) as {
    description: string;
    length: number;
    seed?: number;
    fill?: number;
    nShards: number;
    blobId: string;
  }[];
  for (const s of snapshots) {
    it(`${s.description} (${s.length} B)`, () => {
      const data = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) data[i] = s.fill ?? (i + s.seed!) % 256;
      expect(computeBlobMetadata(data, { nShards: s.nShards }).blobIdString).toBe(s.blobId);
    });
  }
});
