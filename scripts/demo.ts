/**
 * The main job on the embedded default (`npm run demo`): start a local network — the chain and
 * 10 storage nodes holding 100 shards, each a separate process on loopback — store a sample file
 * through it (encode on the worker pool, register, upload, certify), read it back from the nodes
 * with three of them stopped, check it, print the blob ID, and stop the network.
 * TUSK_DEMO_NODES / TUSK_DEMO_SHARDS / TUSK_DEMO_MIB change the sizes. State is kept in
 * .tusk-demo/network (delete it to start from scratch).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDevNetwork } from '../src/network/dev-network.ts';
import { RemoteChain } from '../src/chain/remote/client.ts';
import { loadWallet } from '../src/client/client-config.ts';
import { storeBlob } from '../src/client/store-blob.ts';
import { readBlob } from '../src/client/read-blob.ts';
import { closeDefaultPool } from '../src/pool/codec-pool.ts';
import { formatWal } from '../src/cli/chain-command.ts';

const nodes = Number(process.env.TUSK_DEMO_NODES ?? 10);
const nShards = Number(process.env.TUSK_DEMO_SHARDS ?? 100);
const mib = Number(process.env.TUSK_DEMO_MIB ?? 4);
const root = new URL('../.tusk-demo/', import.meta.url).pathname;
mkdirSync(root, { recursive: true });
const file = join(root, 'sample.bin');
const data = new Uint8Array(mib << 20);
let x = 0x9e3779b9;
for (let i = 0; i < data.length; i++) {
  x ^= x << 13;
  x >>>= 0;
  x ^= x >>> 17;
  x ^= x << 5;
  x >>>= 0;
  data[i] = x & 0xff;
}
writeFileSync(file, data);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const t0 = performance.now();
const net = await startDevNetwork({
  dataDir: join(root, 'network'),
  nodes,
  nShards,
  onLog: (line) => console.log(`network          ${line}`),
});
let ok = false;
try {
  console.log(`network          up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const chain = new RemoteChain({ url: net.chainUrl });
  const wallet = await loadWallet(join(net.dataDir, 'wallet.key'));
  const stored = await storeBlob(data, { chain, signer: wallet, epochs: 3 });
  const t = stored.timings;
  console.log(`sample file      ${file} (${data.length} bytes)`);
  console.log(
    `stored           encode ${(t.encodeMs / 1000).toFixed(2)} s, register ${(t.registerMs / 1000).toFixed(2)} s, upload to a quorum ${(t.uploadMs / 1000).toFixed(2)} s, certify ${(t.certifyMs / 1000).toFixed(2)} s; cost ${formatWal(stored.cost)} WAL${stored.reused ? ' (reused an earlier registration)' : ''}`,
  );
  const bg = await stored.background;
  if (!stored.reused) console.log(`uploads          ${bg.confirmedNodes} of ${net.nodes.length} nodes confirmed`);
  else console.log('uploads          none needed: this blob was stored and certified by an earlier run');
  const down = Math.floor((nodes - 1) / 3);
  for (let i = 0; i < down; i++) await net.stopNode(nodes - 1 - i);
  const t1 = performance.now();
  const back = await readBlob(stored.blobId, { chain, nodeTimeoutMs: 5000, retries: 0 });
  ok = sha(back) === sha(data);
  console.log(
    `read             ${((performance.now() - t1) / 1000).toFixed(2)} s with ${down} of ${nodes} nodes stopped: ${ok ? 'identical' : 'MISMATCH'}`,
  );
  console.log(`blob ID          ${stored.blobId}`);
  console.log(`Blob object      ${stored.blobObjectId} (certified until epoch ${stored.endEpoch})`);
  console.log(`check it:        npx tusk blob-id ${file} --n-shards ${nShards}`);
} finally {
  await net.stop();
  await closeDefaultPool();
}
if (!ok) process.exit(1);
