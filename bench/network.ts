/**
 * End-to-end store and read throughput on a local network (`npm run bench:network`): the chain
 * and the storage nodes run as separate processes on loopback, the client in this process. For
 * each committee size (default 100 and 1000 shards over 10 nodes) it stores one blob (default
 * 256 MiB) and reads it back, split into encode / register / upload-to-quorum / certify /
 * download / decode, then checks the bytes. Everything shares this machine's cores: the figures
 * are the whole system's, not the client's alone. Peak RSS is the client process's (running
 * maximum, so the second committee's figure includes the first's). No official comparison: the
 * official SDK needs a Sui network.
 *
 *   node bench/network.ts [--mib 256] [--shards 100,1000] [--nodes 10] [--out file.json]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevNetwork } from '../src/network/dev-network.ts';
import { RemoteChain } from '../src/chain/remote/client.ts';
import { loadWallet } from '../src/client/client-config.ts';
import { storeBlob } from '../src/client/store-blob.ts';
import { readBlobToFile } from '../src/client/read-blob.ts';
import { closeDefaultPool } from '../src/pool/codec-pool.ts';
import { EncodingConfig } from '../src/codec/config.ts';
import { argValue, machineLine, makeData, matchesData, MiB, writeReport } from './harness.ts';

const argv = process.argv.slice(2);
const mib = Number(argValue(argv, '--mib') ?? 256);
const shardsList = (argValue(argv, '--shards') ?? '100,1000').split(',').map(Number);
const nodes = Number(argValue(argv, '--nodes') ?? 10);
const started = new Date();
console.log(`# Tusk end-to-end store/read, ${mib} MiB, ${nodes} nodes — ${machineLine()}`);
const rows = [];
const full = makeData(mib * MiB, 42);
for (const nShards of shardsList) {
  // A committee's largest blob is k_p·k_s·65534 bytes (≈ 142 MiB at n = 100): clamp to it.
  const max = new EncodingConfig(nShards).maxBlobSize;
  const size = Math.min(full.length, Math.floor(max / MiB) * MiB);
  if (size < full.length)
    console.log(`n=${nShards}: ${mib} MiB exceeds this committee's maximum blob (${max} bytes); using ${size / MiB} MiB`);
  const data = full.subarray(0, size);
  const dir = await mkdtemp(join(tmpdir(), 'tusk-bench-net-'));
  const net = await startDevNetwork({ dataDir: dir, nodes, nShards });
  try {
    const chain = new RemoteChain({ url: net.chainUrl });
    const wallet = await loadWallet(join(dir, 'wallet.key'));
    const t0 = performance.now();
    const stored = await storeBlob(data, { chain, signer: wallet, epochs: 1 });
    const storeS = (performance.now() - t0) / 1000;
    await stored.background;
    const allS = (performance.now() - t0) / 1000;
    const out = join(dir, 'read.bin');
    const t1 = performance.now();
    const read = await readBlobToFile(stored.blobId, out, { chain });
    const readS = (performance.now() - t1) / 1000;
    const back = new Uint8Array(await readFile(out));
    const ok = back.length === size && matchesData(back, 42);
    const t = stored.timings;
    const row = {
      nShards,
      nodes,
      mib: size / MiB,
      storeS,
      storeAllNodesS: allS,
      readS,
      ok,
      encodeS: t.encodeMs / 1000,
      registerS: t.registerMs / 1000,
      uploadS: t.uploadMs / 1000,
      certifyS: t.certifyMs / 1000,
      metadataS: read.timings.metadataMs / 1000,
      downloadS: read.timings.downloadMs / 1000,
      decodeS: read.timings.decodeMs / 1000,
      storeMBps: size / 1e6 / storeS,
      readMBps: size / 1e6 / readS,
      clientPeakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
    rows.push(row);
    const f = (x: number) => x.toFixed(2);
    console.log(
      `n=${nShards}: store ${f(storeS)} s (${f(row.storeMBps)} MB/s: encode ${f(row.encodeS)}, register ${f(row.registerS)}, upload to quorum ${f(row.uploadS)}, certify ${f(row.certifyS)}; all nodes done at ${f(allS)} s) | read ${f(readS)} s (${f(row.readMBps)} MB/s: metadata ${f(row.metadataS)}, download ${f(row.downloadS)}, decode ${f(row.decodeS)}) | bytes ${ok ? 'identical' : 'MISMATCH'} | client peak RSS ${row.clientPeakRssMiB} MiB`,
    );
  } finally {
    await net.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
await closeDefaultPool();
writeReport(argv, 'network', { rows }, started);
