/**
 * The HTTP gateway under load (`npm run bench:gateway`). A local network (chain + storage nodes as
 * processes) and `tusk daemon` as its own process (so its peak RSS is the gateway's alone, read
 * from /proc/<pid>/status VmHWM); this process is only the HTTP client. Reports:
 *
 *  - publisher ingest: a PUT of --mib MiB streamed from a file (and 1 GiB on a 1000-shard
 *    committee under --slow / TUSK_SLOW=1), MB/s to the 200 and the daemon's peak RSS;
 *  - aggregator: throughput and p50/p99 latency of --connections (64) concurrent GETs of a cached
 *    1 MiB blob for --seconds, with autocannon;
 *  - range reads: time to first byte and bytes fetched from the nodes (the daemon's
 *    tusk_gateway_sliver_bytes_fetched_total) for a 1 MiB Range of the big blob at --ranges
 *    offsets (medians), against one full read of it (under --slow also of the 1 GiB blob).
 *
 *   node bench/gateway.ts [--mib 64] [--shards 100] [--nodes 4] [--ranges 20] [--seconds 10]
 *                         [--connections 64] [--slow] [--out file.json]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import autocannon from 'autocannon';
import { startDevNetwork, type DevNetwork } from '../src/network/dev-network.ts';
import { argValue, machineLine, makeData, median, MiB, writeReport } from './harness.ts';

const argv = process.argv.slice(2);
const mib = Number(argValue(argv, '--mib') ?? 64);
const shards = Number(argValue(argv, '--shards') ?? 100);
const nodes = Number(argValue(argv, '--nodes') ?? 4);
const rangeRuns = Number(argValue(argv, '--ranges') ?? 20);
const seconds = Number(argValue(argv, '--seconds') ?? 10);
const connections = Number(argValue(argv, '--connections') ?? 64);
const slow = argv.includes('--slow') || process.env.TUSK_SLOW === '1';
const TUSK = new URL('../bin/tusk.js', import.meta.url).pathname;
const started = new Date();
console.log(`# Tusk HTTP gateway, ${nodes} nodes, ${shards} shards${slow ? ' (+ 1 GiB on 1000 shards)' : ''} — ${machineLine()}`);

interface Gateway {
  url: string;
  metricsUrl: string;
  child: ChildProcess;
}

async function startGateway(configPath: string, dir: string): Promise<Gateway> {
  const child = spawn(
    process.execPath,
    [
      TUSK,
      'daemon',
      '--config',
      configPath,
      '--bind-address',
      '127.0.0.1:0',
      '--metrics-address',
      '127.0.0.1:0',
      '--max-body-size',
      String(2 * 1024 * 1024),
      '--cache-dir',
      join(dir, 'cache'),
      '--cache-size',
      '2048',
      '--temp-dir',
      dir,
      '--json',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.once('exit', (c) => reject(new Error(`tusk daemon exited with ${c}`)));
  });
  const { url, metricsUrl } = JSON.parse(line);
  return { url, metricsUrl, child };
}

async function stopGateway(g: Gateway): Promise<void> {
  g.child.kill('SIGTERM');
  await new Promise((r) => g.child.once('exit', r));
}

/** The daemon's peak resident set (VmHWM) in MiB. */
async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024);
}

async function nodeBytes(g: Gateway): Promise<number> {
  const text = await (await fetch(g.metricsUrl)).text();
  return Number(/^tusk_gateway_sliver_bytes_fetched_total (\S+)/m.exec(text)?.[1] ?? 0);
}

/** PUTs `file` streamed; returns the blob ID and seconds to the 200. */
async function putFile(g: Gateway, file: string): Promise<{ blobId: string; s: number }> {
  const size = (await stat(file)).size;
  const t = performance.now();
  const res = await fetch(`${g.url}/v1/blobs`, {
    method: 'PUT',
    duplex: 'half',
    headers: { 'content-length': String(size) },
    body: Readable.toWeb(createReadStream(file, { highWaterMark: MiB })) as ReadableStream,
  } as RequestInit);
  const body = await res.json();
  if (res.status !== 200) throw new Error(`PUT answered ${res.status}: ${JSON.stringify(body)}`);
  const s = (performance.now() - t) / 1000;
  return { blobId: (body.newlyCreated?.blobObject.blobId ?? body.alreadyCertified.blobId) as string, s };
}

/** GET with optional Range: time to first byte and to the end (ms), bytes received. */
async function timedGet(url: string, range?: string): Promise<{ ttfbMs: number; totalMs: number; bytes: number; status: number }> {
  const t = performance.now();
  const res = await fetch(url, { headers: range ? { range } : {} });
  const reader = res.body!.getReader();
  let ttfb = -1,
    bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (ttfb < 0) ttfb = performance.now() - t;
    bytes += value.length;
  }
  return { ttfbMs: ttfb, totalMs: performance.now() - t, bytes, status: res.status };
}

