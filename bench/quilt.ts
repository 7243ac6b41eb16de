/**
 * Many small files as quilts vs as single blobs on a local network (`npm run bench:quilt`): the
 * chain and the storage nodes run as separate processes on loopback, the client in this process.
 * N files of 1–8 KiB (random sizes, fixed seed) are stored
 *   - as quilts: packed into as few quilts as the committee's columns allow (C − 1 patches at most,
 *     fewer when the index would not fit), one `storeQuilt` each, one after the other;
 *   - as single blobs: one `storeBlob` per file, one after the other — on a sample of the files
 *     (`--single`, default 200) because storing 10,000 blobs one by one takes hours here; the
 *     per-file figures are then scaled to N and marked as extrapolated.
 * Reported per mode: wall time, chain calls (every method call on the chain client, counted by a
 * proxy, and the transactions among them), WAL spent (wallet balance before/after, FROST: storage
 * + write fees; the local chain charges no gas) and bytes of encoded storage paid for.
 * Afterwards one patch of one quilt is read back by patch ID and checked.
 *
 *   node bench/quilt.ts [--files 10000] [--single 200] [--shards 100] [--nodes 4] [--out file.json]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevNetwork } from '../src/network/dev-network.ts';
import { RemoteChain } from '../src/chain/remote/client.ts';
import { loadWallet } from '../src/client/client-config.ts';
import { storeBlob } from '../src/client/store-blob.ts';
import { closeDefaultPool } from '../src/pool/codec-pool.ts';
import { EncodingConfig } from '../src/codec/config.ts';
import { storeQuilt, readQuiltPatch } from '../src/quilt/client.ts';
import { encodeQuilt, type QuiltBlobInput } from '../src/quilt/quilt-encode.ts';
import { quiltGeometry } from '../src/quilt/format.ts';
import type { Chain } from '../src/chain/types.ts';
import { argValue, machineLine, writeReport } from './harness.ts';

const argv = process.argv.slice(2);
const nFiles = Number(argValue(argv, '--files') ?? 10000);
const nSingle = Math.min(nFiles, Number(argValue(argv, '--single') ?? 200));
const nShards = Number(argValue(argv, '--shards') ?? 100);
const nodes = Number(argValue(argv, '--nodes') ?? 4);
const started = new Date();
console.log(`# Tusk quilts vs single blobs: ${nFiles} files of 1–8 KiB, ${nShards} shards on ${nodes} nodes — ${machineLine()}`);

// Deterministic files: sizes 1024…8192, contents from a small PRNG.
let seed = 12345;
const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const files: QuiltBlobInput[] = Array.from({ length: nFiles }, (_, i) => {
  const size = 1024 + Math.floor(rnd() * 7169);
  const contents = new Uint8Array(size);
  for (let j = 0; j < size; j += 4) contents[j] = Math.floor(rnd() * 256);
  return { identifier: `file-${String(i).padStart(6, '0')}.bin`, contents };
});
const totalBytes = files.reduce((s, f) => s + f.contents.length, 0);

/** Packs files greedily into quilts that fit the committee (columns and 10-column index). */
function pack(all: QuiltBlobInput[]): QuiltBlobInput[][] {
  const { columns } = quiltGeometry(nShards);
  const out: QuiltBlobInput[][] = [];
  let at = 0;
  while (at < all.length) {
    let take = Math.min(columns - 1, all.length - at);
    for (;;) {
      try {
        encodeQuilt(all.slice(at, at + take), { nShards });
        break;
      } catch {
        take = Math.max(1, Math.floor(take * 0.9));
      }
    }
    out.push(all.slice(at, at + take));
    at += take;
  }
  return out;
}

