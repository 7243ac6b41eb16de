/**
 * Codec worker-pool benchmark: Tusk's async encode on a `CodecPool` of 1 and 2 worker threads vs the
 * official Walrus encoder (`@mysten/walrus-wasm`, via test/helpers/official.ts), RS2, default
 * n_shards = 1000.
 *
 *   npm run bench:pool -- [--sizes 1,64,256] [--n-shards 1000] [--runs N] [--seed 1] [--timeout 1800]
 *                         [--impl official,tusk-1,tusk-2,tusk-1-id,tusk-2-id] [--warmup-kib 64]
 *                         [--out file.json]
 *
 * Why: the pool is what makes Tusk fast on a multi-core machine while the calling thread stays
 * free. The issue's targets, checked at the end of the table when the sizes are measured:
 *   - encoding a 256 MiB blob is ≥ 10× faster than the official encoder (official_time / tusk-2_time),
 *   - 2 workers over 1 worker is ≥ 1.7× (tusk-1_time / tusk-2_time, the pool's scaling),
 *   - the blob ID of a 1 MiB blob takes ≤ 0.25 s (tusk-1-id / tusk-2-id).
 *
 * Implementations (`--impl`, default all):
 *   - `official`:  `officialEncode(data, nShards)` — the baseline, single thread, synchronous.
 *   - `tusk-1`, `tusk-2`:       `encodeBlobAsync(data, { nShards, pool })`, pool = `new CodecPool({ threads: 1 | 2 })`.
 *   - `tusk-1-id`, `tusk-2-id`: `computeBlobMetadataAsync(data, { nShards, pool })` (blob ID and
 *                               metadata only, no slivers kept).
 *
 * Every measurement runs in a FRESH child process (this script re-spawned with `--worker`, see
 * bench/harness.ts), so the peak RSS (`process.resourceUsage().maxRSS`, which covers the worker
 * threads too: they are threads of the same process) belongs to one implementation, one size, one
 * run. The child fills the blob with deterministic xorshift32 data (the same data as
 * bench/encode.ts). The official encoder is warmed up with a 1 KiB encode at n_shards = 4 (as in
 * bench/encode.ts). A Tusk child creates its pool and warms it up with one call of the measured
 * function on a `--warmup-kib` (default 64 KiB) blob at the same n_shards — that pool start + warm-up
 * time is reported separately (`start s`), it is NOT part of the encode time. Then only the encode
 * call is timed with performance.now(); the pool is closed afterwards (`await pool.close()`, untimed).
 *
 * Main-thread responsiveness: during each Tusk call, `monitorEventLoopDelay({ resolution: 10 })`
 * (node:perf_hooks) is enabled right before the call and disabled right after; p50 / p99 / max are
 * reported in ms. The histogram records the full interval between two 10 ms timer ticks, so an idle
 * event loop reads ≈ 10 ms; the main thread was blocked for (value − 10) ms. No samples (a call
 * shorter than one tick) is reported as `-`. The official encoder is synchronous: it blocks the loop
 * for its whole run, so it has no histogram.
 *
 * Blob IDs: every Tusk blob ID is compared (as base64url text) with the official one of the same
 * size; if `official` was not run (or failed) for a size, the reference is Tusk's single-thread
 * `computeBlobMetadata`, computed in the parent after all measurements.
 *
 * Output: a table per size and implementation (median seconds, median CPU seconds of the whole
 * process — more than the wall time means several threads worked —, MB/s with MB = 10^6 bytes, peak
 * RSS MiB, pool start + warm-up seconds, event-loop delay p50/p99/max ms, blob ID agreement), then
 * per size the ratios official/tusk-2, official/tusk-1, tusk-1/tusk-2 and the blob-ID times, then the
 * targets. Everything is written to bench/results/pool-<date>.json. Sizes are MiB (2^20 bytes);
 * `--runs` defaults to 3 for sizes ≤ 16 MiB and 1 above (median reported). A failing run is recorded
 * as an error, not a crash.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { MiB, argValue, emitResult, machineLine, makeData, median, pad, spawnWorker, toBase64Url, writeReport } from './harness.ts';

type Impl = 'official' | 'tusk-1' | 'tusk-2' | 'tusk-1-id' | 'tusk-2-id';
const IMPLS: readonly Impl[] = ['official', 'tusk-1', 'tusk-2', 'tusk-1-id', 'tusk-2-id'];
const ELD_RESOLUTION_MS = 10;

/** Event-loop delay during one call, ms (raw histogram values: an idle loop reads ≈ the resolution). */
interface LoopDelay {
  samples: number;
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
}

