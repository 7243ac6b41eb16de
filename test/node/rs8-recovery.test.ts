/**
 * A node joining at an epoch change rebuilds its shards of an RS8 blob: the blob is stored through
 * Tusk's client (encoding type 127) on the in-process LocalChain with three real nodes (SQLite
 * stores, HTTP on loopback); a fourth node joins, the epoch changes, and the newcomer rebuilds the
 * RS8 slivers of the shards it gained from its peers' RS8 recovery symbols — byte for byte what the
 * encoder produced — and the blob still reads back.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { join } from 'node:path';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { LocalChain } from '../../src/chain/local/index.ts';
import { CodecPool } from '../../src/pool/codec-pool.ts';
import { encodeBlob } from '../../src/codec/encode.ts';
import { startStorageNode, type StorageNodeHandle } from '../../src/node/node.ts';
import { storeBlob } from '../../src/client/store-blob.ts';
import { readBlob } from '../../src/client/read-blob.ts';
import { StorageNodeClient } from '../../src/node-api/client.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { pairOf, tempDir } from './helpers.ts';

const nShards = 10;
let tmp: ReturnType<typeof tempDir>;
let pool: CodecPool;
let chain: LocalChain;
const nodes: StorageNodeHandle[] = [];
const user = Ed25519Keypair.generate();

beforeAll(async () => {
  tmp = tempDir();
  pool = new CodecPool({ threads: 1 });
  chain = await LocalChain.open({ path: join(tmp.dir, 'chain.sqlite'), nShards });
  for (let i = 0; i < 3; i++) {
    nodes.push(
      await startStorageNode({
        chain,
        dataDir: join(tmp.dir, `node-${i}`),
        name: `node-${i}`,
        pool,
        eventWaitMs: 20,
        stake: BigInt(1000 + i) * 1_000_000_000n,
      }),
    );
  }
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

it('a joining node rebuilds its shards of an RS8 blob from RS8 recovery symbols, byte for byte', async () => {
  const data = randomBytes(30_000, 808);
  const stored = await storeBlob(data, { chain, signer: user, epochs: 5, encoding: 'rs8', pool, deletable: false });
  await stored.background;
  const enc = encodeBlob(data, { nShards, encoding: 'rs8' });
  expect(stored.blobId).toBe(enc.blobIdString);

  nodes.push(
    await startStorageNode({
      chain,
      dataDir: join(tmp.dir, 'node-3'),
      name: 'node-3',
      pool,
      eventWaitMs: 20,
      stake: 5000n * 1_000_000_000n,
    }),
  );
  const { epoch } = await chain.advanceEpoch();
  const deadline = Date.now() + 20_000;
  let state = await chain.systemState();
  while (state.epochState !== 'active') {
    if (Date.now() > deadline) throw new Error('the epoch change did not complete');
    await new Promise((r) => setTimeout(r, 50));
    state = await chain.systemState();
  }
  expect(state.epoch).toBe(epoch);
  const newcomer = nodes[3];
  const joined = state.committee.members.find((m) => m.nodeId === newcomer.nodeId)!;
  expect(joined.shards.length).toBeGreaterThan(0);
  const client = new StorageNodeClient(newcomer.url);
  for (const shard of joined.shards) {
    const pair = pairOf(enc.blobId, shard, nShards);
    for (const axis of ['primary', 'secondary'] as const) {
      const sliver = await client.getSliver(enc.blobId, pair, axis);
      expect(new Uint8Array(sliver.toBcs())).toEqual(new Uint8Array(enc.pairs[pair][axis].toBcs()));
    }
  }
  expect(Buffer.from(await readBlob(stored.blobId, { chain, pool })).equals(Buffer.from(data))).toBe(true);
}, 60_000);
