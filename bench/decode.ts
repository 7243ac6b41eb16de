/**
 * Decode benchmark: Tusk's `decodeBlob` vs the official Walrus decoder (`@mysten/walrus-wasm`, via
 * test/helpers/official.ts `officialDecode`), single thread, RS2, default n_shards = 1000.
 *
 *   npm run bench:decode -- [--sizes 16,64,256] [--n-shards 1000] [--runs N] [--impl tusk,official]
 *                           [--mode recovery,systematic] [--check default|strict|skip] [--seed 1]
 *                           [--no-warmup] [--timeout 1800] [--out file.json] [--clean-cache]
 *
 * Modes (k_p = n − 2f primary source symbols; 334 at n = 1000). Both decode from exactly k_p
 * PRIMARY slivers, passed in ascending index order:
 *   - `recovery`:   primary slivers [⌊k_p/2⌋, ⌊k_p/2⌋ + k_p) — at n = 1000 that is [167, 501): 167
 *                   systematic (167…333) and 167 recovery (334…500) slivers, so the Reed–Solomon
 *                   decoder really runs (half of the source slivers are missing).
 *   - `systematic`: primary slivers [0, k_p) — all source slivers present (the fast path).
 *
 * Inputs are prepared once per (n_shards, size, seed) in a child process (`--worker --prepare`):
 * it fills the blob with deterministic xorshift32 data (bench/harness.ts, the same data as
 * bench/encode.ts), encodes it with Tusk's `encodeBlob` (the official encoder's output is
 * byte-identical, which the test suite proves), and writes the BCS `BlobMetadataWithId` and the BCS
 * `SliverData` of every primary sliver either mode needs to .tusk-bench/decode/n<n>-b<bytes>-seed<s>/
 * (git-ignored; written to a temporary directory and renamed, so a half-written entry is never
 * used). Later runs reuse the entry; `--clean-cache` deletes .tusk-bench/decode/ after the run.
 *
 * Every measurement then runs in a FRESH child process (`--worker`) that reads only the metadata
 * and the chosen slivers from the cache (not timed), optionally warms the implementation up with a
 * 1 KiB encode + decode at n_shards = 4 in the same mode (default on), and times only the decode call
 * with performance.now():
 *   - tusk:     `decodeBlob(metadataWithId, slivers, { nShards, consistencyCheck })` — verifies the
 *               metadata, every input sliver against it, and runs the consistency check (`--check`,
 *               default `default`: re-expands and checks every reconstructed source sliver;
 *               `strict` re-encodes the blob; `skip` none);
 *   - official: `officialDecode(primarySliversBcs, unencodedLength, nShards, blobId)` — NO
 *               verification against metadata and no consistency check (`--check` does not apply).
 * Peak RSS (`process.resourceUsage().maxRSS`) is read right after the decode, before the output is
 * compared with the input (regenerated in 4 MiB chunks; the comparison is not timed) — the `ok`
 * column. The parent prints a table (median seconds, MB/s with MB = 10^6 bytes of DECODED blob,
 * peak RSS in MiB, official_time / tusk_time per size and mode) and writes everything to
 * bench/results/decode-<date>.json. Sizes are MiB (2^20 bytes); `--runs` defaults to 3 for sizes
 * ≤ 16 MiB and 1 above (median reported). A failing decoder is recorded as an error, not a crash.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  MiB,
  argValue,
  emitResult,
  gitCommit,
  machineLine,
  makeData,
  matchesData,
  median,
  pad,
  spawnWorker,
  writeReport,
} from './harness.ts';

type Impl = 'tusk' | 'official';
type Mode = 'recovery' | 'systematic';
type Check = 'default' | 'strict' | 'skip';
const IMPLS: readonly Impl[] = ['tusk', 'official'];
const MODES: readonly Mode[] = ['recovery', 'systematic'];
const CHECKS: readonly Check[] = ['default', 'strict', 'skip'];
/** Bump when the cache layout changes (old entries are then ignored and regenerated). */
const CACHE_FORMAT = 1;
const CACHE_ROOT = fileURLToPath(new URL('../.tusk-bench/decode/', import.meta.url));

