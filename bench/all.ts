/**
 * `npm run bench:all`: every codec workload of issue 19 as WHOLE COMMANDS (a fresh process each,
 * start-up included), Tusk against the official `@mysten/walrus-wasm` in the same process tree,
 * runs alternating the two sides, and one report: bench/results/all-<time>.json and .md.
 *
 *   npm run bench:all -- [--runs 3] [--n-shards 1000] [--stream-mib 256] [--only id,id]
 *                        [--baseline <dir of another Tusk checkout>] [--out-dir bench/results]
 *
 * Workloads (n_shards = 1000 by default; data: deterministic xorshift32, bench/harness.ts):
 *   blob-id-1m      `tusk blob-id` of 1 MiB       vs bench/official-cli.ts blob-id (compute_metadata)
 *   blob-id-256m    `tusk blob-id` of 256 MiB     vs the same
 *   decode-256m     `tusk decode` of a sliver directory holding 334 random primary slivers only
 *                   (seeded) vs bench/official-cli.ts decode of the same files; the issue's ratio
 *                   is official DECODE CALL ONLY / Tusk whole command (both are reported)
 *   encode-dir      `tusk encode` of --stream-mib MiB into a sliver directory: MB/s and bytes
 *                   written to storage per blob byte (Tusk only; the official encoder has no
 *                   streaming encoder)
 *
 * Each run is timed with GNU time (`/usr/bin/time`): wall, user + system CPU of the whole process
 * (all threads), peak RSS, file-system output blocks. The order within a run alternates (run 0:
 * official first, run 1: Tusk first, …) so drift in machine load hits both sides. `--runs` is at
 * least 3; medians are reported, ratios are official median / Tusk median. The load average
 * (os.loadavg) before and after is recorded: this machine is shared, wall-clock is noisy, CPU time
 * less so. Outputs are checked: blob IDs must agree, decoded files must equal the input.
 * `--baseline <dir>` times a second Tusk checkout (its bin/tusk.js, its own node_modules and
 * build/) as a third side, in the same rotation: before/after figures from one run.
 * The README's performance table is generated from the JSON by scripts/gen-perf-table.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MiB, argValue, machineInfo, makeData, matchesData, median } from './harness.ts';
import { renderAllReport, type AllReport, type SideSummary, type WorkloadSummary } from './all-report.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE = join(ROOT, '.tusk-bench', 'all');
const GNU_TIME = '/usr/bin/time';

type Side = 'official' | 'tusk' | 'baseline';

interface Measurement {
  side: Side;
  run: number;
  ok: boolean;
  error?: string;
  wallSeconds?: number;
  cpuSeconds?: number;
  peakRssMiB?: number;
  writtenBytes?: number;
  /** official-cli.ts: the encoder/decoder call alone. */
  callSeconds?: number;
  callCpuSeconds?: number;
  output?: string;
}

interface Workload {
  id: string;
  title: string;
  bytes: number;
  sides: Partial<Record<Side, { argv: string[]; cwd: string }>>;
  /** Checks a run's result (stdout or output file); returns why it is wrong, or null. */
  check(side: Side, m: Measurement): string | null;
  before?(): void;
}

/** Runs `argv` under GNU time; returns its measurements (and stdout, stderr). */
function measure(side: Side, run: number, argv: string[], cwd: string): Measurement {
  const timeFile = join(CACHE, `time-${process.pid}.txt`);
  const child = spawnSync(GNU_TIME, ['-f', '%e %U %S %M %O', '-o', timeFile, ...argv], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
    env: { ...process.env, TUSK_DEBUG: undefined, VITEST: undefined },
  });
  const m: Measurement = { side, run, ok: child.status === 0 };
  try {
    const [wall, user, sys, rssKiB, outBlocks] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    Object.assign(m, { wallSeconds: wall, cpuSeconds: user + sys, peakRssMiB: rssKiB / 1024, writtenBytes: outBlocks * 512 });
  } catch {
    // no timing: reported as an error below
  }
  const call = /BENCH_CALL (\{.*\})/.exec(child.stderr ?? '');
  if (call) {
    const c = JSON.parse(call[1]) as { seconds: number; cpuSeconds: number };
    m.callSeconds = c.seconds;
    m.callCpuSeconds = c.cpuSeconds;
  }
  m.output = (child.stdout ?? '').trim();
  if (!m.ok) m.error = `exit ${child.status ?? child.signal}: ${(child.stderr ?? '').slice(-600)}`;
  return m;
}

/** Deterministic Fisher–Yates sample of `count` of 0…n−1 (xorshift32, `seed`). */
function sample(n: number, count: number, seed: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  let x = (seed * 0x9e3779b9) >>> 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, count).sort((p, q) => p - q);
}

