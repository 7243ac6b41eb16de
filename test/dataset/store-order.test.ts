/**
 * The dataset pipeline's store order (src/dataset/publish.ts `storeOrder`): largest and smallest
 * units alternately, so latency-bound small units run beside large ones instead of forming a tail.
 */
import { describe, expect, it } from 'vitest';
import { storeOrder } from '../../src/dataset/publish.ts';

describe('storeOrder', () => {
  it('alternates the largest and the smallest remaining unit, ties in plan order', () => {
    const units = [
      { name: 'quilt-a', bytes: 10 },
      { name: 'chunk-0', bytes: 100 },
      { name: 'chunk-1', bytes: 100 },
      { name: 'chunk-2', bytes: 30 },
      { name: 'blob', bytes: 50 },
      { name: 'quilt-b', bytes: 5 },
    ];
    expect(storeOrder(units).map((u) => u.name)).toEqual(['chunk-0', 'quilt-b', 'chunk-1', 'quilt-a', 'blob', 'chunk-2']);
  });

  it('keeps every unit exactly once and leaves the input alone', () => {
    for (const n of [0, 1, 2, 3, 7, 50]) {
      const units = Array.from({ length: n }, (_, i) => ({ i, bytes: (i * 7919) % 13 }));
      const copy = units.slice();
      const out = storeOrder(units);
      expect(units).toEqual(copy);
      expect(out.map((u) => u.i).sort((a, b) => a - b)).toEqual(units.map((u) => u.i));
      // Odd positions never hold a larger unit than the even position before them.
      for (let k = 1; k < out.length; k += 2) expect(out[k].bytes).toBeLessThanOrEqual(out[k - 1].bytes);
    }
  });
});