interface RunResult {
  impl: Impl;
  mode: Mode;
  sizeBytes: number;
  nShards: number;
  run: number;
  /** The decode call returned (no exception). */
  ok: boolean;
  /** The decoded bytes equal the input blob. */
  match?: boolean;
  seconds?: number;
  /** CPU time (user + system) the process spent during the decode call, seconds. */
  cpuSeconds?: number;
  /** Peak resident set size of the child process right after the decode, KiB (process.resourceUsage().maxRSS). */
  maxRssKiB?: number;
  /** Resident set size just before the decode (inputs loaded, implementation warmed up), KiB. */
  rssBeforeKiB?: number;
  /** Size of the official decoder's WebAssembly memory after the decode, bytes (official only). */
  wasmMemoryBytes?: number;
  /** Total BCS bytes of the slivers handed to the decoder. */
  inputBytes?: number;
  error?: string;
}

interface PrepareResult {
  ok: boolean;
  seconds?: number;
  maxRssKiB?: number;
  blobId?: string;
  bytesWritten?: number;
  error?: string;
}

interface Manifest {
  format: number;
  nShards: number;
  sizeBytes: number;
  seed: number;
  data: string;
  unencodedLength: number;
  blobId: string;
  symbolSize: number;
  /** Primary sliver indices stored as primary-<index>.bcs. */
  primaryIndices: number[];
  encoder: string;
  createdAt: string;
}

/** k_p = n − 2f primary source symbols, f = ⌊(n − 1)/3⌋ (spec §1.1). */
function primarySourceSymbols(nShards: number): number {
  return nShards - 2 * Math.floor((nShards - 1) / 3);
}

/** The primary sliver indices a mode decodes from (ascending), see the header comment. */
function selectIndices(mode: Mode, nShards: number): number[] {
  const kP = primarySourceSymbols(nShards);
  const start = mode === 'recovery' ? Math.floor(kP / 2) : 0;
  return Array.from({ length: kP }, (_, i) => start + i);
}

function describeSelection(mode: Mode, nShards: number): string {
  const kP = primarySourceSymbols(nShards);
  const idx = selectIndices(mode, nShards);
  const lo = idx[0],
    hi = idx[idx.length - 1] + 1;
  const rec = idx.filter((i) => i >= kP).length;
  return `primary [${lo}, ${hi}): ${kP - rec} systematic + ${rec} recovery of k_p = ${kP}`;
}

function cacheDir(nShards: number, sizeBytes: number, seed: number): string {
  return join(CACHE_ROOT, `n${nShards}-b${sizeBytes}-seed${seed}`);
}

const sliverFile = (dir: string, index: number) => join(dir, `primary-${String(index).padStart(5, '0')}.bcs`);

/** The cache entry's manifest if it exists and holds what is needed, else undefined. */
function readManifest(dir: string, nShards: number, sizeBytes: number, seed: number): Manifest | undefined {
  try {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    const needed = new Set([...selectIndices('recovery', nShards), ...selectIndices('systematic', nShards)]);
    const have = new Set(m.primaryIndices);
    if (m.format !== CACHE_FORMAT || m.nShards !== nShards || m.sizeBytes !== sizeBytes || m.seed !== seed) return undefined;
    for (const i of needed) if (!have.has(i)) return undefined;
    return m;
  } catch {
    return undefined;
  }
}

