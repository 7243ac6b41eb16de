/**
 * How sliver recovery asks its peers (issue 23), over real HTTP on 127.0.0.1 with a real SQLite
 * store and codec pool: for each blob, ONE ID-list request (`recoverySymbols?id=P-S&…`) per peer
 * and axis covers every missing sliver of the node's shards, and a stalled peer (its port accepts
 * connections and never answers, as a SIGSTOPped process) costs nothing while the others suffice.
 * Then the blob sync: a blob whose recovery fails is retried alone, with backoff, until it works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Chain, CommitteeInfo } from '../../src/chain/types.ts';
import { CodecPool } from '../../src/pool/codec-pool.ts';
import { EncodingConfig } from '../../src/codec/config.ts';
import { encodeBlob, type EncodedBlob } from '../../src/codec/encode.ts';
import { recoverySymbolsFrom, recoverySymbolsToBcs, type RecoverySymbol } from '../../src/codec/recovery.ts';
import { NodeStore } from '../../src/node/store.ts';
import { PoolExpander } from '../../src/node/pool-expander.ts';
import { SliverRecoverer } from '../../src/node/shard-recovery.ts';
import { BlobSyncQueue } from '../../src/node/blob-sync.ts';
import { blobIdToString } from '../../src/codec/blob-id.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { pairOf, tempDir } from './helpers.ts';

const n = 10;
const cfg = new EncodingConfig(n);
const blobs = [encodeBlob(randomBytes(30_000, 7), { nShards: n }), encodeBlob(randomBytes(12_000, 8), { nShards: n })];
const byId = new Map(blobs.map((b) => [blobIdToString(b.blobId), b]));
const myShards = [8, 9];

let pool: CodecPool;
let tmp: ReturnType<typeof tempDir>;
const servers: Server[] = [];
let stalled: TcpServer;
const stalledSockets = new Set<Socket>();

/** A peer answering ID-list requests honestly; counts requests per blob. `down` makes it refuse with 503 forever. */
async function honestPeer(): Promise<{ url: string; requests: Map<string, number>; state: { down: boolean } }> {
  const requests = new Map<string, number>();
  const state = { down: false };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/v1\/blobs\/([^/]+)\/recoverySymbols$/.exec(url.pathname);
    const blob = m ? byId.get(m[1]) : undefined;
    const ids = url.searchParams.getAll('id').map((id) => id.split('-').map(Number));
    if (!blob || ids.length === 0 || state.down) {
      res.writeHead(state.down ? 500 : 404).end();
      return;
    }
    requests.set(m![1], (requests.get(m![1]) ?? 0) + 1);
    const proofAxis = url.searchParams.get('proofAxis');
    const out: RecoverySymbol[] = [];
    for (const [p, s] of ids) {
      if (proofAxis === 'secondary') out.push(...recoverySymbolsFrom(cfg, blob.pairs[n - 1 - s].secondary, [p]));
      else out.push(...recoverySymbolsFrom(cfg, blob.pairs[p].primary, [s]));
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(Buffer.from(recoverySymbolsToBcs(out)));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `127.0.0.1:${(server.address() as { port: number }).port}`, requests, state };
}

function member(i: number, networkAddress: string, shards: number[]) {
  return {
    nodeId: `0x${String(i + 1).repeat(64)}`,
    publicKey: new Uint8Array(48),
    shards,
    weight: shards.length,
    networkAddress,
    name: `peer-${i}`,
  };
}

function openStore(name: string, certified: readonly EncodedBlob[]): NodeStore {
  const store = NodeStore.open(join(tmp.dir, name));
  store.transaction(() => {
    store.setShards(1, myShards);
    store.setCurrentEpoch(1);
    certified.forEach((b, i) =>
      store.certifyObject(b.blobId, `0x${String(i + 1).repeat(64)}`, false, 1, 5, { txDigest: 'tx', eventSeq: i }),
    );
  });
  for (const b of certified) store.putMetadata(b.blobId, new Uint8Array(b.metadata.toBcs()));
  return store;
}

const missing = (store: NodeStore, b: EncodedBlob) =>
  myShards.flatMap((s) => (['primary', 'secondary'] as const).filter((axis) => !store.hasSliver(b.blobId, pairOf(b.blobId, s, n), axis)));

