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
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { LocalChain } from '../../src/chain/local/index.ts';
import { CodecPool } from '../../src/pool/codec-pool.ts';
import { encodeBlob } from '../../src/codec/encode.ts';
import { startStorageNode, type StorageNodeHandle } from '../../src/node/node.ts';
import { storeBlob } from '../../src/client/store-blob.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { pairOf, tempDir } from './helpers.ts';

const nShards = 10;
let tmp: ReturnType<typeof tempDir>;
let pool: CodecPool;
let chain: LocalChain;
const nodes: StorageNodeHandle[] = [];
const user = Ed25519Keypair.generate();
const start = (i: number) =>
  startStorageNode({
    chain,
    dataDir: join(tmp.dir, `node-${i}`),
    name: `node-${i}`,
    pool,
    eventWaitMs: 20,
    scrubSliversPerSecond: 0,
    stake: BigInt(1000 + i) * 1_000_000_000n,
  });

beforeAll(async () => {
  tmp = tempDir();
  pool = new CodecPool({ threads: 1 });
  chain = await LocalChain.open({ path: join(tmp.dir, 'chain.sqlite'), nShards });
  for (let i = 0; i < 4; i++) nodes.push(await start(i));
  await chain.advanceEpoch();
  for (const n of nodes) await n.sync();
  await chain.requestFaucet(user.toSuiAddress(), 1_000_000n * 1_000_000_000n);
});

afterAll(async () => {
  for (const n of nodes) await n.close();
  await chain?.close();
  await pool?.close();
  tmp?.remove();
});

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
  const db = new DatabaseSync(join(tmp.dir, 'node-0', 'node.db'));
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