function readBytes(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

// ---------------------------------------------------------------------------------------------
// Worker modes: prepare one cache entry, or take one measurement. One JSON line each.
// ---------------------------------------------------------------------------------------------

async function prepareWorker(argv: string[]): Promise<void> {
  const sizeBytes = Number(argValue(argv, '--size-bytes'));
  const nShards = Number(argValue(argv, '--n-shards'));
  const seed = Number(argValue(argv, '--seed') ?? 1);
  const dir = cacheDir(nShards, sizeBytes, seed);
  const tmp = `${dir}.tmp-${process.pid}`;
  try {
    const { encodeBlob } = await import('../src/index.ts');
    const t0 = performance.now();
    const blob = encodeBlob(makeData(sizeBytes, seed), { nShards });
    const seconds = (performance.now() - t0) / 1000;
    const indices = [...new Set([...selectIndices('recovery', nShards), ...selectIndices('systematic', nShards)])].sort((a, b) => a - b);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    let bytesWritten = 0;
    const meta = blob.metadataWithId.toBcs();
    writeFileSync(join(tmp, 'metadata.bcs'), meta);
    bytesWritten += meta.length;
    for (const i of indices) {
      const s = blob.primarySlivers[i];
      if (s.index !== i || s.axis !== 'primary') throw new Error(`primarySlivers[${i}] is ${s.axis} sliver ${s.index}`);
      const bcs = s.toBcs();
      writeFileSync(sliverFile(tmp, i), bcs);
      bytesWritten += bcs.length;
    }
    const manifest: Manifest = {
      format: CACHE_FORMAT,
      nShards,
      sizeBytes,
      seed,
      data: 'xorshift32 words (bench/harness.ts makeData)',
      unencodedLength: blob.metadataWithId.metadata.unencodedLength,
      blobId: blob.blobIdString,
      symbolSize: blob.primarySlivers[0].symbolSize,
      primaryIndices: indices,
      encoder: `tusk encodeBlob @ ${gitCommit() ?? '?'}`,
      createdAt: new Date().toISOString(),
    };
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    emitResult({
      ok: true,
      seconds,
      maxRssKiB: process.resourceUsage().maxRSS,
      blobId: blob.blobIdString,
      bytesWritten,
    } satisfies PrepareResult);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    emitResult({
      ok: false,
      maxRssKiB: process.resourceUsage().maxRSS,
      error: String((e as Error)?.stack ?? e).slice(0, 2000),
    } satisfies PrepareResult);
  }
}

async function measureWorker(argv: string[]): Promise<void> {
  const impl = argValue(argv, '--impl') as Impl;
  const mode = argValue(argv, '--mode') as Mode;
  const check = (argValue(argv, '--check') ?? 'default') as Check;
  const sizeBytes = Number(argValue(argv, '--size-bytes'));
  const nShards = Number(argValue(argv, '--n-shards'));
  const seed = Number(argValue(argv, '--seed') ?? 1);
  const run = Number(argValue(argv, '--run') ?? 0);
  const warmup = !argv.includes('--no-warmup');
  const base: RunResult = { impl, mode, sizeBytes, nShards, run, ok: false };

  try {
    if (!MODES.includes(mode)) throw new Error(`unknown --mode ${String(mode)}`);
    const dir = cacheDir(nShards, sizeBytes, seed);
    const manifest = readManifest(dir, nShards, sizeBytes, seed);
    if (!manifest) throw new Error(`no usable cache entry in ${dir}`);
    const indices = selectIndices(mode, nShards);
    const metaBcs = readBytes(join(dir, 'metadata.bcs'));
    const sliverBcs = indices.map((i) => readBytes(sliverFile(dir, i)));
    const inputBytes = sliverBcs.reduce((a, b) => a + b.length, 0);

    let decode: () => Uint8Array;
    let wasmMemory: (() => number) | undefined;
    if (impl === 'tusk') {
      const { decodeBlob, encodeBlob } = await import('../src/index.ts');
      const { BlobMetadataWithId, SliverData } = await import('../src/api/codec.ts');
      if (warmup) {
        const w = encodeBlob(makeData(1024, 99), { nShards: 4 });
        const out = decodeBlob(
          w.metadataWithId,
          selectIndices(mode, 4).map((i) => w.primarySlivers[i]),
          { nShards: 4, consistencyCheck: check },
        );
        if (!matchesData(out, 99)) throw new Error('warm-up decode returned wrong bytes');
      }
      const metadata = BlobMetadataWithId.fromBcs(metaBcs);
      const slivers = sliverBcs.map((b) => SliverData.fromBcs('primary', b));
      decode = () => decodeBlob(metadata, slivers, { nShards, consistencyCheck: check });
    } else if (impl === 'official') {
      const { officialDecode, officialEncode } = await import('../test/helpers/official.ts');
      // The wasm-bindgen glue exposes the instance exports (untyped) as `__wasm`.
      const pkg = (await import('@mysten/walrus-wasm')) as unknown as { __wasm?: { memory?: { buffer: ArrayBuffer } } };
      wasmMemory = () => pkg.__wasm?.memory?.buffer.byteLength ?? NaN;
      if (warmup) {
        const w = officialEncode(makeData(1024, 99), 4);
        const out = officialDecode(
          selectIndices(mode, 4).map((i) => w.primary[i]),
          1024,
          4,
          w.blobId,
        );
        if (!matchesData(out, 99)) throw new Error('warm-up decode returned wrong bytes');
      }
      const blobId = metaBcs.slice(0, 32);
      decode = () => officialDecode(sliverBcs, manifest.unencodedLength, nShards, blobId);
    } else {
      throw new Error(`unknown --impl ${String(impl)}`);
    }

    (globalThis as { gc?: () => void }).gc?.();
    const rssBeforeKiB = Math.round(process.memoryUsage().rss / 1024);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = decode();
    const t1 = performance.now();
    const c1 = process.cpuUsage(c0);
    const maxRssKiB = process.resourceUsage().maxRSS;
    const wasmMemoryBytes = wasmMemory?.();
    const match = out.length === sizeBytes && matchesData(out, seed);
    emitResult({
      ...base,
      ok: true,
      match,
      seconds: (t1 - t0) / 1000,
      cpuSeconds: (c1.user + c1.system) / 1e6,
      maxRssKiB,
      rssBeforeKiB,
      wasmMemoryBytes,
      inputBytes,
    } satisfies RunResult);
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
// Parent mode: prepare the cache, spawn the workers, summarise, print, save.
// ---------------------------------------------------------------------------------------------

async function parent(argv: string[]): Promise<void> {
  const nShards = Number(argValue(argv, '--n-shards') ?? 1000);
  const sizesMiB = (argValue(argv, '--sizes') ?? '16,64,256').split(',').map(Number);
  const impls = (argValue(argv, '--impl') ?? 'tusk,official').split(',') as Impl[];
  const modes = (argValue(argv, '--mode') ?? 'recovery,systematic').split(',') as Mode[];
  const check = (argValue(argv, '--check') ?? 'default') as Check;
  const runsArg = argValue(argv, '--runs');
  const seed = Number(argValue(argv, '--seed') ?? 1);
  const timeoutS = Number(argValue(argv, '--timeout') ?? 1800);
  const warmup = !argv.includes('--no-warmup');
  const cleanCache = argv.includes('--clean-cache');
  for (const i of impls) if (!IMPLS.includes(i)) throw new Error(`--impl: unknown implementation "${i}"`);
  for (const m of modes) if (!MODES.includes(m)) throw new Error(`--mode: unknown mode "${m}"`);
  if (!CHECKS.includes(check)) throw new Error(`--check: unknown consistency check "${check}"`);
  for (const s of sizesMiB) if (!(s >= 0)) throw new Error(`--sizes: bad size "${s}"`);
  if (!Number.isInteger(nShards) || nShards < 4) throw new Error('--n-shards must be an integer ≥ 4');

  const script = fileURLToPath(import.meta.url);
  const runs: RunResult[] = [];
  const selections = Object.fromEntries(modes.map((m) => [m, describeSelection(m, nShards)]));
  console.log(
    `decode benchmark: n_shards=${nShards}, sizes=${sizesMiB.join(',')} MiB, impl=${impls.join(',')}, mode=${modes.join(',')}, ` +
      `tusk check=${check}, warm-up=${warmup ? 'on' : 'off'}, ${machineLine()}`,
  );
  for (const m of modes) console.log(`  ${m}: ${selections[m]}`);

  const prepared: Record<string, PrepareResult & { cached: boolean; dir: string }> = {};
  for (const mib of sizesMiB) {
    const sizeBytes = Math.round(mib * MiB);
    const nRuns = runsArg !== undefined ? Number(runsArg) : mib <= 16 ? 3 : 1;

    // Cache entry for this size (encode once, reused across runs, impls and invocations).
    const dir = cacheDir(nShards, sizeBytes, seed);
    let prep: PrepareResult & { cached: boolean; dir: string };
    if (readManifest(dir, nShards, sizeBytes, seed)) {
      prep = { ok: true, cached: true, dir };
      console.log(`  ${mib} MiB: using cached encoding in ${dir}`);
    } else {
      process.stdout.write(`  ${mib} MiB: encoding with tusk into ${dir} … `);
      const w = spawnWorker(
        script,
        ['--prepare', '--size-bytes', String(sizeBytes), '--n-shards', String(nShards), '--seed', String(seed)],
        timeoutS,
      );
      prep = { ...('result' in w ? (w.result as PrepareResult) : { ok: false, error: w.error }), cached: false, dir };
      console.log(
        prep.ok
          ? `${prep.seconds!.toFixed(3)} s, peak RSS ${(prep.maxRssKiB! / 1024).toFixed(0)} MiB, ${(prep.bytesWritten! / MiB).toFixed(0)} MiB written`
          : `FAILED: ${prep.error?.split('\n')[0]}`,
      );
    }
    prepared[String(mib)] = prep;

    for (const mode of modes) {
      for (const impl of impls) {
        for (let run = 0; run < nRuns; run++) {
          process.stdout.write(`  ${mib} MiB ${mode} ${impl} run ${run + 1}/${nRuns} … `);
          let r: RunResult;
          if (!prep.ok) {
            r = { impl, mode, sizeBytes, nShards, run, ok: false, error: `preparing the input failed: ${prep.error}` };
          } else {
            const args = [
              '--impl',
              impl,
              '--mode',
              mode,
              '--check',
              check,
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
            r = 'result' in w ? (w.result as RunResult) : { impl, mode, sizeBytes, nShards, run, ok: false, error: w.error };
          }
          runs.push(r);
          console.log(
            r.ok
              ? `${r.seconds!.toFixed(3)} s (cpu ${r.cpuSeconds!.toFixed(3)} s), peak RSS ${(r.maxRssKiB! / 1024).toFixed(0)} MiB, output ${r.match ? 'ok' : 'WRONG'}`
              : `FAILED: ${r.error?.split('\n')[0]}`,
          );
        }
      }
    }
  }

  // Summary per (size, mode, impl).
  interface Summary {
    sizeMiB: number;
    sizeBytes: number;
    mode: Mode;
    impl: Impl;
    runs: number;
    /** Every successful run decoded the input exactly. */
    ok: boolean;
    medianSeconds?: number;
    medianCpuSeconds?: number;
    mbPerSecond?: number;
    peakRssMiB?: number;
    rssBeforeMiB?: number;
    wasmMemoryMiB?: number;
    inputMiB?: number;
    error?: string;
  }
  const summaries: Summary[] = [];
  for (const mib of sizesMiB) {
    const sizeBytes = Math.round(mib * MiB);
    for (const mode of modes) {
      for (const impl of impls) {
        const rs = runs.filter((r) => r.impl === impl && r.mode === mode && r.sizeBytes === sizeBytes);
        const good = rs.filter((r) => r.ok);
        if (good.length === 0) {
          summaries.push({ sizeMiB: mib, sizeBytes, mode, impl, runs: rs.length, ok: false, error: rs.find((r) => r.error)?.error });
          continue;
        }
        const med = median(good.map((r) => r.seconds!));
        const wasm = good.map((r) => r.wasmMemoryBytes).filter((x): x is number => typeof x === 'number');
        summaries.push({
          sizeMiB: mib,
          sizeBytes,
          mode,
          impl,
          runs: good.length,
          ok: good.every((r) => r.match === true),
          medianSeconds: med,
          medianCpuSeconds: median(good.map((r) => r.cpuSeconds!)),
          mbPerSecond: sizeBytes / 1e6 / med,
          peakRssMiB: Math.max(...good.map((r) => r.maxRssKiB!)) / 1024,
          rssBeforeMiB: Math.max(...good.map((r) => r.rssBeforeKiB!)) / 1024,
          wasmMemoryMiB: wasm.length ? Math.max(...wasm) / MiB : undefined,
          inputMiB: good[0].inputBytes! / MiB,
          error: good.length < rs.length ? rs.find((r) => r.error)?.error : undefined,
        });
      }
    }
  }
  const comparisons = sizesMiB.flatMap((mib) =>
    modes.map((mode) => {
      const t = summaries.find((s) => s.sizeMiB === mib && s.mode === mode && s.impl === 'tusk' && s.medianSeconds !== undefined);
      const o = summaries.find((s) => s.sizeMiB === mib && s.mode === mode && s.impl === 'official' && s.medianSeconds !== undefined);
      return {
        sizeMiB: mib,
        mode,
        officialOverTusk: t && o ? o.medianSeconds! / t.medianSeconds! : undefined,
        bothOk: t && o ? t.ok && o.ok : undefined,
      };
    }),
  );

  // Table.
  console.log(
    '\nMB/s uses MB = 10^6 bytes of decoded blob; sizes are MiB (2^20 bytes); time = median wall time of the decode call' +
      '\n(cpu s = median CPU time of the decode), peak RSS = max over the runs of the measuring process (inputs read from' +
      '\nthe cache, the encode ran in another process), RSS before = resident set just before the decode; ok = output == input.',
  );
  const head = [
    pad('size MiB', 9, true),
    pad('mode', 10),
    pad('impl', 9),
    pad('runs', 4, true),
    pad('median s', 10, true),
    pad('cpu s', 8, true),
    pad('MB/s', 8, true),
    pad('peak RSS MiB', 13, true),
    pad('RSS before', 11, true),
    pad('ok', 3),
    '  notes',
  ];
  console.log(head.join(' '));
  for (const s of summaries) {
    const done = s.medianSeconds !== undefined;
    const note = !done
      ? `FAILED: ${(s.error ?? '').split('\n')[0].slice(0, 100)}`
      : [
          s.impl === 'tusk' ? `verifies metadata + all ${primarySourceSymbols(nShards)} slivers, check=${check}` : 'no verification',
          s.wasmMemoryMiB !== undefined ? `wasm memory ${s.wasmMemoryMiB.toFixed(0)} MiB` : '',
          s.error ? 'some runs failed' : '',
        ]
          .filter(Boolean)
          .join('; ');
    console.log(
      [
        pad(String(s.sizeMiB), 9, true),
        pad(s.mode, 10),
        pad(s.impl, 9),
        pad(String(s.runs), 4, true),
        pad(done ? s.medianSeconds!.toFixed(3) : '-', 10, true),
        pad(done ? s.medianCpuSeconds!.toFixed(3) : '-', 8, true),
        pad(done ? s.mbPerSecond!.toFixed(2) : '-', 8, true),
        pad(done ? s.peakRssMiB!.toFixed(0) : '-', 13, true),
        pad(done ? s.rssBeforeMiB!.toFixed(0) : '-', 11, true),
        pad(done ? (s.ok ? 'yes' : 'NO') : '-', 3),
        '  ' + note,
      ].join(' '),
    );
  }
  console.log(
    `\nnotes: recovery = ${describeSelection('recovery', nShards)}; systematic = ${describeSelection('systematic', nShards)}.` +
      '\n  The official decoder (@mysten/walrus-wasm) does NO verification against the metadata and no consistency check;' +
      `\n  Tusk verifies the metadata against the blob id, every input sliver against the metadata, and runs the '${check}'` +
      '\n  consistency check (default: re-expands and checks every reconstructed source sliver; none are reconstructed in systematic mode).',
  );
  if (impls.length > 1) {
    console.log('\nsize MiB  mode        official_time / tusk_time  both ok');
    for (const c of comparisons) {
      console.log(
        `${pad(String(c.sizeMiB), 8, true)}  ${pad(c.mode, 10)}  ${pad(c.officialOverTusk !== undefined ? c.officialOverTusk.toFixed(2) + '×' : '-', 26, true)}  ${c.bothOk === undefined ? '-' : c.bothOk ? 'yes' : 'NO'}`,
      );
    }
  }

  // JSON.
  writeReport(argv, 'decode', {
    params: {
      nShards,
      sizesMiB,
      impls,
      modes,
      tuskConsistencyCheck: check,
      runs: runsArg !== undefined ? Number(runsArg) : 'default (3 if ≤16 MiB else 1)',
      seed,
      warmup,
      data: 'xorshift32 words',
      slivers: selections,
      input: 'encoded once with tusk encodeBlob (byte-identical to the official encoder), cached under .tusk-bench/decode/',
      verification: { tusk: `metadata + every input sliver + consistency check '${check}'`, official: 'none' },
    },
    units: {
      seconds: 'median wall time of the decode call',
      cpuSeconds: 'user+system CPU time of the decode call',
      mbPerSecond: 'MB = 10^6 bytes of decoded blob',
      peakRssMiB: 'max over runs of the measuring process maxRSS right after the decode, MiB',
      rssBeforeMiB: 'max over runs of the RSS just before the decode, MiB',
    },
    prepared,
    summaries,
    comparisons,
    runs,
  });

  if (cleanCache && existsSync(CACHE_ROOT)) {
    rmSync(CACHE_ROOT, { recursive: true, force: true });
    console.log(`cache ${CACHE_ROOT} deleted (--clean-cache)`);
  }
}

const argv = process.argv.slice(2);
if (argv.includes('--worker')) await (argv.includes('--prepare') ? prepareWorker(argv) : measureWorker(argv));
else await parent(argv);
