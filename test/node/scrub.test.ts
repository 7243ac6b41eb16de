/**
 * Scrubbing: a node re-verifies its stored slivers and rebuilds a rotten one from its peers. Four
 * real nodes on the in-process LocalChain store a blob through Tusk's client; a byte of one stored
 * sliver is flipped in node-0's SQLite file behind the node's back (bit rot), and another sliver's
 * frame is truncated; the scrub pass finds both, deletes them and rebuilds them from peers' recovery
 * symbols, byte for byte; a second pass finds nothing; the cursor survives a restart of the pass.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
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
  net = await startLocalNetwork({ nShards, nodes: 4, nodeOptions: { scrubSliversPerSecond: 0 } });
  ({ chain, pool, user, nodes } = net);
});

afterAll(() => net?.close());

it('finds rotten slivers, rebuilds them from peers byte for byte, and then finds nothing', async () => {
  const data = randomBytes(40_000, 909);
  const stored = await storeBlob(data, { chain, signer: user, epochs: 3, pool });
  await stored.background;
  const enc = encodeBlob(data, { nShards });
  let node = nodes[0];
  const shard = node.service.currentShards()[0];
  const pair = pairOf(enc.blobId, shard, nShards);
  const original = new Uint8Array(enc.pairs[pair].primary.toBcs());
  expect(new Uint8Array(node.service.store.getSliver(enc.blobId, pair, 'primary')!)).toEqual(original);

  // Rot behind the node's back (it holds its database exclusively while it runs): one flipped bit
  // in a primary sliver, a truncated secondary one.
  await node.close();
  const db = new DatabaseSync(join(net.dir, 'node-0', 'node.db'));
  const rotten = original.slice();
  rotten[Math.floor(rotten.length / 2)] ^= 0x10;
  db.prepare('UPDATE slivers SET bcs = ? WHERE blob_id = ? AND pair = ? AND axis = 0').run(rotten, enc.blobId, pair);
  const secondary = new Uint8Array(enc.pairs[pair].secondary.toBcs());
  db.prepare('UPDATE slivers SET bcs = ? WHERE blob_id = ? AND pair = ? AND axis = 1').run(
    secondary.subarray(0, secondary.length - 7),
    enc.blobId,
    pair,
  );
  db.close();
  node = nodes[0] = await start(0);

  const first = await node.scrubNow();
  expect(first.rotten).toBe(2);
  expect(first.repaired).toBe(2);
  expect(first.checked).toBe(2 * node.service.currentShards().length);
  expect(first.wrapped).toBe(true);
  expect(new Uint8Array(node.service.store.getSliver(enc.blobId, pair, 'primary')!)).toEqual(original);
  expect(new Uint8Array(node.service.store.getSliver(enc.blobId, pair, 'secondary')!)).toEqual(secondary);

  const second = await node.scrubNow();
  expect(second.rotten).toBe(0);
  expect(second.checked).toBe(first.checked);
}, 60_000);