interface RunResult {
  impl: Impl;
  sizeBytes: number;
  nShards: number;
  run: number;
  ok: boolean;
  seconds?: number;
  /** CPU time (user + system) of the whole process (all threads) during the call, seconds. */
  cpuSeconds?: number;
  /** Peak resident set size of the child process (worker threads included), KiB. */
  maxRssKiB?: number;
  /** Pool construction + warm-up call, seconds (Tusk only; not part of `seconds`). */
  startSeconds?: number;
  /** Main thread's event-loop delay during the call (Tusk only). */
  loopDelay?: LoopDelay;
  blobId?: string;
  error?: string;
}

function poolThreads(impl: Impl): number {
  return impl.startsWith('tusk-2') ? 2 : 1;
}

// ---------------------------------------------------------------------------------------------
// Worker mode: one measurement, one JSON line.
// ---------------------------------------------------------------------------------------------

async function worker(argv: string[]): Promise<void> {
  const impl = argValue(argv, '--impl') as Impl;
  const sizeBytes = Number(argValue(argv, '--size-bytes'));
  const nShards = Number(argValue(argv, '--n-shards'));
  const seed = Number(argValue(argv, '--seed') ?? 1);
  const run = Number(argValue(argv, '--run') ?? 0);
  const warmupBytes = Math.round(Number(argValue(argv, '--warmup-kib') ?? 64) * 1024);
  const base: RunResult = { impl, sizeBytes, nShards, run, ok: false };
  const gc = () => (globalThis as { gc?: () => void }).gc?.();

  try {
    if (!IMPLS.includes(impl)) throw new Error(`unknown --impl ${String(impl)}`);
    if (impl === 'official') {
      const { officialEncode } = await import('../test/helpers/official.ts');
      officialEncode(makeData(1024, 99), 4);
      const data = makeData(sizeBytes, seed);
      gc();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const result = officialEncode(data, nShards);
      const t1 = performance.now();
      const c1 = process.cpuUsage(c0);
      emitResult({
        ...base,
        ok: true,
        seconds: (t1 - t0) / 1000,
        cpuSeconds: (c1.user + c1.system) / 1e6,
        maxRssKiB: process.resourceUsage().maxRSS,
        blobId: toBase64Url(result.blobId),
      } satisfies RunResult);
      return;
    }

    const { CodecPool, encodeBlobAsync, computeBlobMetadataAsync } = await import('../src/index.ts');
    const idOnly = impl.endsWith('-id');
    const data = makeData(sizeBytes, seed);
    const warm = makeData(warmupBytes, 99);
    gc();

    const s0 = performance.now();
    const pool = new CodecPool({ threads: poolThreads(impl) });
    try {
      const call = (d: Uint8Array) => (idOnly ? computeBlobMetadataAsync(d, { nShards, pool }) : encodeBlobAsync(d, { nShards, pool }));
      await call(warm);
      const startSeconds = (performance.now() - s0) / 1000;
      gc();

      const h = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
      const c0 = process.cpuUsage();
      h.enable();
      const t0 = performance.now();
      const result = await call(data);
      const t1 = performance.now();
      h.disable();
      const c1 = process.cpuUsage(c0);
      const ms = (ns: number) => ns / 1e6;
      const loopDelay: LoopDelay =
        h.count > 0 ? { samples: h.count, p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max) } : { samples: 0 };
      emitResult({
        ...base,
        ok: true,
        seconds: (t1 - t0) / 1000,
        cpuSeconds: (c1.user + c1.system) / 1e6,
        maxRssKiB: process.resourceUsage().maxRSS,
        startSeconds,
        loopDelay,
        blobId: toBase64Url(result.blobId),
      } satisfies RunResult);
    } finally {
      await pool.close();
    }
  } catch (e) {
    emitResult({
      ...base,
      ok: false,
      maxRssKiB: process.resourceUsage().maxRSS,
      error: String((e as Error)?.stack ?? e).slice(0, 2000),
    } satisfies RunResult);
  }
}

