/**
 * Shard recovery against misbehaving peers, over real HTTP on 127.0.0.1 with a real SQLite store
 * and codec pool: a peer that repeats one valid symbol, a peer whose symbols fail their proofs, and
 * the only honest peer answering 503 (busy) at first. Recovery must not stop at k raw symbols, and
 * must ask the busy peer again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Chain, CommitteeInfo } from '../../src/chain/types.ts';
import { CodecPool } from '../../src/pool/codec-pool.ts';
import { EncodingConfig } from '../../src/codec/config.ts';
import { encodeBlob } from '../../src/codec/encode.ts';
import { recoverySymbolsFrom, recoverySymbolsToBcs, type RecoverySymbol } from '../../src/codec/recovery.ts';
import type { SliverAxis } from '../../src/codec/sliver.ts';
import { NodeStore } from '../../src/node/store.ts';
import { PoolExpander } from '../../src/node/pool-expander.ts';
import { recoverHeldShards } from '../../src/node/shard-recovery.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { pairOf, tempDir } from './helpers.ts';

const n = 10;
const cfg = new EncodingConfig(n);
const blob = encodeBlob(randomBytes(20_000, 41), { nShards: n });
const myShard = 9;
const myPair = pairOf(blob.blobId, myShard, n);

let pool: CodecPool;
let tmp: ReturnType<typeof tempDir>;
const servers: Server[] = [];

/** The symbols an honest holder of every other pair answers for target `t` on `axis`. */
function honestSymbols(axis: SliverAxis, t: number): RecoverySymbol[] {
  const out: RecoverySymbol[] = [];
  for (let pair = 0; pair < n; pair++) {
    if (pair === myPair) continue;
    const source = axis === 'primary' ? blob.pairs[pair].secondary : blob.pairs[pair].primary;
    out.push(...recoverySymbolsFrom(cfg, source, [t]));
  }
  return out;
}

/** Starts a peer answering `recoverySymbols` queries with `answer(axis, target, call#)`. */
async function peer(answer: (axis: SliverAxis, target: number, call: number) => { status: number; body?: Uint8Array }): Promise<string> {
  let calls = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    // Both query forms: the target form, and the ID-list form (id=P-S…&proofAxis=…) recovery uses.
    const ids = url.searchParams.getAll('id').map((id) => id.split('-').map(Number));
    const byId = ids.length > 0;
    const axis = (
      byId ? (url.searchParams.get('proofAxis') === 'secondary' ? 'primary' : 'secondary') : url.searchParams.get('targetType')
    ) as SliverAxis;
    const target = byId ? (axis === 'primary' ? ids[0][0] : ids[0][1]) : Number(url.searchParams.get('targetSliver'));
    const a = url.pathname.endsWith('/recoverySymbols') ? answer(axis, target, calls++) : { status: 404 };
    res.writeHead(a.status, { 'content-type': 'application/octet-stream' });
    res.end(a.body ? Buffer.from(a.body) : undefined);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

beforeAll(() => {
  pool = new CodecPool({ threads: 1 });
  tmp = tempDir();
});

afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
  await pool?.close();
  tmp?.remove();
});

describe('shard recovery', () => {
  it('ignores repeated and unverifiable symbols, retries a busy peer, and rebuilds both slivers of a held shard', async () => {
    // Peer 1: one valid symbol, repeated n times (≥ k raw symbols, 1 distinct).
    const dup = await peer((axis, t) => {
      const one = honestSymbols(axis, t)[0];
      return { status: 200, body: recoverySymbolsToBcs(Array.from({ length: n }, () => one)) };
    });
    // Peer 2: n distinct symbols whose data was tampered with (proofs fail).
    const liar = await peer((axis, t) => ({
      status: 200,
      body: recoverySymbolsToBcs(honestSymbols(axis, t).map((s) => ({ ...s, data: s.data.map((b) => b ^ 1) }))),
    }));
    // Peer 3: the only honest source, busy (503) on its first call of each pair of calls.
    let busyAnswers = 0;
    const busy = await peer((axis, t, call) => {
      if (call % 2 === 0) {
        busyAnswers++;
        return { status: 503 };
      }
      return { status: 200, body: recoverySymbolsToBcs(honestSymbols(axis, t)) };
    });
    const committee: CommitteeInfo = {
      epoch: 1,
      nShards: n,
      members: [dup, liar, busy].map((networkAddress, i) => ({
        nodeId: `0x${String(i + 1).repeat(64)}`,
        publicKey: new Uint8Array(48),
        // Each claims every other shard: recovery asks each for the symbols of those slivers.
        shards: Array.from({ length: n }, (_, s) => s).filter((s) => s !== myShard),
        weight: 0,
        networkAddress,
        name: `peer-${i}`,
      })),
    };
    // Only `committee` is used by recovery; the rest of the chain is not involved.
    const chain = { committee: async () => committee } as unknown as Chain;

    const store = NodeStore.open(join(tmp.dir, 'node.db'));
    const expander = new PoolExpander(pool);
    try {
      store.transaction(() => {
        store.setShards(1, [myShard]);
        store.setCurrentEpoch(1);
        store.certifyObject(blob.blobId, '0x' + 'ab'.repeat(32), false, 1, 5, { txDigest: 'tx', eventSeq: 0 });
      });
      store.putMetadata(blob.blobId, new Uint8Array(blob.metadata.toBcs()));
      const report = await recoverHeldShards(1, { chain, store, nodeId: '0x' + 'ff'.repeat(32), expander, timeoutMs: 5000 });
      expect(report).toEqual({ recovered: 2, failed: 0 });
      expect(busyAnswers).toBe(2); // one 503 per target axis, each asked again
      expect(store.getSliver(blob.blobId, myPair, 'primary')).toEqual(new Uint8Array(blob.pairs[myPair].primary.toBcs()));
      expect(store.getSliver(blob.blobId, myPair, 'secondary')).toEqual(new Uint8Array(blob.pairs[myPair].secondary.toBcs()));
      // A second run finds nothing missing and asks no peer.
      const again = await recoverHeldShards(1, { chain, store, nodeId: '0x' + 'ff'.repeat(32), expander });
      expect(again).toEqual({ recovered: 0, failed: 0 });
      expect(busyAnswers).toBe(2);
    } finally {
      expander.close();
      store.close();
    }
  });
});
