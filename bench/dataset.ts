/**
 * Dataset publish throughput against single-blob store throughput on the same local network
 * (`npm run bench:dataset`). The chain and storage nodes run as processes on loopback; the client
 * (this process) publishes a generated directory shaped like an AI dataset — one huge file (40 %
 * of the total; chunked when above the committee's maximum blob), ten medium files (the rest) and
 * `--small` small files (1–8 KiB, packed into quilts) — with `publishDataset`, and stores one
 * file of the maximum blob size (at most 128 MiB) with `storeFile` once before and once after the
 * publish (the machine's load drifts: the ratio is taken against their mean). Reports MB/s of
 * both, their ratio, the publish's chain transactions and summed step times, the client's peak
 * RSS during the publish and the peak size of the publish's spool directory (both sampled every
 * 200 ms), and the load average. Everything shares this machine's cores.
 *
 *   node bench/dataset.ts [--mib 1024] [--shards 100] [--nodes 4] [--small 500] [--parallel 4] [--out file.json]
 */
import { mkdir, mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startDevNetwork } from '../src/network/dev-network.ts';
import { RemoteChain } from '../src/chain/remote/client.ts';
import { loadWallet } from '../src/client/client-config.ts';
import { storeBlob, storeFile } from '../src/client/store-blob.ts';
import { closeDefaultPool } from '../src/pool/codec-pool.ts';
import { EncodingConfig } from '../src/codec/config.ts';
import { publishDataset } from '../src/api/dataset.ts';
import { argValue, machineLine, MiB, writeReport } from './harness.ts';

const argv = process.argv.slice(2);
const mib = Number(argValue(argv, '--mib') ?? 1024);
const nShards = Number(argValue(argv, '--shards') ?? 100);
const nodes = Number(argValue(argv, '--nodes') ?? 4);
const small = Number(argValue(argv, '--small') ?? 500);
const parallel = Number(argValue(argv, '--parallel') ?? 4);
const started = new Date();
console.log(`# Tusk dataset publish vs single-blob store, ${mib} MiB, ${nShards} shards, ${nodes} nodes — ${machineLine()}`);

async function writeRandom(path: string, size: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    for (let at = 0; at < size; at += 4 * MiB) await fh.write(randomBytes(Math.min(4 * MiB, size - at)));
  } finally {
    await fh.close();
  }
}

async function du(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await du(p);
    else
      total += await stat(p).then(
        (s) => s.size,
        () => 0,
      );
  }
  return total;
}

