/**
 * A node joining at an epoch change rebuilds its shards of an RS8 blob: the blob is stored through
 * Tusk's client (encoding type 127) on the in-process LocalChain with three real nodes (SQLite
 * stores, HTTP on loopback); a fourth node joins, the epoch changes, and the newcomer rebuilds the
 * RS8 slivers of the shards it gained from its peers' RS8 recovery symbols — byte for byte what the
 * encoder produced — and the blob still reads back.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import type { LocalChain } from '../../src/chain/local/index.ts';
import type { CodecPool } from '../../src/pool/codec-pool.ts';
import { encodeBlob } from '../../src/codec/encode.ts';
import type { StorageNodeHandle } from '../../src/node/node.ts';
import { startLocalNetwork, type LocalNetwork } from './local-network.ts';
import { storeBlob } from '../../src/client/store-blob.ts';
import { readBlob } from '../../src/client/read-blob.ts';
import { StorageNodeClient } from '../../src/node-api/client.ts';
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
  net = await startLocalNetwork({ nShards, nodes: 3, nodeOptions: {} });
  ({ chain, pool, user, nodes } = net);
});

afterAll(() => net?.close());

it('a joining node rebuilds its shards of an RS8 blob from RS8 recovery symbols, byte for byte', async () => {
  const data = randomBytes(30_000, 808);
  const stored = await storeBlob(data, { chain, signer: user, epochs: 5, encoding: 'rs8', pool, deletable: false });
  await stored.background;
  const enc = encodeBlob(data, { nShards, encoding: 'rs8' });
  expect(stored.blobId).toBe(enc.blobIdString);

  await start(3); // a newcomer that joins the committee at the next epoch change
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
  // The others' reports can make the epoch active first: wait for the newcomer's own recovery.
  await newcomer.recovered();
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