beforeAll(async () => {
  pool = new CodecPool({ threads: 1 });
  tmp = tempDir();
  stalled = createTcpServer((s) => {
    stalledSockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  for (const s of stalledSockets) s.destroy();
  await new Promise((r) => stalled.close(r));
  for (const s of servers) await new Promise((r) => s.close(r));
  await pool?.close();
  tmp?.remove();
});

describe('sliver recovery requests', () => {
  it('asks each peer once per axis per blob for all missing slivers, and does not wait for a stalled peer', async () => {
    const peers = [await honestPeer(), await honestPeer(), await honestPeer()];
    const stalledUrl = `127.0.0.1:${(stalled.address() as { port: number }).port}`;
    const committee: CommitteeInfo = {
      epoch: 1,
      nShards: n,
      members: [
        member(0, peers[0].url, [0, 1, 2]),
        member(1, peers[1].url, [3, 4, 5]),
        member(2, peers[2].url, [6, 7]),
        member(3, stalledUrl, [0, 1, 2]),
        member(9, 'unused:1', myShards),
      ],
    };
    const chain = { committee: async () => committee } as unknown as Chain;
    const store = openStore('batch.db', blobs);
    const expander = new PoolExpander(pool);
    try {
      const recoverer = new SliverRecoverer({ chain, store, nodeId: () => committee.members[4].nodeId, expander, timeoutMs: 20_000 });
      const t0 = performance.now();
      const report = await recoverer.recoverBlobs(1, null);
      const ms = performance.now() - t0;
      // 2 blobs × 2 shards × 2 axes, byte for byte.
      expect(report).toEqual({ recovered: 8, failed: 0 });
      for (const b of blobs)
        for (const s of myShards) {
          const pair = pairOf(b.blobId, s, n);
          expect(store.getSliver(b.blobId, pair, 'primary')).toEqual(new Uint8Array(b.pairs[pair].primary.toBcs()));
          expect(store.getSliver(b.blobId, pair, 'secondary')).toEqual(new Uint8Array(b.pairs[pair].secondary.toBcs()));
        }
      // At most one request per peer, axis and blob (per missing sliver, it would be 4 per blob).
      for (const p of peers) for (const b of blobs) expect(p.requests.get(blobIdToString(b.blobId)) ?? 0).toBeLessThanOrEqual(2);
      // The primary targets need k_s = 7 of the 8 honest sources: every honest peer was asked.
      for (const p of peers) for (const b of blobs) expect(p.requests.get(blobIdToString(b.blobId))).toBeGreaterThanOrEqual(1);
      // The stalled peer holds its request for the 20 s limit; when it was counted on, the hedge
      // (one more peer after a silence) replaced it, so nobody waited for it.
      expect(ms).toBeLessThan(15_000);
    } finally {
      expander.close();
      store.close();
    }
  }, 60_000);

  it('blob sync: a blob that cannot be recovered yet is retried alone with backoff until it works', async () => {
    const peers = [await honestPeer(), await honestPeer(), await honestPeer()];
    const committee: CommitteeInfo = {
      epoch: 1,
      nShards: n,
      members: [
        member(0, peers[0].url, [0, 1, 2]),
        member(1, peers[1].url, [3, 4, 5]),
        member(2, peers[2].url, [6, 7]),
        member(9, 'unused:1', myShards),
      ],
    };
    const chain = { committee: async () => committee } as unknown as Chain;
    const store = openStore('sync.db', blobs);
    const expander = new PoolExpander(pool);
    // Blob 0 already complete except for what peer 2 must help with; peer 2 is down at first.
    peers[2].state.down = true;
    const recoverer = new SliverRecoverer({ chain, store, nodeId: () => committee.members[3].nodeId, expander, timeoutMs: 5000 });
    const attempts: string[] = [];
    const queue = new BlobSyncQueue({
      recoverer,
      store,
      epoch: () => 1,
      nShards: () => n,
      delayMs: 0,
      backoffMs: 200,
      maxBackoffMs: 400,
      sweepMs: 0,
      onError: (e) => attempts.push((e as Error).message),
    });
    try {
      queue.start(); // the sweep finds both blobs missing slivers
      expect(queue.size).toBe(2);
      // Primary slivers need 7 sources and only 6 answer: every attempt fails while peer 2 is down.
      const deadline = Date.now() + 30_000;
      while (attempts.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(attempts.length).toBeGreaterThanOrEqual(3);
      for (const b of blobs) expect(missing(store, b)).toEqual(['primary', 'primary']);
      const before = peers[0].requests.get(blobIdToString(blobs[0].blobId)) ?? 0;
      peers[2].state.down = false;
      while (queue.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(queue.size).toBe(0);
      for (const b of blobs) expect(missing(store, b)).toEqual([]);
      // Only the primary axis was asked again: the secondary slivers were kept from the first attempt.
      const sinceUp = (peers[0].requests.get(blobIdToString(blobs[0].blobId)) ?? 0) - before;
      expect(sinceUp).toBeLessThanOrEqual(1);
      expect(await queue.sweep()).toBe(0); // nothing left to queue
    } finally {
      await queue.stop();
      expander.close();
      store.close();
    }
  }, 60_000);
});