const work = await mkdtemp(join(tmpdir(), 'tusk-bench-dataset-'));
const net = await startDevNetwork({ dataDir: join(work, 'net'), nodes, nShards });
try {
  const chain = new RemoteChain({ url: net.chainUrl });
  const wallet = await loadWallet(join(work, 'net', 'wallet.key'));
  const maxBlob = new EncodingConfig(nShards).maxBlobSize;

  // The directory.
  const data = join(work, 'data');
  await mkdir(join(data, 'small'), { recursive: true });
  const total = mib * MiB;
  const huge = Math.round(total * 0.4);
  const mediumEach = Math.floor((total - huge - small * 4608) / 10);
  await writeRandom(join(data, 'huge.tar'), huge);
  for (let i = 0; i < 10; i++) await writeRandom(join(data, `part-${i}.parquet`), mediumEach);
  for (let i = 0; i < small; i++) await writeRandom(join(data, 'small', `s${i}.json`), 1024 + ((i * 7919) % 7168));
  const totalBytes = await du(data);
  console.log(
    `directory: ${(totalBytes / MiB).toFixed(0)} MiB (huge ${(huge / MiB).toFixed(0)} MiB → ${Math.ceil(huge / maxBlob)} chunk(s) of ≤ ${(maxBlob / MiB).toFixed(0)} MiB; 10 × ${(mediumEach / MiB).toFixed(0)} MiB; ${small} small)`,
  );

  const spoolRoot = join(work, 'spool');
  await mkdir(spoolRoot);
  // Single blob of the largest size this committee takes (≤ 128 MiB), from a file. It may fail on
  // an overloaded machine (nodes time out): the other figures are kept.
  const single = Math.min(128 * MiB, Math.floor(maxBlob / MiB) * MiB);
  // Two different files: the second store must not find its slivers already on the nodes.
  const singlePaths = [join(work, 'single-1.bin'), join(work, 'single-2.bin')];
  for (const p of singlePaths) await writeRandom(p, single);
  const singleRuns: { s: number; MBps: number | null; error: string | null; load: number }[] = [];
  const storeSingle = async (label: string) => {
    const load = loadavg()[0];
    try {
      const t1 = performance.now();
      const s = await storeFile(singlePaths[singleRuns.length], { chain, signer: wallet, epochs: 1, tempDir: spoolRoot });
      const secs = (performance.now() - t1) / 1000;
      await s.background;
      singleRuns.push({ s: secs, MBps: single / 1e6 / secs, error: null, load });
      console.log(
        `single-blob store ${label} (${single / MiB} MiB, storeFile): ${secs.toFixed(1)} s, ${(single / 1e6 / secs).toFixed(2)} MB/s (load ${load.toFixed(1)})`,
      );
    } catch (e) {
      singleRuns.push({ s: NaN, MBps: null, error: (e as Error).message, load });
      console.log(`single-blob store ${label} failed: ${(e as Error).message}`);
    }
  };
  // Warm-up (codec pool workers, compiled kernels, first requests to each node): the first store
  // after start-up is several times slower than the next and would skew whichever run came first.
  await (
    await storeBlob(randomBytes(MiB), { chain, signer: wallet, epochs: 1 })
  ).background;
  await storeSingle('before');

  // Dataset publish, with the spool and the RSS sampled.
  let spoolPeak = 0;
  let rssPeak = 0;
  let sampling = true;
  const loadBefore = loadavg()[0];
  const sampler = (async () => {
    while (sampling) {
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
      spoolPeak = Math.max(spoolPeak, await du(spoolRoot));
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const t0 = performance.now();
  let lastLine = 0;
  const r = await publishDataset(data, {
    chain,
    signer: wallet,
    epochs: 1,
    journalPath: join(work, 'journal.json'),
    spoolDir: spoolRoot,
    parallel,
    // A line every 30 s: a run stopped early still leaves its figures so far.
    onProgress: (p) => {
      const secs = (performance.now() - t0) / 1000;
      if (p.phase !== 'store' || secs - lastLine < 30) return;
      lastLine = secs;
      console.log(
        `  ${secs.toFixed(0)} s: ${(p.bytesDone / MiB).toFixed(0)} of ${(p.bytesTotal / MiB).toFixed(0)} MiB certified (${p.unitsDone}/${p.unitsTotal} units), ${(p.bytesDone / 1e6 / secs).toFixed(2)} MB/s so far | RSS peak ${(rssPeak / MiB).toFixed(0)} MiB | spool peak ${(spoolPeak / MiB).toFixed(0)} MiB | load ${loadavg()[0].toFixed(1)}`,
      );
    },
  });
  const publishS = (performance.now() - t0) / 1000;
  sampling = false;
  await sampler;
  const publishRssMiB = Math.round(rssPeak / MiB);
  const publishMBps = totalBytes / 1e6 / publishS;
  const sec = (ms: number) => (ms / 1000).toFixed(1);
  console.log(
    `dataset publish: ${publishS.toFixed(1)} s, ${publishMBps.toFixed(2)} MB/s (${r.units.quilts} quilts, ${r.units.blobs} blobs, ${r.units.chunks} chunks; load ${loadBefore.toFixed(1)}) | peak RSS ${publishRssMiB} MiB | spool peak ${(spoolPeak / MiB).toFixed(0)} MiB`,
  );
  console.log(
    `  chain: ${r.transactions.registrations} registration + ${r.transactions.certifications} certification transactions for ${r.units.stored + 1} blobs | summed step times (overlapping): encode ${sec(r.stepMs.encode)} s, register ${sec(r.stepMs.register)} s, upload to a quorum ${sec(r.stepMs.upload)} s, certify ${sec(r.stepMs.certify)} s`,
  );
  await storeSingle('after');
  const ok = singleRuns.filter((x) => x.MBps !== null);
  const singleMBps = ok.length ? ok.reduce((a, x) => a + x.MBps!, 0) / ok.length : null;
  if (singleMBps !== null) console.log(`ratio dataset / single blob (mean of ${ok.length}): ${(publishMBps / singleMBps).toFixed(2)}`);

  writeReport(
    argv,
    'dataset',
    {
      params: { mib, nShards, nodes, small, parallel },
      totalBytes,
      publishS,
      publishMBps,
      units: r.units,
      publishPeakRssMiB: publishRssMiB,
      spoolPeakMiB: Math.round(spoolPeak / MiB),
      transactions: r.transactions,
      stepMs: r.stepMs,
      loadBefore,
      singleBlobMiB: single / MiB,
      singleRuns,
      singleMBps,
      ratio: singleMBps === null ? null : publishMBps / singleMBps,
      manifestId: r.manifestId,
    },
    started,
  );
} finally {
  await net.stop();
  await closeDefaultPool();
  await rm(work, { recursive: true, force: true });
}
