/**
 * `tusk bench --kernels`: micro-benchmarks of the WebAssembly kernels with tinybench, per flavour
 * (SIMD and scalar): Reed–Solomon encoding over GF(2^16) and GF(2^8) (the additive FFT and the
 * field multiplications are inside it — the kernels do not export a bare butterfly), Walrus leaf
 * hashing (BLAKE2b-256 of 0x00‖symbol) and inner Merkle nodes. Each figure is bytes (or nodes) per
 * second of the kernel call alone, on data already in kernel memory.
 */
import { Bench } from 'tinybench';
import { KERNEL_FLAVORS, WasmKernel, type KernelFlavor } from '../wasm/kernel.ts';

/** One micro-benchmark result. */
export interface KernelBenchRow {
  readonly flavor: KernelFlavor;
  readonly name: string;
  /** Mean time of one call, microseconds. */
  readonly meanMicros: number;
  /** Throughput in the unit of `unit` per second. */
  readonly perSecond: number;
  readonly unit: 'MB' | 'M nodes';
}

/** Options of {@link runKernelBench}. */
export interface KernelBenchOptions {
  /** Flavours to measure (default both). */
  readonly flavors?: readonly KernelFlavor[];
  /** Measuring time per task in ms (default 300). */
  readonly timeMs?: number;
}

function fill(k: WasmKernel, ptr: number, bytes: number): void {
  const m = k.u8();
  for (let i = 0; i < bytes; i++) m[ptr + i] = (i * 131 + 7) & 0xff;
}

/** Runs the kernel micro-benchmarks; returns one row per (flavour, kernel). */
export async function runKernelBench(options: KernelBenchOptions = {}): Promise<KernelBenchRow[]> {
  const rows: KernelBenchRow[] = [];
  for (const flavor of options.flavors ?? KERNEL_FLAVORS) {
    const k = new WasmKernel(flavor);
    const e = k.exports;
    const bench = new Bench({ time: options.timeMs ?? 300, warmupTime: 100 });
    const units = new Map<string, { amount: number; unit: KernelBenchRow['unit'] }>();

    // RS(334 → 1000) over 4 KiB shards, the column code of an n = 1000 committee (planar layout).
    for (const [name, field, o, r] of [
      ['rs-encode gf16 334→1000', 'rsEncode', 334, 666],
      ['rs-encode gf8 67→195', 'rs8Encode', 67, 128],
    ] as const) {
      const shard = 4096;
      const work = e.rsWorkShards(o, r) as number;
      const base = k.alloc(work * shard);
      fill(k, base, o * shard);
      // The call encodes in place; repeated calls on its own output cost the same (field arithmetic is data-independent).
      bench.add(name, () => e[field](base, shard, shard, o, r));
      units.set(name, { amount: o * shard, unit: 'MB' });
    }
    // Leaf digests of 1206-byte symbols (a 1 GiB-class blob at n = 1000) and of 6-byte ones (1 MiB).
    for (const S of [6, 1206]) {
      const count = Math.ceil((1 << 18) / Math.max(S, 32));
      const src = k.alloc(count * S);
      fill(k, src, count * S);
      const out = k.alloc(count * 32);
      const name = `blake2b leaves S=${S}`;
      bench.add(name, () => e.hashLeaves(src, S, count, S, out, 32));
      units.set(name, { amount: count * S, unit: 'MB' });
    }
    {
      const count = 1 << 14;
      const src = k.alloc(count * 64);
      fill(k, src, count * 64);
      const out = k.alloc(count * 32);
      bench.add('blake2b inner nodes', () => e.hashInnerNodes(src, count, out));
      units.set('blake2b inner nodes', { amount: count, unit: 'M nodes' });
    }
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result;
      if (result.state !== 'completed') throw new Error(`kernel benchmark ${task.name} did not complete (${result.state})`);
      const u = units.get(task.name)!;
      const meanMs = result.latency.mean;
      rows.push({ flavor, name: task.name, meanMicros: meanMs * 1000, perSecond: u.amount / 1e6 / (meanMs / 1000), unit: u.unit });
    }
  }
  return rows;
}

/** The rows as a markdown table. */
export function formatKernelBench(rows: readonly KernelBenchRow[]): string {
  const lines = ['| flavour | kernel | mean µs/call | throughput |', '|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.flavor} | ${r.name} | ${r.meanMicros.toFixed(1)} | ${r.perSecond.toFixed(1)} ${r.unit}/s |`);
  return lines.join('\n');
}
