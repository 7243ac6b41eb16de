import { describe, expect, it } from 'vitest';
import { pairForShard, placeBlob, shardForPair } from '../../src/protocol/placement.ts';
import { blobIdRotation } from '../../src/codec/blob-id.ts';
import { Semaphore, withRetries } from '../../src/util/async.ts';
import { normalizeNodeUrl } from '../../src/node-api/client.ts';
import { storageCost } from '../../src/client/store-blob.ts';
import { TuskError, TuskInputError } from '../../src/errors.ts';
import type { CommitteeInfo } from '../../src/chain/types.ts';

const committee = (shards: number[][], n: number): CommitteeInfo => ({
  epoch: 1,
  nShards: n,
  members: shards.map((s, i) => ({
    nodeId: `0x${String(i).padStart(64, '0')}`,
    publicKey: new Uint8Array(48),
    shards: s,
    weight: s.length,
    networkAddress: `127.0.0.1:${9000 + i}`,
    name: `n${i}`,
  })),
});

describe('blob placement (walrus-protocol.md §2)', () => {
  it('pair ↔ shard rotation is a bijection and inverse', () => {
    for (const n of [4, 7, 10, 1000]) {
      for (const off of [0, 1, n - 1, Math.floor(n / 2)]) {
        const seen = new Set<number>();
        for (let s = 0; s < n; s++) {
          const p = pairForShard(s, off, n);
          expect(shardForPair(p, off, n)).toBe(s);
          seen.add(p);
        }
        expect(seen.size).toBe(n);
      }
    }
  });
  it('places every pair exactly once, rotated by the blob ID', () => {
    const id = new Uint8Array(32).fill(7);
    const c = committee(
      [
        [0, 1, 2],
        [3, 4, 5],
        [6, 7, 8],
        [9, 10, 11],
      ],
      12,
    );
    const placed = placeBlob(c, id);
    const off = blobIdRotation(id, 12);
    expect(placed[1].pairs).toEqual([3, 4, 5].map((s) => (12 + s - off) % 12));
    expect(placed.flatMap((p) => p.pairs).sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
  });
  it('rejects a committee that assigns a shard twice or leaves one out', () => {
    expect(() =>
      placeBlob(
        committee(
          [
            [0, 1],
            [1, 2, 3],
          ],
          4,
        ),
        new Uint8Array(32),
      ),
    ).toThrow(TuskInputError);
    expect(() => placeBlob(committee([[0, 1], [2]], 4), new Uint8Array(32))).toThrow(/unassigned/);
  });
});

describe('client helpers', () => {
  it('retries retryable errors only, then gives up', async () => {
    let calls = 0;
    await expect(
      withRetries(
        async () => {
          calls++;
          throw new TuskError('later', { retryable: true });
        },
        { retries: 2, baseDelayMs: 1 },
      ),
    ).rejects.toThrow('later');
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      withRetries(
        async () => {
          calls++;
          throw new TuskInputError('bad');
        },
        { retries: 5, baseDelayMs: 1 },
      ),
    ).rejects.toThrow('bad');
    expect(calls).toBe(1);
    calls = 0;
    expect(
      await withRetries(
        async (a) => {
          calls++;
          if (a < 2) throw new TuskError('x', { retryable: true });
          return 42;
        },
        { baseDelayMs: 1 },
      ),
    ).toBe(42);
  });
  it('a semaphore never exceeds its limit', async () => {
    const sem = new Semaphore(3);
    let active = 0,
      peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        sem.run(async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, 2));
          active--;
        }),
      ),
    );
    expect(peak).toBe(3);
  });
  it('node addresses become URLs', () => {
    expect(normalizeNodeUrl('127.0.0.1:9001')).toBe('http://127.0.0.1:9001');
    expect(normalizeNodeUrl('node.example.com:9185')).toBe('https://node.example.com:9185');
    expect(normalizeNodeUrl('http://localhost:5/')).toBe('http://localhost:5');
    expect(() => normalizeNodeUrl('')).toThrow(TuskInputError);
  });
  it('storage cost follows the spec: 1 byte at n=1000 is 63 units', () => {
    expect(storageCost(1, 1, 1000, 1n, 0n)).toBe(63n);
    expect(storageCost(1 << 20, 1, 1000, 1n, 0n)).toBe(67n);
    expect(storageCost(100 << 20, 3, 1000, 2n, 5n)).toBe(512n * 2n * 3n + 512n * 5n);
  });
});
