/**
 * A node that was down while a blob was stored and certified fetches its slivers on the
 * certification event (as Walrus nodes do), not at the next epoch change: LocalChain in process,
 * four real nodes (SQLite stores, HTTP on loopback), one of them stopped during the store and
 * started again on the same data directory. Until it has them, its health says its shards are in
 * recovery and how many slivers are missing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import type { LocalChain } from '../../src/chain/local/index.ts';
import type { CodecPool } from '../../src/pool/codec-pool.ts';
import { encodeBlob } from '../../src/codec/encode.ts';
import type { StorageNodeHandle } from '../../src/node/node.ts';
import { startLocalNetwork, type LocalNetwork } from './local-network.ts';
import { storeBlob } from '../../src/client/store-blob.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { pairOf } from './helpers.ts';

const nShards = 10;
let net: LocalNetwork;
let chain: LocalChain;
let pool: CodecPool;
let user: Ed25519Keypair;
let nodes: StorageNodeHandle[];
const start = (i: number) => net.start(i);

beforeAll(async () => {
  net = await startLocalNetwork({ nShards, nodes: 4, nodeOptions: { blobSyncDelayMs: 1500 } });
  ({ chain, pool, user, nodes } = net);
});

afterAll(() => net?.close());

async function health(
  url: string,
): Promise<{ shardSummary: { ownedShardStatus: { ready: number; inRecovery: number }; missingSlivers: number } }> {
  const body = (await (await fetch(`${url}/v1/health`)).json()) as { success: { data: never } };
  return body.success.data;
}

it('a node down during a store recovers its slivers on the certification event; health reports the missing ones meanwhile', async () => {
  const state = await chain.systemState();
  // The member with the fewest shards (≤ f) goes down: the store still certifies without it.
  const down = nodes.findIndex(
    (n) => n.nodeId === [...state.committee.members].sort((a, b) => a.shards.length - b.shards.length)[0].nodeId,
  );
  const shards = state.committee.members.find((m) => m.nodeId === nodes[down].nodeId)!.shards;
  await nodes[down].close();

  const data = randomBytes(25_000, 606);
  const stored = await storeBlob(data, { chain, signer: user, epochs: 3, pool, retries: 0, nodeTimeoutMs: 2000 });
  const summary = await stored.background;
  expect(summary.failedNodes).toHaveLength(1);

  nodes[down] = await start(down);
  const node = nodes[down];
  const enc = encodeBlob(data, { nShards });
  const held = () =>
    shards.flatMap((s) =>
      (['primary', 'secondary'] as const).map((axis) => node.service.store.hasSliver(enc.blobId, pairOf(enc.blobId, s, nShards), axis)),
    );
  expect(held().some((x) => x)).toBe(false);
  // Before the sync delay has passed: shards in recovery, slivers missing.
  const early = await health(node.url);
  expect(early.shardSummary.missingSlivers).toBe(2 * shards.length);
  expect(early.shardSummary.ownedShardStatus.inRecovery).toBe(shards.length);

  const deadline = Date.now() + 20_000;
  while (!held().every((x) => x)) {
    if (Date.now() > deadline) throw new Error('the restarted node did not fetch its slivers after the certification event');
    await new Promise((r) => setTimeout(r, 100));
  }
  // Byte for byte what the writer encoded, and health is back to ready.
  for (const s of shards) {
    const pair = pairOf(enc.blobId, s, nShards);
    expect(new Uint8Array(node.service.store.getSliver(enc.blobId, pair, 'primary')!)).toEqual(
      new Uint8Array(enc.pairs[pair].primary.toBcs()),
    );
  }
  const after = await health(node.url);
  expect(after.shardSummary.missingSlivers).toBe(0);
  expect(after.shardSummary.ownedShardStatus.ready).toBe(shards.length);
  // The epoch never changed: this was the certification event, not an epoch's shard recovery.
  expect((await chain.systemState()).epoch).toBe(state.epoch);
}, 60_000);
