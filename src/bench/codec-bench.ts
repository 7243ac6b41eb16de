/**
 * `tusk bench`: encode, blob-ID and decode throughput of this machine, with CPU time and peak RSS,
 * for people who benchmark codecs. Every measurement runs in a fresh child process
 * (codec-bench-worker.ts), so peak RSS is per measurement and one run cannot warm the next. Runs
 * alternate the implementations (Tusk, official, Tusk, …) so that a noisy neighbour hurts both
 * alike; the report gives medians. The official encoder's figures appear when
 * `@mysten/walrus-wasm` can be imported (an optional peer dependency: never required).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism, cpus } from 'node:os';
import type { EncodingName } from '../codec/encodings/index.ts';
import { EncodingConfig } from '../codec/config.ts';
import { TuskInputError } from '../errors.ts';
import { median } from './measure.ts';
import { RESULT_PREFIX, machineKernel, type WorkerResult, type WorkerSpec } from './codec-bench-worker.ts';

/** Options of {@link runCodecBench}. */
export interface CodecBenchOptions {
  /** Committee sizes (default [1000], the Walrus size). */
  readonly nShards?: readonly number[];
  /** Blob sizes in bytes (default 16 MiB: with the official encoder alongside, the default run stays under a minute on 2 cores). */
  readonly sizes?: readonly number[];
  /** Encodings (default ['rs2']). */
  readonly encodings?: readonly Lowercase<EncodingName>[];
  /** Tusk's worker threads for encode and blob ID (default [the machine's cores]; 1 = no pool). */
  readonly threads?: readonly number[];
  /** Runs per configuration (default 3; the report gives medians). */
  readonly runs?: number;
  /** Include the official encoder when it is installed (default true). */
  readonly official?: boolean;
  /** One line per finished measurement (progress). */
  readonly onProgress?: (line: string) => void;
  /** Give one child this long (default 600 s). */
  readonly timeoutMs?: number;
}

/** One row of the report: one implementation and operation at one configuration. */
export interface CodecBenchRow {
  readonly impl: 'tusk' | 'official';
  readonly op: 'encode' | 'blob-id' | 'decode';
  readonly encoding: Lowercase<EncodingName>;
  readonly nShards: number;
  readonly sizeBytes: number;
  /** Threads the operation ran on (decode and the official encoder: 1). */
  readonly threads: number;
  readonly runs: number;
  readonly medianSeconds: number;
  /** MB/s of blob bytes (MB = 10^6 bytes). */
  readonly mbPerSecond: number;
  readonly medianCpuSeconds: number;
  /** Largest peak RSS of the runs' child processes, MiB. */
  readonly peakRssMiB: number;
  /** official / Tusk median time at the same configuration (Tusk rows, when the official ran). */
  readonly speedupVsOfficial?: number;
}

/** What `tusk bench` reports. */
export interface CodecBenchReport {
  readonly date: string;
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  readonly kernelFlavor: string;
  readonly officialAvailable: boolean;
  readonly rows: CodecBenchRow[];
  readonly failures: { readonly spec: WorkerSpec; readonly error: string }[];
}

const WORKER = new URL('./codec-bench-worker.ts', import.meta.url);

/** True when `@mysten/walrus-wasm` resolves from this package. */
export function officialAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('@mysten/walrus-wasm');
    return true;
  } catch {
    return false;
  }
}

function runChild(spec: WorkerSpec, timeoutMs: number): Promise<WorkerResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WORKER.pathname, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (line) resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as WorkerResult);
      else
        resolve({
          spec,
          ok: false,
          error:
            signal === 'SIGKILL'
              ? `timed out after ${timeoutMs / 1000} s`
              : `exited with ${code ?? signal}: ${err.trim().split('\n').pop() ?? ''}`,
        });
    });
  });
}

function checkPositiveInts(name: string, xs: readonly number[]): void {
  for (const x of xs) if (!Number.isSafeInteger(x) || x < 1) throw new TuskInputError(`${name} must be positive integers, got ${x}`);
}

/**
 * Runs the benchmark grid and returns the report.
 * Pre: every committee size is valid for every encoding asked for (checked first, TuskInputError).
 */