/** A chain client whose method calls are counted by name. */
function counted(chain: Chain): { chain: Chain; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const proxy = new Proxy(chain, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls.set(String(prop), (calls.get(String(prop)) ?? 0) + 1);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { chain: proxy, calls };
}

/** The chain methods that submit a signed transaction (those taking a Signer). */
const TX_METHODS = new Set([
  'transferWal',
  'reserveSpace',
  'registerBlob',
  'certifyBlob',
  'extendBlob',
  'extendBlobWithResource',
  'deleteBlob',
  'burnBlob',
  'setBlobAttribute',
  'removeBlobAttribute',
  'splitStorage',
  'splitStorageByEpoch',
  'fuseStorage',
  'transferObject',
]);

const dir = await mkdtemp(join(tmpdir(), 'tusk-bench-quilt-'));
const net = await startDevNetwork({ dataDir: dir, nodes, nShards, walletFunds: 10n ** 15n });
const rows: Record<string, unknown>[] = [];
try {
  const base = new RemoteChain({ url: net.chainUrl });
  const wallet = await loadWallet(join(dir, 'wallet.key'));
  const address = wallet.toSuiAddress();
  const cfg = new EncodingConfig(nShards);
  const quilts = pack(files);

  // --- quilts
  {
    const { chain, calls } = counted(base);
    const before = await base.balance(address);
    const t0 = performance.now();
    let encoded = 0;
    let firstPatch = '';
    for (const [i, group] of quilts.entries()) {
      const r = await storeQuilt(group, { chain, signer: wallet, epochs: 1 });
      encoded += cfg.encodedBlobLength(r.blobStoreResult.unencodedLength);
      if (i === 0) firstPatch = r.storedQuiltBlobs[Math.floor(r.storedQuiltBlobs.length / 2)].quiltPatchId;
      void r.blobStoreResult.background.catch(() => {});
      if ((i + 1) % 10 === 0 || i + 1 === quilts.length) process.stderr.write(`\rquilts: ${i + 1}/${quilts.length}`);
    }
    const s = (performance.now() - t0) / 1000;
    process.stderr.write('\n');
    const spent = before - (await base.balance(address));
    const tx = [...calls].filter(([k]) => TX_METHODS.has(k)).reduce((a, [, v]) => a + v, 0);
    const t1 = performance.now();
    const patch = await readQuiltPatch(null, { quiltPatchId: firstPatch }, { chain: base });
    const readMs = performance.now() - t1;
    const ok = files.some(
      (f) => f.identifier === patch.identifier && Buffer.compare(Buffer.from(f.contents), Buffer.from(patch.data)) === 0,
    );
    rows.push({
      mode: 'quilts',
      files: nFiles,
      blobs: quilts.length,
      seconds: s,
      filesPerSecond: nFiles / s,
      chainCalls: Object.fromEntries(calls),
      chainTransactions: tx,
      frostSpent: spent.toString(),
      encodedBytes: encoded,
      extrapolated: false,
      readOnePatchMs: readMs,
      readOk: ok,
    });
    console.log(
      `quilts:       ${nFiles} files in ${quilts.length} quilts: ${s.toFixed(1)} s (${(nFiles / s).toFixed(1)} files/s), ${tx} transactions, ${[...calls.values()].reduce((a, b) => a + b, 0)} chain calls, ${spent} FROST, ${(encoded / 2 ** 20).toFixed(1)} MiB encoded; one patch read by ID in ${readMs.toFixed(0)} ms (${ok ? 'bytes identical' : 'MISMATCH'})`,
    );
  }

  // --- single blobs (a sample)
  {
    const { chain, calls } = counted(base);
    const before = await base.balance(address);
    const t0 = performance.now();
    let encoded = 0;
    for (let i = 0; i < nSingle; i++) {
      const r = await storeBlob(files[i].contents, { chain, signer: wallet, epochs: 1 });
      encoded += cfg.encodedBlobLength(r.unencodedLength);
      void r.background.catch(() => {});
      if ((i + 1) % 10 === 0 || i + 1 === nSingle) process.stderr.write(`\rsingle blobs: ${i + 1}/${nSingle}`);
    }
    const s = (performance.now() - t0) / 1000;
    process.stderr.write('\n');
    const spent = before - (await base.balance(address));
    const tx = [...calls].filter(([k]) => TX_METHODS.has(k)).reduce((a, [, v]) => a + v, 0);
    const k = nFiles / nSingle;
    rows.push({
      mode: 'single blobs',
      files: nSingle,
      blobs: nSingle,
      seconds: s,
      filesPerSecond: nSingle / s,
      chainCalls: Object.fromEntries(calls),
      chainTransactions: tx,
      frostSpent: spent.toString(),
      encodedBytes: encoded,
      extrapolated: false,
    });
    rows.push({
      mode: `single blobs, scaled to ${nFiles}`,
      files: nFiles,
      blobs: nFiles,
      seconds: s * k,
      chainTransactions: Math.round(tx * k),
      frostSpent: ((spent * BigInt(Math.round(k * 1000))) / 1000n).toString(),
      encodedBytes: Math.round(encoded * k),
      extrapolated: true,
    });
    console.log(
      `single blobs: ${nSingle} files: ${s.toFixed(1)} s (${(nSingle / s).toFixed(1)} files/s), ${tx} transactions, ${[...calls.values()].reduce((a, b) => a + b, 0)} chain calls, ${spent} FROST, ${(encoded / 2 ** 20).toFixed(1)} MiB encoded`,
    );
    if (k !== 1)
      console.log(
        `single blobs scaled to ${nFiles} files (EXTRAPOLATED ×${k.toFixed(1)}): ~${(s * k).toFixed(0)} s, ~${Math.round(tx * k)} transactions, ~${(spent * BigInt(Math.round(k * 1000))) / 1000n} FROST, ~${((encoded * k) / 2 ** 30).toFixed(2)} GiB encoded`,
      );
  }
  const q = rows[0],
    one = rows[2] ?? rows[1];
  console.log(
    `ratio (single ÷ quilts, for ${nFiles} files): time ×${((one.seconds as number) / (q.seconds as number)).toFixed(1)}, transactions ×${((one.chainTransactions as number) / (q.chainTransactions as number)).toFixed(1)}, WAL ×${(Number(one.frostSpent) / Number(q.frostSpent)).toFixed(1)}, encoded bytes ×${((one.encodedBytes as number) / (q.encodedBytes as number)).toFixed(1)}; ${(totalBytes / 2 ** 20).toFixed(1)} MiB of files`,
  );
} finally {
  await net.stop();
  await rm(dir, { recursive: true, force: true });
  await closeDefaultPool();
}
writeReport(argv, 'quilt', { nFiles, nSingle, nShards, nodes, totalBytes, rows }, started);
