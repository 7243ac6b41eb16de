/** Reed–Solomon over GF(2^8) (Leopard's 8-bit code, shared/spec/reed-solomon.md §1.6). */
import { describe, expect, it } from 'vitest';
import { defaultKernel } from '../src/wasm/kernel.ts';
import { decodeMissingOriginals, encodeRecoveryShards, supportsCounts } from '../src/rs/reed-solomon.ts';
import { lcgShards, readVectorJson, sha256Hex } from './helpers/vectors.ts';
import { rng, pick } from './helpers/blobs.ts';

const gf8 = { field: 'gf8' as const };

function split(buf: Uint8Array, count: number, bytes: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => buf.subarray(i * bytes, (i + 1) * bytes));
}

describe('GF(2^8) tables', () => {
  const k = defaultKernel();
  const table = (ptr: number, len: number) => k.u8().slice(ptr, ptr + len);
  it('match Leopard (spot values and SHA-256)', () => {
    const log = table(k.exports.gf8LogPtr(), 256),
      exp = table(k.exports.gf8ExpPtr(), 256),
      skew = table(k.exports.gf8SkewPtr(), 255);
    expect(Buffer.from(log.subarray(0, 16)).toString('hex')).toBe('ff0055aa11442288997766dd33eebbcc');
    expect(Buffer.from(exp.subarray(0, 16)).toString('hex')).toBe('01685c6472f05612' + '4b8e88d07d271bc4');
    expect([...skew.subarray(0, 16)]).toEqual([255, 255, 85, 255, 17, 85, 34, 255, 153, 17, 102, 85, 51, 34, 187, 255]);
    expect(sha256Hex(log)).toBe('b0d47cfab7d088a5c7e96b595d201c26157ab9ab97564484daaace53f632a8b8');
    expect(sha256Hex(exp)).toBe('7105edb0ae389167a53e994ae2b1f685b8f85a862d17d0adc314c91e77141098');
    expect(sha256Hex(skew)).toBe('27054a3b1eeb2b7be3098a35c142cce7b5050f1c3fc1df5bfec98ada9f0cefd0');
  });
});

describe('GF(2^8) golden vectors (Leopard)', () => {
  const cases = readVectorJson('ff8_vectors.json').cases as any[];
  for (const c of cases) {
    const { original_count: o, recovery_count: r, shard_bytes: b } = c;
    it(`${o}:${r} × ${b} (${c.leopard_path}) encodes, and decodes random erasures`, () => {
      const originals = split(lcgShards(c.seed, o, b), o, b);
      const recovery = encodeRecoveryShards(originals, r, gf8);
      const concat = Buffer.concat(recovery);
      expect(concat.subarray(0, 16).toString('hex')).toBe(c.recovery0_first16_hex);
      expect(sha256Hex(concat)).toBe(c.sha256_recovery_concat);
      const next = rng(c.seed);
      for (let t = 0; t < 2; t++) {
        const keep = new Set(pick(o + r, o, next));
        const restored = decodeMissingOriginals(
          o,
          originals.map((s, i) => (keep.has(i) ? s : undefined)),
          recovery.map((s, j) => (keep.has(o + j) ? s : undefined)),
          gf8,
        );
        restored.forEach((v, i) => expect(Buffer.from(v).equals(Buffer.from(originals[i]))).toBe(true));
        expect(restored.size).toBe([...Array(o).keys()].filter((i) => !keep.has(i)).length);
      }
    });
  }

  it('low rate (more recovery than originals, which Leopard cannot encode) round-trips, any shard size', () => {
    const next = rng(77);
    for (const [o, r, b] of [
      [3, 5, 7],
      [34, 66, 13],
      [10, 200, 1],
      [100, 120, 64],
      [1, 255, 3],
      [60, 190, 33],
    ]) {
      const originals = split(lcgShards(o * 31 + r, o, b), o, b);
      const recovery = encodeRecoveryShards(originals, r, gf8);
      const keep = new Set(pick(o + r, o, next));
      const restored = decodeMissingOriginals(
        o,
        originals.map((s, i) => (keep.has(i) ? s : undefined)),
        recovery.map((s, j) => (keep.has(o + j) ? s : undefined)),
        gf8,
      );
      expect(restored.size).toBe([...Array(o).keys()].filter((i) => !keep.has(i)).length);
      restored.forEach((v, i) => expect(v).toEqual(originals[i]));
    }
  });

  it('enforces the 8-bit count limit', () => {
    expect(supportsCounts(128, 128, 'gf8')).toBe(true);
    expect(supportsCounts(129, 128, 'gf8')).toBe(false);
    expect(supportsCounts(255, 1, 'gf8')).toBe(true);
    expect(() => encodeRecoveryShards(split(new Uint8Array(129 * 4), 129, 4), 128, gf8)).toThrow(/unsupported counts/);
  });
});
