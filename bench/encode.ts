/**
 * Encode benchmark: Tusk's `encodeBlob` vs the official Walrus encoder (`@mysten/walrus-wasm`, via
 * test/helpers/official.ts), single thread, RS2, default n_shards = 1000.
 *
 *   npm run bench:encode -- [--sizes 1,16,64,256] [--n-shards 1000] [--runs N] [--impl tusk,official]
 *                           [--seed 1] [--no-warmup] [--timeout 1800] [--out file.json]
 *
 * Every measurement runs in a FRESH child process (this script re-spawned with `--worker`), so the
 * peak RSS (`process.resourceUsage().maxRSS`) belongs to one implementation, one size, one run. The
 * child fills the blob with deterministic xorshift32 data (identical for both implementations),
 * optionally warms the implementation up with a 1 KiB encode at n_shards = 4 (default on: it takes
 * one-off WebAssembly instantiation out of the figure), then times only the encode call with
 * performance.now() and prints one `BENCH_RESULT {json}` line. The parent prints a table (median
 * seconds, MB/s with MB = 10^6 bytes, peak RSS in MiB, official_time / tusk_time per size, whether
 * the blob IDs agree) and writes everything to bench/results/encode-<date>.json.
 * Sizes are MiB (2^20 bytes); `--runs` defaults to 3 for sizes ≤ 16 MiB and 1 above (median reported).
 * A failing encoder (the official one cannot encode 1 GiB in 32-bit WebAssembly) is recorded as an
 * error, not a crash.
 */
import { fileURLToPath } from 'node:url';
import { MiB, argValue, emitResult, machineLine, makeData, median, pad, spawnWorker, toBase64Url, writeReport } from './harness.ts';

type Impl = 'tusk' | 'official';
const IMPLS: readonly Impl[] = ['tusk', 'official'];

interface RunResult {
  impl: Impl;
  sizeBytes: number;
  nShards: number;
  run: number;
  ok: boolean;
  seconds?: number;
  /** CPU time (user + system) the process spent during the encode call, seconds. */
  cpuSeconds?: number;
  /** Peak resident set size of the child process, KiB (process.resourceUsage().maxRSS). */
  maxRssKiB?: number;
  /** Size of the official encoder's WebAssembly memory after the encode, bytes (official only). */
  wasmMemoryBytes?: number;
  blobId?: string;
  error?: string;
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
  const warmup = !argv.includes('--no-warmup');
  const base: RunResult = { impl, sizeBytes, nShards, run, ok: false };
  const emit = (r: RunResult) => emitResult(r);

  try {
    let encode: (data: Uint8Array) => { blobId: Uint8Array };
    let wasmMemory: (() => number) | undefined;
    if (impl === 'tusk') {
      const { encodeBlob } = await import('../src/index.ts');
      encode = (data) => encodeBlob(data, { nShards });
      if (warmup) encodeBlob(makeData(1024, 99), { nShards: 4 });
    } else if (impl === 'official') {
      const { officialEncode } = await import('../test/helpers/official.ts');
      // The wasm-bindgen glue exposes the instance exports (untyped) as `__wasm`.
      const pkg = (await import('@mysten/walrus-wasm')) as unknown as { __wasm?: { memory?: { buffer: ArrayBuffer } } };
      encode = (data) => officialEncode(data, nShards);
      wasmMemory = () => pkg.__wasm?.memory?.buffer.byteLength ?? NaN;
      if (warmup) officialEncode(makeData(1024, 99), 4);
    } else {
      throw new Error(`unknown --impl ${String(impl)}`);
    }

    const data = makeData(sizeBytes, seed);
    (globalThis as { gc?: () => void }).gc?.();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const result = encode(data);
    const t1 = performance.now();
    const c1 = process.cpuUsage(c0);
    emit({
      ...base,
      ok: true,
      seconds: (t1 - t0) / 1000,
      cpuSeconds: (c1.user + c1.system) / 1e6,
      maxRssKiB: process.resourceUsage().maxRSS,
      wasmMemoryBytes: wasmMemory?.(),
      blobId: result.blobId instanceof Uint8Array ? toBase64Url(result.blobId) : undefined,
    });
  } catch (e) {
    emit({ ...base, ok: false, maxRssKiB: process.resourceUsage().maxRSS, error: String((e as Error)?.stack ?? e).slice(0, 2000) });
  }
}

// ---------------------------------------------------------------------------------------------
// Parent mode: spawn the workers, summarise, print, save.
// ---------------------------------------------------------------------------------------------

