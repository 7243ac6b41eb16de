import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { encodeRecoveryShards } from '../src/rs/reed-solomon.ts';
import { VECTORS_DIR, lcgShards, readVector, readVectorJson, sha256Hex } from './helpers/vectors.ts';

function split(buf: Uint8Array, count: number, bytes: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => buf.subarray(i * bytes, (i + 1) * bytes));
}

function encode(o: number, r: number, b: number, seed: number): Uint8Array {
  const originals = split(lcgShards(seed, o, b), o, b);
  const rec = encodeRecoveryShards(originals, r);
  const out = new Uint8Array(r * b);
  rec.forEach((s, j) => out.set(s, j * b));
  return out;
}

describe('Reed–Solomon GF(2^16) golden vectors', () => {
  const manifest = readFileSync(new URL('manifest.txt', VECTORS_DIR), 'utf8').trim().split('\n');
  for (const line of manifest) {
    const [o, r, b, file] = line.split(' ');
    it(`enc ${o}:${r} × ${b}`, () => {
      const O = +o,
        R = +r,
        B = +b;
      expect(encode(O, R, B, O * 65537 + R * 257 + B)).toEqual(readVector(file));
    });
  }

  const cases = readVectorJson('vectors.json').cases as any[];
  for (const c of cases) {
    it(`vectors.json ${c.original_count}:${c.recovery_count} × ${c.shard_bytes} (${c.rate})`, () => {
      const out = encode(c.original_count, c.recovery_count, c.shard_bytes, c.seed);
      expect(Buffer.from(out.subarray(0, Math.min(16, c.shard_bytes))).toString('hex')).toBe(c.recovery0_first16_hex);
      expect(sha256Hex(out)).toBe(c.sha256_recovery_concat);
    });
  }

  it('tiny vectors from the spec (§8)', () => {
    const hex = (u: Uint8Array[]) => u.map((s) => Buffer.from(s).toString('hex'));
    const run = (o: number, r: number, b: number) => {
      const orig = split(lcgShards(o * 7919 + r * 31 + b, o, b), o, b);
      return [hex(orig), hex(encodeRecoveryShards(orig, r))];
    };
    expect(run(2, 2, 2)).toEqual([
      ['3b4f', '74ee'],
      ['5093', '1f32'],
    ]);
    expect(run(4, 2, 2)).toEqual([
      ['e31c', '74d7', '234a', '0eba'],
      ['53ef', 'e9d4'],
    ]);
    expect(run(3, 5, 6)[1]).toEqual(['989a32ced6b1', '02bade4162c6', 'b761a2797221', '66fd01b89b0b', '6bd615d5990b']);
  });

  it('rejects bad shapes with typed errors', () => {
    expect(() => encodeRecoveryShards([new Uint8Array(3)], 1)).toThrow(/even/);
    expect(() => encodeRecoveryShards([], 1)).toThrow(/at least one/);
    expect(() => encodeRecoveryShards([new Uint8Array(2), new Uint8Array(4)], 1)).toThrow(/same length/);
    expect(() => encodeRecoveryShards([new Uint8Array(2)], 65536)).toThrow(/unsupported/);
  });
});
