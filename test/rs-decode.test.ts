/** Reed–Solomon decoder: random erasure patterns for every golden-vector case. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { decodeMissingOriginals, encodeRecoveryShards } from '../src/rs/reed-solomon.ts';
import { VECTORS_DIR, lcgShards, readVector, readVectorJson } from './helpers/vectors.ts';

function split(buf: Uint8Array, count: number, bytes: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => buf.subarray(i * bytes, (i + 1) * bytes));
}

/** Small deterministic PRNG for erasure patterns. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** Keeps exactly `o` of the o + r shards, chosen at random; returns what the decoder sees. */
function erase(originals: Uint8Array[], recovery: Uint8Array[], next: () => number) {
  const o = originals.length,
    r = recovery.length;
  const ids = Array.from({ length: o + r }, (_, i) => i);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = next() % (i + 1);
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  const keep = new Set(ids.slice(0, o));
  return {
    orig: originals.map((s, i) => (keep.has(i) ? s : undefined)),
    rec: recovery.map((s, j) => (keep.has(o + j) ? s : undefined)),
  };
}

function checkDecode(originals: Uint8Array[], recovery: Uint8Array[], patterns: number, seed: number): void {
  const next = rng(seed);
  for (let p = 0; p < patterns; p++) {
    const { orig, rec } = erase(originals, recovery, next);
    const restored = decodeMissingOriginals(originals.length, orig, rec);
    for (let i = 0; i < originals.length; i++) {
      if (orig[i]) expect(restored.has(i)).toBe(false);
      else if (!Buffer.from(restored.get(i)!).equals(Buffer.from(originals[i]))) {
        throw new Error(`original ${i} restored wrongly (o=${originals.length}, r=${recovery.length}, pattern ${p})`);
      }
    }
  }
}

describe('Reed–Solomon decoder', () => {
  const manifest = readFileSync(new URL('manifest.txt', VECTORS_DIR), 'utf8').trim().split('\n');
  for (const line of manifest) {
    const [o, r, b, file] = line.split(' ');
    it(`decodes ${o}:${r} × ${b} from the golden recovery shards`, () => {
      const O = +o,
        R = +r,
        B = +b;
      const originals = split(lcgShards(O * 65537 + R * 257 + B, O, B), O, B);
      const recovery = split(readVector(file), R, B);
      checkDecode(originals, recovery, O * (R + O) > 2_000_000 ? 2 : 6, O * 31 + R);
    });
  }

  const cases = readVectorJson('vectors.json').cases as any[];
  for (const c of cases) {
    const { original_count: o, recovery_count: r, shard_bytes: b } = c;
    it(`decodes vectors.json ${o}:${r} × ${b} (${c.rate})`, () => {
      const originals = split(lcgShards(c.seed, o, b), o, b);
      const recovery = encodeRecoveryShards(originals, r);
      checkDecode(originals, recovery, o + r > 20_000 ? 1 : 3, c.seed);
    });
  }

  it('restores from recovery shards only, and returns nothing when no original is missing', () => {
    const originals = split(lcgShards(7, 5, 70), 5, 70);
    const recovery = encodeRecoveryShards(originals, 9);
    const restored = decodeMissingOriginals(5, [], recovery);
    expect([...restored.keys()].sort()).toEqual([0, 1, 2, 3, 4]);
    restored.forEach((v, i) => expect(v).toEqual(originals[i]));
    expect(decodeMissingOriginals(5, originals, new Array(9).fill(undefined)).size).toBe(0);
  });

  it('rejects too few shards and mismatched sizes', () => {
    const originals = split(lcgShards(9, 4, 64), 4, 64);
    const recovery = encodeRecoveryShards(originals, 4);
    expect(() => decodeMissingOriginals(4, [originals[0]], [recovery[0], recovery[1]])).toThrow(/need 4 shards/);
    expect(() => decodeMissingOriginals(4, [originals[0], new Uint8Array(62)], recovery)).toThrow(/same length/);
  });
});