async function withNetwork<T>(nShards: number, work: (net: DevNetwork, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tusk-bench-gw-'));
  const net = await startDevNetwork({ dataDir: join(dir, 'net'), nodes, nShards });
  try {
    return await work(net, dir);
  } finally {
    await net.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * TTFB and bytes fetched from the nodes for 1 MiB Ranges of a blob not yet cached (`runs` offsets,
 * medians), then one full GET of it.
 */
async function rangeVsFull(g: Gateway, blobId: string, size: number, runs: number): Promise<Record<string, unknown>> {
  const ttfb: number[] = [],
    fetched: number[] = [],
    totals: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = Math.floor((((i * 7919) % 1000) / 1000) * (size - MiB));
    const before = await nodeBytes(g);
    const r = await timedGet(`${g.url}/v1/blobs/${blobId}`, `bytes=${start}-${start + MiB - 1}`);
    if (r.status !== 206 || r.bytes !== MiB) throw new Error(`range answered ${r.status} with ${r.bytes} bytes`);
    fetched.push((await nodeBytes(g)) - before);
    ttfb.push(r.ttfbMs);
    totals.push(r.totalMs);
  }
  const beforeFull = await nodeBytes(g);
  const full = await timedGet(`${g.url}/v1/blobs/${blobId}`);
  const fullFetched = (await nodeBytes(g)) - beforeFull;
  const mibs = size / MiB;
  console.log(
    `1 MiB range of ${mibs} MiB (n=${runs}, medians): TTFB ${f(median(ttfb), 1)} ms, total ${f(median(totals), 1)} ms, fetched from nodes ${f(median(fetched) / MiB)} MiB`,
  );
  console.log(
    `full read of ${mibs} MiB: TTFB ${f(full.ttfbMs, 1)} ms, total ${f(full.totalMs, 1)} ms, fetched from nodes ${f(fullFetched / MiB)} MiB`,
  );
  return {
    blobMiB: mibs,
    runs,
    rangeBytes: MiB,
    medianTtfbMs: median(ttfb),
    medianTotalMs: median(totals),
    medianFetchedMiB: median(fetched) / MiB,
    full: { ttfbMs: full.ttfbMs, totalMs: full.totalMs, fetchedMiB: fullFetched / MiB, bytes: full.bytes },
  };
}

const f = (x: number, d = 2) => x.toFixed(d);
const report: Record<string, unknown> = { nodes, shards, mib };

await withNetwork(shards, async (net, dir) => {
  const g = await startGateway(net.configPath, dir);
  try {
    // 1. Publisher ingest.
    const bigFile = join(dir, 'big.bin');
    await writeFile(bigFile, makeData(mib * MiB, 7));
    const big = await putFile(g, bigFile);
    await rm(bigFile);
    const ingest = { mib, seconds: big.s, MBps: (mib * MiB) / 1e6 / big.s, daemonPeakRssMiB: await peakRssMiB(g.child.pid!) };
    report.ingest = [ingest];
    console.log(`publisher ingest ${mib} MiB: ${f(big.s)} s, ${f(ingest.MBps)} MB/s; daemon peak RSS ${ingest.daemonPeakRssMiB} MiB`);

    // 2. Range reads of the big blob (not cached yet), then one full read.
    report.range = [await rangeVsFull(g, big.blobId, mib * MiB, rangeRuns)];

    // 3. Aggregator under load: a cached 1 MiB blob.
    const small = join(dir, 'small.bin');
    await writeFile(small, makeData(MiB, 9));
    const hot = await putFile(g, small);
    await timedGet(`${g.url}/v1/blobs/${hot.blobId}`); // fills the cache
    const load = await autocannon({ url: `${g.url}/v1/blobs/${hot.blobId}`, connections, duration: seconds });
    report.aggregator = {
      connections,
      seconds,
      requestsPerS: load.requests.average,
      MBps: load.throughput.average / 1e6,
      p50Ms: load.latency.p50,
      p99Ms: load.latency.p99,
      non2xx: load.non2xx,
      errors: load.errors,
      daemonPeakRssMiB: await peakRssMiB(g.child.pid!),
    };
    console.log(
      `aggregator, ${connections} concurrent GETs of a cached 1 MiB blob for ${seconds} s: ${f(load.requests.average, 0)} req/s, ${f(load.throughput.average / 1e6)} MB/s, p50 ${load.latency.p50} ms, p99 ${load.latency.p99} ms, non-2xx ${load.non2xx}, errors ${load.errors}`,
    );
  } finally {
    await stopGateway(g);
  }
});

if (slow) {
  // 1 GiB needs a committee whose largest blob exceeds it (n = 1000: ~14 GiB).
  await withNetwork(1000, async (net, dir) => {
    const g = await startGateway(net.configPath, dir);
    try {
      const file = join(dir, 'huge.bin');
      const chunk = makeData(64 * MiB, 11);
      await writeFile(file, chunk);
      for (let i = 1; i < 16; i++) await writeFile(file, chunk, { flag: 'a' });
      const r = await putFile(g, file);
      const row = { mib: 1024, seconds: r.s, MBps: (1024 * MiB) / 1e6 / r.s, daemonPeakRssMiB: await peakRssMiB(g.child.pid!) };
      (report.ingest as unknown[]).push(row);
      console.log(`publisher ingest 1024 MiB (1000 shards): ${f(r.s)} s, ${f(row.MBps)} MB/s; daemon peak RSS ${row.daemonPeakRssMiB} MiB`);
      await rm(file);
      (report.range as unknown[]).push(await rangeVsFull(g, r.blobId, 1024 * MiB, rangeRuns));
    } finally {
      await stopGateway(g);
    }
  });
}

writeReport(argv, 'gateway', report, started);
