/**
 * Catch-up after downtime (issue 23): how fast a storage node that was down while blobs were
 * stored gets every sliver of its shards back from its peers, with one peer stalled meanwhile.
 *
 *   npm run bench:catchup -- [--nodes 7] [--n-shards 70] [--blobs 30] [--max-kib 4096]
 *                              [--stall-s 20] [--seed 5]
 *
 * In process: the LocalChain (SQLite) and `nodes` real storage nodes (SQLite stores, HTTP on
 * loopback) on one codec pool. Node 0 is stopped; `blobs` random blobs (log-uniform sizes,
 * 1 KiB…max) are stored and certified without it; node 1 is then replaced by a "stalled" server
 * (its port accepts connections and never answers, as a SIGSTOPped process does) for `stall-s`
 * seconds; node 0 is restarted and the time until it holds both slivers of every pair of its
 * shards for every blob is measured. Prints the slivers to recover, the time and slivers/min.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { LocalChain } from '../src/chain/local/index.ts';
import { CodecPool } from '../src/pool/codec-pool.ts';
import { startStorageNode, type StorageNodeHandle } from '../src/node/node.ts';
import { storeBlob } from '../src/client/store-blob.ts';
import { blobIdFromString, blobIdRotation } from '../src/codec/blob-id.ts';
import { pairForShard } from '../src/protocol/placement.ts';

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '7' },
    'n-shards': { type: 'string', default: '70' },
    blobs: { type: 'string', default: '30' },
    'max-kib': { type: 'string', default: '4096' },
    'stall-s': { type: 'string', default: '20' },
    seed: { type: 'string', default: '5' },
  },
});
const nodeCount = Number(args.nodes);
const nShards = Number(args['n-shards']);
const blobCount = Number(args.blobs);
const maxBytes = Number(args['max-kib']) * 1024;
const stallMs = Number(args['stall-s']) * 1000;
let seed = Number(args.seed) >>> 0 || 1;
const rand = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};

const dir = mkdtempSync(join(tmpdir(), 'tusk-catchup-'));
const pool = new CodecPool({ threads: 1 });
const chain = await LocalChain.open({ path: join(dir, 'chain.sqlite'), nShards });
const nodes: StorageNodeHandle[] = [];
const quiet = () => {};
const start = async (i: number, port = 0) =>
  (nodes[i] = await startStorageNode({
    chain,
    dataDir: join(dir, `node-${i}`),
    name: `node-${i}`,
    pool,
    port,
    eventWaitMs: 20,
    blobSyncDelayMs: 1000,
    scrubSliversPerSecond: 0,
    stake: BigInt(1000 + i) * 1_000_000_000n,
    onError: quiet,
  }));
for (let i = 0; i < nodeCount; i++) await start(i);
await chain.advanceEpoch();
for (const n of nodes) await n.sync();
const user = Ed25519Keypair.generate();
await chain.requestFaucet(user.toSuiAddress(), 1_000_000n * 1_000_000_000n);

const committee = await chain.committee();
const shardsOf = (i: number) => committee.members.find((m) => m.nodeId === nodes[i].nodeId)!.shards;
const portOf = (i: number) => Number(new URL(nodes[i].url).port);
const down = 0;
const stalled = 1;
const port0 = portOf(down);
await nodes[down].close();

const ids: Uint8Array[] = [];
let bytes = 0;
const t0 = performance.now();
for (let b = 0; b < blobCount; b++) {
  const size = Math.floor(2 ** (10 + rand() * (Math.log2(maxBytes) - 10)));
  const data = new Uint8Array(size);
  for (let j = 0; j < size; j += 4096) data[j] = Math.floor(rand() * 256);
  data[0] = b;
  const r = await storeBlob(data, { chain, signer: user, epochs: 3, pool, nodeTimeoutMs: 5000 });
  await r.background.catch(() => {});
  ids.push(blobIdFromString(r.blobId));
  bytes += size;
}
console.log(
  `stored ${blobCount} blobs (${(bytes / 2 ** 20).toFixed(1)} MiB) without node 0 in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);

// Node 1 stalls: its port accepts connections and never answers.
const port1 = portOf(stalled);
await nodes[stalled].close();
const sockets = new Set<Socket>();
const blackHole: Server = createServer((s) => {
  sockets.add(s);
  s.on('error', () => {});
});
await new Promise<void>((r) => blackHole.listen(port1, '127.0.0.1', r));

const held = shardsOf(down);
const total = ids.length * held.length * 2;
const missing = () => {
  let m = 0;
  for (const id of ids) {
    const rot = blobIdRotation(id, nShards);
    for (const s of held)
      for (const axis of ['primary', 'secondary'] as const)
        if (!nodes[down].service.store.hasSliver(id, pairForShard(s, rot, nShards), axis)) m++;
  }
  return m;
};
const t1 = performance.now();
await start(down, port0);
const unstall = (async () => {
  await new Promise((r) => setTimeout(r, stallMs));
  for (const s of sockets) s.destroy();
  await new Promise((r) => blackHole.close(r));
  await start(stalled, port1);
})();
let left = missing();
console.log(`node 0 restarted: ${left} of ${total} slivers missing; node 1 stalled for ${stallMs / 1000} s`);
const limit = t1 + 10 * 60_000;
let lastPrint = t1;
while (left > 0 && performance.now() < limit) {
  await new Promise((r) => setTimeout(r, 250));
  left = missing();
  if (performance.now() - lastPrint > 10_000) {
    lastPrint = performance.now();
    console.log(`  ${((lastPrint - t1) / 1000).toFixed(0)} s: ${left} missing`);
  }
}
const secs = (performance.now() - t1) / 1000;
console.log(
  `${left === 0 ? 'all' : `${total - left} of`} ${total} slivers recovered in ${secs.toFixed(1)} s: ${Math.round(((total - left) / secs) * 60)} slivers/min`,
);
await unstall;
for (const n of nodes) await n.close();
await chain.close();
await pool.close();
rmSync(dir, { recursive: true, force: true });
process.exit(left === 0 ? 0 : 1);
