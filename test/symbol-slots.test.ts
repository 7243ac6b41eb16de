/**
 * The slot layout of the work shards (scheme.gatherSlots / slotsToSymbols, assembly/codec/layout.ts):
 * Phase B hashes the recovery rows where the RS call leaves them, so a slot must turn back into
 * exactly its symbol's bytes, and an RS transform over slots must give the same symbols as one
 * over the dense planar layout (gather / scatter). Every RS2 tail length (S mod 64) is covered.
 */
import { describe, expect, it } from 'vitest';
import { encodingByName } from '../src/codec/encodings/index.ts';
import { slotShardBytes } from '../src/codec/tasks.ts';
import { defaultKernel } from '../src/wasm/kernel.ts';

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const rs2Sizes = [...Array.from({ length: 66 }, (_, i) => 2 * (i + 1)), 1206, 4094];
const cases: [string, number][] = [
  ...rs2Sizes.map((s): [string, number] => ['RS2', s]),
  ...[1, 7, 64, 65, 1206].map((s): [string, number] => ['RS8', s]),
];

describe('symbol slots', () => {
  it.each(cases)('%s S=%i: slots hold the symbols after an RS encode, as the dense layout does', (name, S) => {
    const scheme = encodingByName(name);
    const k = defaultKernel();
    const e = k.exports;
    const mark = k.mark();
    try {
      const o = 4,
        r = 6,
        count = 3; // symbols per shard (an RS call's columns)
      // RS2: whole 64-byte blocks; RS8: the symbol itself (slotBytes may decline small RS2 symbols).
      const slot = name === 'RS2' ? Math.ceil(S / 64) * 64 : S;
      expect(scheme.slotBytes(S) === 0 || scheme.slotBytes(S) === slot).toBe(true);
      // Symbols (a, b): a < count (the column), b < o (the shard), column-major as Phase B reads them.
      const sym = k.put(bytes(count * o * S, S));
      const shards = e.rsWorkShards(o, r);
      const denseStride = scheme.planarBytes(count, S);
      const slotStride = slotShardBytes(count, slot);
      const dense = k.alloc(shards * denseStride);
      const slots = k.alloc(shards * slotStride);
      k.u8().fill(0, dense, dense + shards * denseStride);
      k.u8().fill(0xa5, slots, slots + shards * slotStride); // padding lanes hold anything
      scheme.gather(e, sym, o * S, S, count, o, S, dense, denseStride);
      scheme.gatherSlots(e, sym, o * S, S, count, o, S, slots, slotStride, slot);

      // Without a transform, the slots turn back into the input symbols.
      const copy = k.alloc(o * slotStride);
      k.u8().copyWithin(copy, slots, slots + o * slotStride);
      scheme.slotsToSymbols(e, copy, slotStride, count, o, S, slot);
      const mem = k.u8();
      for (let b = 0; b < o; b++)
        for (let a = 0; a < count; a++)
          expect(Buffer.from(mem.subarray(copy + b * slotStride + a * slot, copy + b * slotStride + a * slot + S))).toEqual(
            Buffer.from(mem.subarray(sym + a * o * S + b * S, sym + a * o * S + (b + 1) * S)),
          );

      // After an encode, slot a of recovery shard j is what the dense layout scatters.
      scheme.encode(e, dense, denseStride, denseStride, o, r);
      scheme.encode(e, slots, slotStride, slotStride, o, r);
      const out = k.alloc(r * count * S);
      scheme.scatter(e, dense, denseStride, count, r, S, out, S, count * S);
      scheme.slotsToSymbols(e, slots, slotStride, count, r, S, slot);
      const m = k.u8();
      for (let j = 0; j < r; j++)
        for (let a = 0; a < count; a++)
          expect(
            Buffer.from(m.subarray(slots + j * slotStride + a * slot, slots + j * slotStride + a * slot + S)),
            `recovery ${j} symbol ${a}`,
          ).toEqual(Buffer.from(m.subarray(out + j * count * S + a * S, out + j * count * S + (a + 1) * S)));
    } finally {
      k.release(mark);
    }
  });
});