export async function runCodecBench(options: CodecBenchOptions = {}): Promise<CodecBenchReport> {
  const nShards = options.nShards ?? [1000];
  const sizes = options.sizes ?? [16 << 20];
  const encodings = options.encodings ?? ['rs2'];
  const threads = options.threads ?? [availableParallelism()];
  const runs = options.runs ?? 3;
  checkPositiveInts('--n-shards', nShards);
  checkPositiveInts('--threads', threads);
  checkPositiveInts('--runs', [runs]);
  for (const s of sizes)
    if (!Number.isSafeInteger(s) || s < 0) throw new TuskInputError(`sizes must be non-negative integers of bytes, got ${s}`);
  for (const e of encodings)
    for (const n of nShards) {
      const cfg = new EncodingConfig(n, e); // throws TuskInputError for a committee the encoding cannot serve
      for (const s of sizes) cfg.symbolSize(s); // BlobTooLargeError before anything runs
    }
  const withOfficial = (options.official ?? true) && officialAvailable();
  const timeoutMs = options.timeoutMs ?? 600_000;

  const results: WorkerResult[] = [];
  for (const encoding of encodings)
    for (const n of nShards)
      for (const size of sizes) {
        for (let run = 0; run < runs; run++) {
          const specs: WorkerSpec[] = threads.map((t) => ({
            impl: 'tusk',
            encoding,
            nShards: n,
            sizeBytes: size,
            threads: t,
            seed: 1 + run,
          }));
          if (withOfficial && encoding === 'rs2')
            specs.push({ impl: 'official', encoding, nShards: n, sizeBytes: size, threads: 1, seed: 1 + run });
          // Alternate which side goes first from one run to the next.
          if (run % 2 === 1) specs.reverse();
          for (const spec of specs) {
            const r = await runChild(spec, timeoutMs);
            results.push(r);
            options.onProgress?.(
              `${spec.impl} ${spec.encoding} n=${spec.nShards} ${formatSize(spec.sizeBytes)} threads=${spec.threads} run ${run + 1}/${runs}: ${r.ok ? `encode ${r.encode!.seconds.toFixed(3)} s` : `failed: ${r.error}`}`,
            );
          }
        }
      }
  return summarise(results, withOfficial);
}

function summarise(results: WorkerResult[], withOfficial: boolean): CodecBenchReport {
  const groups = new Map<string, WorkerResult[]>();
  for (const r of results.filter((x) => x.ok)) {
    const k = JSON.stringify([r.spec.impl, r.spec.encoding, r.spec.nShards, r.spec.sizeBytes, r.spec.threads]);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const rows: CodecBenchRow[] = [];
  for (const rs of groups.values()) {
    const s = rs[0].spec;
    for (const op of ['encode', 'blob-id', 'decode'] as const) {
      const key = op === 'blob-id' ? 'blobId' : op;
      const secs = median(rs.map((r) => r[key]!.seconds));
      rows.push({
        impl: s.impl,
        op,
        encoding: s.encoding,
        nShards: s.nShards,
        sizeBytes: s.sizeBytes,
        threads: op === 'decode' ? 1 : s.threads,
        runs: rs.length,
        medianSeconds: secs,
        mbPerSecond: s.sizeBytes / 1e6 / secs,
        medianCpuSeconds: median(rs.map((r) => r[key]!.cpuSeconds)),
        peakRssMiB: Math.max(...rs.map((r) => r.peakRssBytes ?? 0)) / 2 ** 20,
      });
    }
  }
  const withRatios = rows.map((row) => {
    if (row.impl !== 'tusk') return row;
    const o = rows.find(
      (x) =>
        x.impl === 'official' &&
        x.op === row.op &&
        x.encoding === row.encoding &&
        x.nShards === row.nShards &&
        x.sizeBytes === row.sizeBytes,
    );
    return o ? { ...row, speedupVsOfficial: o.medianSeconds / row.medianSeconds } : row;
  });
  const { flavor, cores } = machineKernel();
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores,
    kernelFlavor: flavor,
    officialAvailable: withOfficial,
    rows: withRatios,
    failures: results.filter((r) => !r.ok).map((r) => ({ spec: r.spec, error: r.error ?? 'unknown' })),
  };
}

/** `1 MiB`, `16 MiB`, `512 KiB`, `100 B`. */
export function formatSize(bytes: number): string {
  if (bytes >= 1 << 30 && bytes % (1 << 30) === 0) return `${bytes / (1 << 30)} GiB`;
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1 << 10 && bytes % (1 << 10) === 0) return `${bytes / (1 << 10)} KiB`;
  return `${bytes} B`;
}

/** The report as a markdown table a person can paste into an issue. */
export function formatCodecBench(report: CodecBenchReport): string {
  const lines = [
    `tusk bench — ${report.cpu} × ${report.cores} cores, Node ${report.node}, kernels: ${report.kernelFlavor}` +
      (report.officialAvailable ? ', official: @mysten/walrus-wasm (1 thread)' : ', official: not installed'),
    '',
    '| impl | op | encoding | n_shards | size | threads | runs | median s | MB/s | CPU s | peak RSS MiB | vs official |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of report.rows) {
    lines.push(
      `| ${r.impl} | ${r.op} | ${r.encoding} | ${r.nShards} | ${formatSize(r.sizeBytes)} | ${r.threads} | ${r.runs} | ${r.medianSeconds.toFixed(3)} | ${r.mbPerSecond.toFixed(1)} | ${r.medianCpuSeconds.toFixed(2)} | ${r.peakRssMiB.toFixed(0)} | ${r.speedupVsOfficial ? r.speedupVsOfficial.toFixed(1) + '×' : ''} |`,
    );
  }
  for (const f of report.failures)
    lines.push(`failed: ${f.spec.impl} ${f.spec.encoding} n=${f.spec.nShards} ${formatSize(f.spec.sizeBytes)}: ${f.error}`);
  lines.push(
    '',
    'Tusk decode verifies every sliver against the metadata and checks the result; the official decoder does neither. Peak RSS is per child process (encode, blob ID and decode of one blob).',
  );
  return lines.join('\n');
}