async function parent(argv: string[]): Promise<void> {
  const nShards = Number(argValue(argv, '--n-shards') ?? 1000);
  const sizesMiB = (argValue(argv, '--sizes') ?? '1,16,64,256').split(',').map(Number);
  const impls = (argValue(argv, '--impl') ?? 'tusk,official').split(',') as Impl[];
  const runsArg = argValue(argv, '--runs');
  const seed = Number(argValue(argv, '--seed') ?? 1);
  const timeoutS = Number(argValue(argv, '--timeout') ?? 1800);
  const warmup = !argv.includes('--no-warmup');
  for (const i of impls) if (!IMPLS.includes(i)) throw new Error(`--impl: unknown implementation "${i}"`);
  for (const s of sizesMiB) if (!(s >= 0)) throw new Error(`--sizes: bad size "${s}"`);
  if (!Number.isInteger(nShards) || nShards < 1) throw new Error('--n-shards must be a positive integer');

  const script = fileURLToPath(import.meta.url);
  const runs: RunResult[] = [];
  console.log(
    `encode benchmark: n_shards=${nShards}, sizes=${sizesMiB.join(',')} MiB, impl=${impls.join(',')}, ` +
      `warm-up=${warmup ? 'on' : 'off'}, ${machineLine()}`,
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
        ];
        if (!warmup) args.push('--no-warmup');
        const w = spawnWorker(script, args, timeoutS);
        const r: RunResult = 'result' in w ? (w.result as RunResult) : { impl, sizeBytes, nShards, run, ok: false, error: w.error };
        runs.push(r);
        console.log(
          r.ok
            ? `${r.seconds!.toFixed(3)} s (cpu ${r.cpuSeconds!.toFixed(3)} s), peak RSS ${(r.maxRssKiB! / 1024).toFixed(0)} MiB`
            : `FAILED: ${r.error?.split('\n')[0]}`,
        );
      }
    }
  }

  // Summary per (size, impl).
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
    wasmMemoryMiB?: number;
    blobId?: string;
    error?: string;
  }
  const summaries: Summary[] = [];
  for (const mib of sizesMiB) {
    const sizeBytes = Math.round(mib * MiB);
    for (const impl of impls) {
      const rs = runs.filter((r) => r.impl === impl && r.sizeBytes === sizeBytes);
      const good = rs.filter((r) => r.ok);
      if (good.length === 0) {
        summaries.push({ sizeMiB: mib, sizeBytes, impl, runs: rs.length, ok: false, error: rs.find((r) => r.error)?.error });
        continue;
      }
      const med = median(good.map((r) => r.seconds!));
      const wasm = good.map((r) => r.wasmMemoryBytes).filter((x): x is number => typeof x === 'number');
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
        wasmMemoryMiB: wasm.length ? Math.max(...wasm) / MiB : undefined,
        blobId: good[0].blobId,
        error: good.length < rs.length ? rs.find((r) => r.error)?.error : undefined,
      });
    }
  }
  const comparisons = sizesMiB.map((mib) => {
    const t = summaries.find((s) => s.sizeMiB === mib && s.impl === 'tusk' && s.ok);
    const o = summaries.find((s) => s.sizeMiB === mib && s.impl === 'official' && s.ok);
    return {
      sizeMiB: mib,
      officialOverTusk: t && o ? o.medianSeconds! / t.medianSeconds! : undefined,
      blobIdsMatch: t?.blobId && o?.blobId ? t.blobId === o.blobId : undefined,
    };
  });

  // Table.
  console.log(
    '\nMB/s uses MB = 10^6 bytes; sizes are MiB (2^20 bytes); time = median wall time of the runs\n(cpu s = median CPU time of the encode; much above the wall time = multi-threaded, far below = other load on the machine), RSS = max over the runs.',
  );
  const head = [
    pad('size MiB', 9, true),
    pad('impl', 9),
    pad('runs', 4, true),
    pad('median s', 10, true),
    pad('cpu s', 8, true),
    pad('MB/s', 8, true),
    pad('peak RSS MiB', 13, true),
    '  notes',
  ];
  console.log(head.join(' '));
  for (const s of summaries) {
    const note = !s.ok
      ? `FAILED: ${(s.error ?? '').split('\n')[0].slice(0, 100)}`
      : [s.wasmMemoryMiB !== undefined ? `wasm memory ${s.wasmMemoryMiB.toFixed(0)} MiB` : '', s.error ? 'some runs failed' : '']
          .filter(Boolean)
          .join('; ');
    console.log(
      [
        pad(String(s.sizeMiB), 9, true),
        pad(s.impl, 9),
        pad(String(s.runs), 4, true),
        pad(s.ok ? s.medianSeconds!.toFixed(3) : '-', 10, true),
        pad(s.ok ? s.medianCpuSeconds!.toFixed(3) : '-', 8, true),
        pad(s.ok ? s.mbPerSecond!.toFixed(2) : '-', 8, true),
        pad(s.ok ? s.peakRssMiB!.toFixed(0) : '-', 13, true),
        '  ' + note,
      ].join(' '),
    );
  }
  if (impls.length > 1) {
    console.log('\nsize MiB  official_time / tusk_time  blob ids match');
    for (const c of comparisons) {
      console.log(
        `${pad(String(c.sizeMiB), 8, true)}  ${pad(c.officialOverTusk !== undefined ? c.officialOverTusk.toFixed(2) + '×' : '-', 26, true)}  ${c.blobIdsMatch === undefined ? '-' : c.blobIdsMatch ? 'yes' : 'NO'}`,
      );
    }
  }

  // JSON.
  writeReport(argv, 'encode', {
    params: {
      nShards,
      sizesMiB,
      impls,
      runs: runsArg !== undefined ? Number(runsArg) : 'default (3 if ≤16 MiB else 1)',
      seed,
      warmup,
      data: 'xorshift32 words',
    },
    units: {
      seconds: 'median wall time of the encode call',
      cpuSeconds: 'user+system CPU time of the encode call',
      mbPerSecond: 'MB = 10^6 bytes',
      peakRssMiB: 'max over runs of process maxRSS, MiB',
    },
    summaries,
    comparisons,
    runs,
  });
}

const argv = process.argv.slice(2);
if (argv.includes('--worker')) await worker(argv);
else await parent(argv);
