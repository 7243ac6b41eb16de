/**
 * Shared plumbing of the child-process benchmarks (bench/encode.ts, bench/decode.ts): CLI parsing,
 * deterministic xorshift32 data, the `--worker` child protocol (one `BENCH_RESULT {json}` line on
 * stdout), medians, table padding, machine description and the results-file location.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export const MiB = 1024 * 1024;
export const RESULT_TAG = 'BENCH_RESULT ';

/** `--name value` or `--name=value`; undefined if absent. */
export function argValue(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i >= 0) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(name + '='));
  return eq?.slice(name.length + 1);
}

/** xorshift32 state for `seed` (the first word of the stream is the state after one step). */
function xorshiftState(seed: number): number {
  return (seed * 0x9e3779b9) >>> 0 || 0x12345678;
}

/** Fills `words` with the xorshift32 stream continuing from state `x`; returns the new state. */
function fillXorshift(words: Uint32Array, x: number): number {
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  return x;
}

/** Deterministic pseudo-random bytes: xorshift32 words (fast enough for 1 GiB). */
export function makeData(sizeBytes: number, seed: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(sizeBytes / 4));
  fillXorshift(words, xorshiftState(seed));
  return new Uint8Array(words.buffer, 0, sizeBytes);
}

/**
 * Whether `bytes` equals `makeData(bytes.length, seed)`, regenerating the stream in 4 MiB chunks
 * (so checking a large decode result does not allocate a second copy of the blob).
 */
export function matchesData(bytes: Uint8Array, seed: number): boolean {
  const chunk = new Uint32Array(MiB);
  const chunkBytes = new Uint8Array(chunk.buffer);
  let x = xorshiftState(seed);
  for (let off = 0; off < bytes.length; off += chunkBytes.length) {
    x = fillXorshift(chunk, x);
    const len = Math.min(chunkBytes.length, bytes.length - off);
    if (Buffer.compare(chunkBytes.subarray(0, len), bytes.subarray(off, off + len)) !== 0) return false;
  }
  return true;
}

export function toBase64Url(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}

/** Worker side of the protocol: prints one result line for the parent. */
export function emitResult(r: unknown): void {
  process.stdout.write(RESULT_TAG + JSON.stringify(r) + '\n');
}

/**
 * Parent side of the protocol: runs `node --expose-gc script --worker ...args` in a fresh process
 * and returns its result line parsed, or why there was none (with the tail of its stderr).
 */
export function spawnWorker(script: string, args: string[], timeoutS: number): { result: unknown } | { error: string } {
  const child = spawnSync(process.execPath, ['--expose-gc', script, '--worker', ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
    timeout: timeoutS * 1000,
    env: process.env,
  });
  const line = child.stdout?.split('\n').find((l) => l.startsWith(RESULT_TAG));
  if (line) return { result: JSON.parse(line.slice(RESULT_TAG.length)) };
  const why = child.error ? String(child.error) : child.signal ? `killed by ${child.signal}` : `exit code ${child.status}`;
  return { error: `worker produced no result (${why}): ${(child.stderr ?? '').slice(-1500)}` };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function pad(s: string, w: number, right = false): string {
  return right ? s.padStart(w) : s.padEnd(w);
}

export function gitCommit(): string | undefined {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** `node v24…, <cpu model> × <cores>` for the banner line. */
export function machineLine(): string {
  return `node ${process.version}, ${cpus()[0]?.model ?? '?'} × ${cpus().length}`;
}

/** The machine fields of a results JSON (in this order, after `benchmark` and `date`). */
export function machineInfo() {
  return {
    gitCommit: gitCommit(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    totalMemMiB: Math.round(totalmem() / MiB),
    tuskWasm: process.env.TUSK_WASM,
  };
}

/** `--out` if given, else bench/results/<benchmark>-<ISO time to the second, ':' → '-'>.json (directory created). */
export function resultsPath(argv: string[], benchmark: string, now: Date): string {
  const outDir = new URL('./results/', import.meta.url);
  mkdirSync(outDir, { recursive: true });
  const stamp = now.toISOString().slice(0, 19).replace(/:/g, '-');
  return argValue(argv, '--out') ?? fileURLToPath(new URL(`${benchmark}-${stamp}.json`, outDir));
}

/**
 * Writes a benchmark's results JSON — `{ benchmark, date, ...machineInfo(), ...body }` — to
 * `--out` or bench/results/<benchmark>-<time>.json, and says where. @returns the path.
 */
export function writeReport(argv: string[], benchmark: string, body: Record<string, unknown>, now = new Date()): string {
  const path = resultsPath(argv, benchmark, now);
  writeFileSync(path, JSON.stringify({ benchmark, date: now.toISOString(), ...machineInfo(), ...body }, null, 2) + '\n');
  console.log(`\nresults written to ${path}`);
  return path;
}