// ---------------------------------------------------------------------------------------------
// Parent mode: spawn the workers, summarise, print, save.
// ---------------------------------------------------------------------------------------------

interface Summary {
  sizeMiB: number;
  sizeBytes: number;
  impl: Impl;
  runs: number;
  ok: boolean;
  medianSeconds?: number;
  medianCpuSeconds?: number;
  mbPerSecond?: number;
  peakRssMiB?: number;
  medianStartSeconds?: number;
  /** Median over the runs of each statistic (p50, p99) and max over the runs of the max, ms. */
  loopDelayMs?: { p50?: number; p99?: number; max?: number; samples: number };
  blobId?: string;
  /** Equals the reference blob ID (official, else Tusk single-thread). */
  blobIdMatches?: boolean;
  error?: string;
}

async function parent(argv: string[]): Promise<void> {
  const nShards = Number(argValue(argv, '--n-shards') ?? 1000);
  const sizesMiB = (argValue(argv, '--sizes') ?? '1,64,256').split(',').map(Number);
  const impls = (argValue(argv, '--impl') ?? IMPLS.join(',')).split(',') as Impl[];
  const runsArg = argValue(argv, '--runs');
  const seed = Number(argValue(argv, '--seed') ?? 1);
  const timeoutS = Number(argValue(argv, '--timeout') ?? 1800);
  const warmupKiB = Number(argValue(argv, '--warmup-kib') ?? 64);
  for (const i of impls) if (!IMPLS.includes(i)) throw new Error(`--impl: unknown implementation "${i}" (known: ${IMPLS.join(', ')})`);
  for (const s of sizesMiB) if (!(s >= 0)) throw new Error(`--sizes: bad size "${s}"`);
  if (!Number.isInteger(nShards) || nShards < 1) throw new Error('--n-shards must be a positive integer');
  if (runsArg !== undefined && !(Number.isInteger(Number(runsArg)) && Number(runsArg) >= 1))
    throw new Error('--runs must be a positive integer');
  if (!(warmupKiB >= 0)) throw new Error('--warmup-kib must be ≥ 0');

  const script = fileURLToPath(import.meta.url);
  const runs: RunResult[] = [];
  console.log(
    `pool benchmark: n_shards=${nShards}, sizes=${sizesMiB.join(',')} MiB, impl=${impls.join(',')}, ` +
      `pool warm-up ${warmupKiB} KiB, ${machineLine()}`,
  );

  for (const mib of sizesMiB) {
    const sizeBytes = Math.round(mib * MiB);
    const nRuns = runsArg !== undefined ? Number(runsArg) : mib <= 16 ? 3 : 1;
    for (const impl of impls) {
      for (let run = 0; run < nRuns; run++) {
        process.stdout.write(`  ${mib} MiB ${impl} run ${run + 1}/${nRuns} … `);
        const args = [
          '--impl',
          impl,
          '--size-bytes',
          String(sizeBytes),
          '--n-shards',
          String(nShards),
          '--seed',
          String(seed),
          '--run',
          String(run),
          '--warmup-kib',
          String(warmupKiB),
        ];
        const w = spawnWorker(script, args, timeoutS);
        const r: RunResult = 'result' in w ? (w.result as RunResult) : { impl, sizeBytes, nShards, run, ok: false, error: w.error };
        runs.push(r);
        if (!r.ok) {
          console.log(`FAILED: ${r.error?.split('\n')[0]}`);
          continue;
        }
        const extra =
          r.startSeconds !== undefined ? `, start+warm-up ${r.startSeconds.toFixed(3)} s, loop p99 ${fmtMs(r.loopDelay?.p99Ms)} ms` : '';
        console.log(
          `${r.seconds!.toFixed(3)} s (cpu ${r.cpuSeconds!.toFixed(3)} s), peak RSS ${(r.maxRssKiB! / 1024).toFixed(0)} MiB${extra}`,
        );
      }
    }
  }

  // Reference blob IDs: the official encoder's, else Tusk's single-thread computeBlobMetadata.
  const references: { sizeMiB: number; blobId?: string; source: 'official' | 'tusk-single-thread' }[] = [];
  for (const mib of sizesMiB) {
    const sizeBytes = Math.round(mib * MiB);
    const official = runs.find((r) => r.impl === 'official' && r.sizeBytes === sizeBytes && r.ok && r.blobId);
    if (official) {
      references.push({ sizeMiB: mib, blobId: official.blobId, source: 'official' });
      continue;
    }
    if (!runs.some((r) => r.impl !== 'official' && r.sizeBytes === sizeBytes && r.ok)) continue;
    process.stdout.write(`  ${mib} MiB reference blob ID (Tusk single-thread computeBlobMetadata) … `);
    try {
      const { computeBlobMetadata } = await import('../src/index.ts');
      const t0 = performance.now();
      const id = toBase64Url(computeBlobMetadata(makeData(sizeBytes, seed), { nShards }).blobId);
      console.log(`${((performance.now() - t0) / 1000).toFixed(3)} s`);
      references.push({ sizeMiB: mib, blobId: id, source: 'tusk-single-thread' });
    } catch (e) {
      console.log(`FAILED: ${String((e as Error)?.message ?? e)}`);
      references.push({ sizeMiB: mib, source: 'tusk-single-thread' });
    }
    (globalThis as { gc?: () => void }).gc?.();
  }

  // Summary per (size, impl).
  const summaries: Summary[] = [];
  for (const mib of sizesMiB) {
    const sizeBytes = Math.round(mib * MiB);
    const ref = references.find((x) => x.sizeMiB === mib)?.blobId;
    for (const impl of impls) {
      const rs = runs.filter((r) => r.impl === impl && r.sizeBytes === sizeBytes);
      const good = rs.filter((r) => r.ok);
      if (good.length === 0) {
        summaries.push({ sizeMiB: mib, sizeBytes, impl, runs: rs.length, ok: false, error: rs.find((r) => r.error)?.error });
        continue;
      }
      const med = median(good.map((r) => r.seconds!));
      const starts = good.map((r) => r.startSeconds).filter((x): x is number => typeof x === 'number');
      const delays = good.map((r) => r.loopDelay).filter((d): d is LoopDelay => d !== undefined);
      const sampled = delays.filter((d) => d.samples > 0);
      const ids = new Set(good.map((r) => r.blobId));
      summaries.push({
        sizeMiB: mib,
        sizeBytes,
        impl,
        runs: good.length,
        ok: true,
        medianSeconds: med,
        medianCpuSeconds: median(good.map((r) => r.cpuSeconds!)),
        mbPerSecond: sizeBytes / 1e6 / med,
        peakRssMiB: Math.max(...good.map((r) => r.maxRssKiB!)) / 1024,
        medianStartSeconds: starts.length ? median(starts) : undefined,
        loopDelayMs: delays.length
          ? {
              samples: delays.reduce((a, d) => a + d.samples, 0),
              p50: sampled.length ? median(sampled.map((d) => d.p50Ms!)) : undefined,
              p99: sampled.length ? median(sampled.map((d) => d.p99Ms!)) : undefined,
              max: sampled.length ? Math.max(...sampled.map((d) => d.maxMs!)) : undefined,
            }
          : undefined,
        blobId: good[0].blobId,
        // Every run must agree with the reference (and hence with each other).
        blobIdMatches: ref !== undefined ? ids.size === 1 && good[0].blobId === ref : undefined,
        error: good.length < rs.length ? rs.find((r) => r.error)?.error : undefined,
      });
    }
  }
  const time = (mib: number, impl: Impl) => summaries.find((s) => s.sizeMiB === mib && s.impl === impl && s.ok)?.medianSeconds;
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);
  const comparisons = sizesMiB.map((mib) => ({
    sizeMiB: mib,
    officialOverTusk2: ratio(time(mib, 'official'), time(mib, 'tusk-2')),
    officialOverTusk1: ratio(time(mib, 'official'), time(mib, 'tusk-1')),
    tusk1OverTusk2: ratio(time(mib, 'tusk-1'), time(mib, 'tusk-2')),
    blobIdSeconds1: time(mib, 'tusk-1-id'),
    blobIdSeconds2: time(mib, 'tusk-2-id'),
    blobIdTusk1OverTusk2: ratio(time(mib, 'tusk-1-id'), time(mib, 'tusk-2-id')),
    referenceBlobId: references.find((x) => x.sizeMiB === mib),
  }));

  // Targets (only those whose sizes/impls were measured).
  const targets: { target: string; value?: number; met?: boolean }[] = [];
  for (const c of comparisons) {
    if (c.sizeMiB === 256 && c.officialOverTusk2 !== undefined)
      targets.push({ target: '256 MiB encode: official / tusk-2 ≥ 10×', value: c.officialOverTusk2, met: c.officialOverTusk2 >= 10 });
    if (c.tusk1OverTusk2 !== undefined)
      targets.push({ target: `${c.sizeMiB} MiB encode: tusk-1 / tusk-2 ≥ 1.7×`, value: c.tusk1OverTusk2, met: c.tusk1OverTusk2 >= 1.7 });
    if (c.sizeMiB === 1) {
      for (const [impl, t] of [
        ['tusk-1-id', c.blobIdSeconds1],
        ['tusk-2-id', c.blobIdSeconds2],
      ] as const) {
        if (t !== undefined) targets.push({ target: `1 MiB blob ID (${impl}) ≤ 0.25 s`, value: t, met: t <= 0.25 });
      }
    }
  }

  // Table.
  console.log(
    '\nMB/s uses MB = 10^6 bytes; sizes are MiB (2^20 bytes); time = median wall time of the runs; cpu s = median CPU time of the\n' +
      'whole process (all threads) during the call; RSS = max over the runs (worker threads included); start s = pool start + warm-up\n' +
      `(not in the time); loop = main-thread event-loop delay during the call, ms (resolution ${ELD_RESOLUTION_MS} ms: an idle loop reads ≈ ${ELD_RESOLUTION_MS});\n` +
      'id = blob ID equals the reference (official encoder, else Tusk single-thread).',
  );
  const head = [
    pad('size MiB', 9, true),
    pad('impl', 10),
    pad('runs', 4, true),
    pad('median s', 9, true),
    pad('cpu s', 8, true),
    pad('MB/s', 8, true),
    pad('RSS MiB', 8, true),
    pad('start s', 8, true),
    pad('loop p50', 9, true),
    pad('p99', 7, true),
    pad('max', 7, true),
    pad('id', 4, true),
    '  notes',
  ];
  console.log(head.join(' '));
  for (const s of summaries) {
    const note = !s.ok ? `FAILED: ${(s.error ?? '').split('\n')[0].slice(0, 100)}` : s.error ? 'some runs failed' : '';
    const ld = s.loopDelayMs;
    console.log(
      [
        pad(String(s.sizeMiB), 9, true),
        pad(s.impl, 10),
        pad(String(s.runs), 4, true),
        pad(s.ok ? s.medianSeconds!.toFixed(3) : '-', 9, true),
        pad(s.ok ? s.medianCpuSeconds!.toFixed(3) : '-', 8, true),
        pad(s.ok ? s.mbPerSecond!.toFixed(2) : '-', 8, true),
        pad(s.ok ? s.peakRssMiB!.toFixed(0) : '-', 8, true),
        pad(s.medianStartSeconds !== undefined ? s.medianStartSeconds.toFixed(3) : '-', 8, true),
        pad(fmtMs(ld?.p50), 9, true),
        pad(fmtMs(ld?.p99), 7, true),
        pad(fmtMs(ld?.max), 7, true),
        pad(s.blobIdMatches === undefined ? '-' : s.blobIdMatches ? 'ok' : 'NO', 4, true),
        '  ' + note,
      ].join(' '),
    );
  }
  const x = (v?: number) => (v !== undefined ? v.toFixed(2) + '×' : '-');
  const sec = (v?: number) => (v !== undefined ? v.toFixed(3) + ' s' : '-');
  console.log('\nsize MiB  official/tusk-2  official/tusk-1  tusk-1/tusk-2  blob ID tusk-1-id  tusk-2-id  (1-id/2-id)');
  for (const c of comparisons) {
    console.log(
      [
        pad(String(c.sizeMiB), 8, true),
        pad(x(c.officialOverTusk2), 15, true),
        pad(x(c.officialOverTusk1), 16, true),
        pad(x(c.tusk1OverTusk2), 14, true),
        pad(sec(c.blobIdSeconds1), 18, true),
        pad(sec(c.blobIdSeconds2), 10, true),
        pad(c.blobIdTusk1OverTusk2 !== undefined ? `(${x(c.blobIdTusk1OverTusk2)})` : '', 12, true),
      ].join(' '),
    );
  }
  if (targets.length) {
    console.log('\ntargets:');
    for (const t of targets) {
      const v = t.target.includes('blob ID') ? sec(t.value) : x(t.value);
      console.log(`  ${pad(t.target, 44)} ${pad(v, 9, true)}  ${t.met ? 'met' : 'MISSED'}`);
    }
  }
  const mismatched = summaries.filter((s) => s.blobIdMatches === false);
  if (mismatched.length) console.log(`\nBLOB ID MISMATCH: ${mismatched.map((s) => `${s.sizeMiB} MiB ${s.impl}`).join(', ')}`);

  // JSON.
  writeReport(argv, 'pool', {
    params: {
      nShards,
      sizesMiB,
      impls,
      runs: runsArg !== undefined ? Number(runsArg) : 'default (3 if ≤16 MiB else 1)',
      seed,
      poolWarmupKiB: warmupKiB,
      officialWarmup: '1 KiB at n_shards 4',
      eventLoopResolutionMs: ELD_RESOLUTION_MS,
      data: 'xorshift32 words',
    },
    units: {
      seconds: 'median wall time of the encode / blob-ID call',
      cpuSeconds: 'user+system CPU time of the whole process (all threads) during the call',
      mbPerSecond: 'MB = 10^6 bytes',
      peakRssMiB: 'max over runs of process maxRSS (worker threads included), MiB',
      startSeconds: 'pool construction + one warm-up call, not included in seconds',
      loopDelayMs: `monitorEventLoopDelay({ resolution: ${ELD_RESOLUTION_MS} }) during the call; raw interval, idle ≈ ${ELD_RESOLUTION_MS} ms; p50/p99 = median over runs, max = max over runs`,
    },
    summaries,
    comparisons,
    targets,
    runs,
  });
}

function fmtMs(v?: number): string {
  return v !== undefined ? v.toFixed(1) : '-';
}

const argv = process.argv.slice(2);
if (argv.includes('--worker')) await worker(argv);
else await parent(argv);