function dataFile(mib: number): string {
  const path = join(CACHE, `data-${mib}m.bin`);
  if (!existsSync(path) || statSync(path).size !== mib * MiB) writeFileSync(path, makeData(mib * MiB, 1));
  return path;
}

/** A sliver directory of the 256 MiB blob holding only k_p random primary slivers (cached). */
function decodeDir(nShards: number, mib: number, tuskBin: string): string {
  const dir = join(CACHE, `decode-n${nShards}-${mib}m`);
  if (existsSync(join(dir, 'ready'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  const r = spawnSync(process.execPath, [tuskBin, 'encode', dataFile(mib), '--out', dir, '--n-shards', String(nShards), '--json'], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`preparing ${dir}: ${r.stderr}`);
  const f = Math.floor((nShards - 1) / 3);
  const kP = nShards - 2 * f;
  const keep = new Set(sample(nShards, kP, 7));
  for (const name of readdirSync(join(dir, 'primary'))) if (!keep.has(Number(name.split('.')[0]))) rmSync(join(dir, 'primary', name));
  rmSync(join(dir, 'secondary'), { recursive: true, force: true });
  writeFileSync(join(dir, 'ready'), `${kP} random primary slivers (seed 7)\n`);
  return dir;
}

function summarize(ms: Measurement[]): SideSummary | undefined {
  const ok = ms.filter((m) => m.ok && m.wallSeconds !== undefined);
  if (ok.length === 0) return undefined;
  const med = (f: (m: Measurement) => number | undefined) => {
    const xs = ok.map(f).filter((x): x is number => x !== undefined);
    return xs.length ? median(xs) : undefined;
  };
  return {
    runs: ok.length,
    failed: ms.length - ok.length,
    wallSeconds: med((m) => m.wallSeconds)!,
    cpuSeconds: med((m) => m.cpuSeconds)!,
    peakRssMiB: med((m) => m.peakRssMiB)!,
    writtenBytes: med((m) => m.writtenBytes),
    callSeconds: med((m) => m.callSeconds),
    callCpuSeconds: med((m) => m.callCpuSeconds),
    wallAll: ok.map((m) => m.wallSeconds!),
    cpuAll: ok.map((m) => m.cpuSeconds!),
  };
}

async function main(argv: string[]): Promise<void> {
  const runs = Math.max(3, Number(argValue(argv, '--runs') ?? 3));
  const nShards = Number(argValue(argv, '--n-shards') ?? 1000);
  const streamMiB = Number(argValue(argv, '--stream-mib') ?? 256);
  const only = argValue(argv, '--only')?.split(',');
  const baselineDir = argValue(argv, '--baseline');
  const outDir = resolve(argValue(argv, '--out-dir') ?? join(ROOT, 'bench', 'results'));
  if (!existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} (GNU time) is needed to measure whole processes: apt-get install time`);
  mkdirSync(CACHE, { recursive: true });
  mkdirSync(outDir, { recursive: true });
  const node = process.execPath;
  const tuskBin = join(ROOT, 'bin', 'tusk.js');
  const officialCli = join(ROOT, 'bench', 'official-cli.ts');
  const tusk = (args: string[]) => ({ argv: [node, tuskBin, ...args], cwd: ROOT });
  const baseline = baselineDir
    ? (args: string[]) => ({ argv: [node, join(resolve(baselineDir), 'bin', 'tusk.js'), ...args], cwd: resolve(baselineDir) })
    : undefined;
  const official = (args: string[]) => ({ argv: [node, officialCli, ...args], cwd: ROOT });
  const ns = String(nShards);

  const loadBefore = loadavg();
  console.log(`bench:all — n_shards=${nShards}, ${runs} runs alternating, load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')}`);
  const workloads: Workload[] = [];
  const blobIdOf = (m: Measurement) => m.output?.split('\n').pop();
  const idCheck = (expected: () => string | undefined) => (side: Side, m: Measurement) => {
    const want = expected();
    return want !== undefined && blobIdOf(m) !== want ? `${side} printed blob ID ${blobIdOf(m)}, expected ${want}` : null;
  };
  let refIds: Record<string, string | undefined> = {};
  for (const mib of [1, 256]) {
    const id = `blob-id-${mib}m`;
    if (only && !only.includes(id)) continue;
    const file = dataFile(mib);
    workloads.push({
      id,
      title: `blob-id ${mib} MiB (whole process)`,
      bytes: mib * MiB,
      sides: {
        official: official(['blob-id', file, ns]),
        tusk: tusk(['blob-id', file, '--n-shards', ns]),
        ...(baseline ? { baseline: baseline(['blob-id', file, '--n-shards', ns]) } : {}),
      },
      check: idCheck(() => refIds[id]),
    });
  }
  if (!only || only.includes('decode-256m')) {
    const dir = decodeDir(nShards, 256, tuskBin);
    const out = (side: Side) => join(CACHE, `decoded-${side}.bin`);
    workloads.push({
      id: 'decode-256m',
      title: 'decode 256 MiB from 334 random primaries',
      bytes: 256 * MiB,
      sides: {
        official: official(['decode', dir, out('official'), ns]),
        tusk: tusk(['decode', dir, '--out', out('tusk'), '--force']),
        ...(baseline ? { baseline: baseline(['decode', dir, '--out', out('baseline'), '--force']) } : {}),
      },
      check: (side) => {
        const bytes = new Uint8Array(readFileSync(out(side)));
        const good = bytes.length === 256 * MiB && matchesData(bytes, 1);
        rmSync(out(side), { force: true });
        return good ? null : `${side} decoded bytes differ from the input`;
      },
    });
  }
  if (streamMiB > 0 && (!only || only.includes('encode-dir'))) {
    const file = dataFile(streamMiB);
    const out = (side: Side) => join(CACHE, `encoded-${side}`);
    workloads.push({
      id: 'encode-dir',
      title: `streaming encode to a sliver directory, ${streamMiB} MiB`,
      bytes: streamMiB * MiB,
      sides: {
        tusk: tusk(['encode', file, '--out', out('tusk'), '--n-shards', ns, '--force', '--json']),
        ...(baseline ? { baseline: baseline(['encode', file, '--out', out('baseline'), '--n-shards', ns, '--force', '--json']) } : {}),
      },
      check: (side, m) => {
        rmSync(out(side), { recursive: true, force: true });
        const id = (JSON.parse(m.output ?? '{}') as { blobId?: string }).blobId;
        return id ? null : `${side} printed no blob ID`;
      },
    });
  }

  const results: Record<string, Measurement[]> = {};
  const started = new Date();
  const writeReportFiles = (runsDone: number) => {
    const loadAfter = loadavg();
    const summaries: WorkloadSummary[] = workloads.map((w) => {
      const bySide = (side: Side) => summarize((results[w.id] ?? []).filter((m) => m.side === side));
      return { id: w.id, title: w.title, bytes: w.bytes, official: bySide('official'), tusk: bySide('tusk'), baseline: bySide('baseline') };
    });
    const now = new Date();
    const report: AllReport = {
      benchmark: 'all',
      date: now.toISOString(),
      ...machineInfo(),
      nShards,
      runs: runsDone,
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadAfter,
      baseline: baselineDir ? resolve(baselineDir) : undefined,
      workloads: summaries,
      measurements: results,
    };
    const stamp = started.toISOString().slice(0, 19).replace(/:/g, '-');
    const jsonPath = join(outDir, `all-${stamp}.json`);
    writeFileSync(jsonPath, JSON.stringify(report, null, 2) + '\n');
    const md = renderAllReport(report);
    writeFileSync(jsonPath.replace(/\.json$/, '.md'), md);

    return { md, jsonPath };
  };
  for (let run = 0; run < runs; run++) {
    for (const w of workloads) {
      const sides = (Object.keys(w.sides) as Side[]).sort();
      // Alternate: official first on even runs, last on odd ones (Tusk and the baseline in between).
      const order = run % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) {
        const { argv: cmd, cwd } = w.sides[side]!;
        const m = measure(side, run, cmd, cwd);
        if (m.ok && w.id.startsWith('blob-id') && side === 'official' && refIds[w.id] === undefined)
          refIds = { ...refIds, [w.id]: blobIdOf(m) };
        const bad = m.ok ? w.check(side, m) : null;
        if (bad) {
          m.ok = false;
          m.error = bad;
        }
        (results[w.id] ??= []).push(m);
        const cpu = m.cpuSeconds?.toFixed(2) ?? '?';
        console.log(
          `run ${run} ${w.id.padEnd(13)} ${side.padEnd(8)} ${m.ok ? `${m.wallSeconds?.toFixed(2)} s wall, ${cpu} s CPU, ${m.peakRssMiB?.toFixed(0)} MiB` : `FAILED ${m.error}`}` +
            (m.callSeconds !== undefined ? ` (call ${m.callSeconds.toFixed(2)} s)` : ''),
        );
      }
    }
    // Written after every round: a run cut short still leaves its medians so far.
    writeReportFiles(run + 1);
  }
  const { md, jsonPath } = writeReportFiles(runs);
  console.log('\n' + md);
  console.log(`results written to ${jsonPath} (and .md)`);
}

await main(process.argv.slice(2));
