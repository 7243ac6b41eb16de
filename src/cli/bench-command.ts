/**
 * `tusk bench`: the codec's throughput on this machine, for people who benchmark codecs — encode,
 * blob ID and decode (MB/s, CPU time, peak RSS), the kernel flavour and core count, beside the
 * official Walrus encoder when `@mysten/walrus-wasm` is installed; `--kernels` adds tinybench
 * micro-benchmarks of the WebAssembly kernels. Text output is a markdown table; `--json` one object.
 */
import { parseArgs } from 'node:util';
import { ENCODINGS, type EncodingName } from '../codec/encodings/index.ts';
import { formatCodecBench, runCodecBench } from '../bench/codec-bench.ts';
import { formatKernelBench, runKernelBench } from '../bench/kernel-bench.ts';
import { print } from './common.ts';

/** Usage text of `tusk bench` (main.ts appends it to its own). */
export const BENCH_USAGE = `Benchmark (this machine; each measurement in a fresh process, medians of --runs):
  bench [--n-shards 1000,…] [--sizes 16MiB,…] [--encoding rs2|rs8|both] [--threads 1,2,…]
        [--runs 3] [--no-official] [--kernels] [--json]
                              Encode, blob-ID and decode MB/s, CPU time and peak RSS (with the
                              official encoder's figures when @mysten/walrus-wasm is installed).`;

const OPTIONS = {
  'n-shards': { type: 'string' },
  sizes: { type: 'string' },
  encoding: { type: 'string' },
  threads: { type: 'string' },
  runs: { type: 'string' },
  'no-official': { type: 'boolean', default: false },
  kernels: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
} as const;

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kib: 1 << 10,
  k: 1 << 10,
  mib: 1 << 20,
  m: 1 << 20,
  gib: 1 << 30,
  g: 1 << 30,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
};

/** `16MiB`, `512KiB`, `1GiB`, `1000` (bytes) → bytes; undefined if malformed. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = UNITS[m[2].toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Number(m[1]) * unit;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

function intList(raw: string | undefined, name: string, usageError: (m: string) => Error): number[] | undefined {
  if (raw === undefined) return undefined;
  const xs = raw.split(',').map((x) => Number(x.trim()));
  if (xs.some((x) => !Number.isSafeInteger(x) || x < 1))
    throw usageError(`--${name} takes positive integers separated by commas, got ${JSON.stringify(raw)}`);
  return xs;
}

/** Runs `tusk bench`; resolves to the exit code (1 when a measurement failed). */
export async function benchCommand(argv: string[], usageError: (m: string) => Error): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  if (positionals.length > 0) throw usageError(`bench takes no positional arguments, got ${JSON.stringify(positionals[0])}`);
  const sizes = values.sizes?.split(',').map((s) => {
    const b = parseSize(s);
    if (b === undefined) throw usageError(`--sizes: cannot read ${JSON.stringify(s)} (use e.g. 1MiB,16MiB,512KiB or bytes)`);
    return b;
  });
  const rawEncoding = (values.encoding ?? 'rs2').toLowerCase();
  const known = ENCODINGS.map((e) => e.name.toLowerCase());
  if (rawEncoding !== 'both' && !known.includes(rawEncoding))
    throw usageError(`--encoding must be ${known.join(', ')} or both, got ${JSON.stringify(values.encoding)}`);
  const encodings = (rawEncoding === 'both' ? known : [rawEncoding]) as Lowercase<EncodingName>[];
  const nShards =
    intList(values['n-shards'], 'n-shards', usageError) ?? (rawEncoding === 'rs8' ? [100] : rawEncoding === 'both' ? [100] : undefined);
  const runs = intList(values.runs, 'runs', usageError)?.[0];
  const onProgress = values.json || !process.stderr.isTTY ? undefined : (line: string) => process.stderr.write(`${line}\n`);
  const report = await runCodecBench({
    nShards,
    sizes,
    encodings,
    threads: intList(values.threads, 'threads', usageError),
    runs,
    official: !values['no-official'],
    onProgress,
  });
  const kernels = values.kernels ? await runKernelBench() : undefined;
  if (values.json) print(true, { ...report, kernels }, '');
  else print(false, {}, formatCodecBench(report) + (kernels ? `\n\nKernels (tinybench):\n\n${formatKernelBench(kernels)}` : ''));
  return report.failures.length > 0 ? 1 : 0;
}
