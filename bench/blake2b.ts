/**
 * BLAKE2b-256 / Walrus Merkle kernel throughput, both flavours:
 *   node_modules/.bin/node bench/blake2b.ts
 *
 * Leaves: MB/s of symbol bytes through hashLeaves. Inner: hashInnerNodes nodes/s. Then the two
 * encoder-sized jobs for n = 1000 (1 MiB blob, S = 6): n·n leaf digests and the 2n Merkle roots
 * (rows and columns of the leaf-digest matrix).
 *
 * Each kernel is first warmed up with small calls for WARM_MS: V8 runs new wasm code in its
 * baseline compiler (Liftoff, ~2.5× slower here) and swaps in optimized code only for later calls,
 * never in the middle of a running call. Reported times are the best of several repetitions.
 */
import { WasmKernel, type KernelFlavor } from '../src/wasm/kernel.ts';

const WARM_MS = 200;
const MEASURE_MS = 400;

function best(fn: () => void, warm: () => void = fn): number {
  const tw = performance.now();
  while (performance.now() - tw < WARM_MS) warm();
  let min = Infinity;
  const t0 = performance.now();
  do {
    const t = performance.now();
    fn();
    min = Math.min(min, performance.now() - t);
  } while (performance.now() - t0 < MEASURE_MS);
  return min / 1000;
}

function fill(k: WasmKernel, ptr: number, n: number): void {
  const m = k.u8();
  for (let i = 0; i < n; i++) m[ptr + i] = (i * 131 + 7) & 0xff;
}

const flavors = (process.argv[2]?.split(',') ?? ['scalar', 'simd']) as KernelFlavor[];
for (const flavor of flavors) {
  const k = new WasmKernel(flavor);
  const e = k.exports;
  const lines: string[] = [];
  for (const S of [6, 76, 302, 1206]) {
    const count = Math.ceil((1 << 17) / Math.max(S, 32)); // a few ms per call
    const mark = k.mark();
    const src = k.alloc(count * S);
    fill(k, src, count * S);
    const out = k.alloc(count * 32);
    const s = best(() => e.hashLeaves(src, S, count, S, out, 32));
    lines.push(`leaves S=${S}: ${((count * S) / s / 1e6).toFixed(0)} MB/s (${(count / s / 1e6).toFixed(2)} M leaves/s)`);
    k.release(mark);
  }
  {
    const count = 1 << 14;
    const mark = k.mark();
    const src = k.alloc(count * 64);
    fill(k, src, count * 64);
    const out = k.alloc(count * 32);
    const s = best(() => e.hashInnerNodes(src, count, out));
    lines.push(`inner: ${(count / s / 1e6).toFixed(2)} M nodes/s`);
    k.release(mark);
  }
  {
    const n = 1000,
      S = 6;
    const mark = k.mark();
    const src = k.alloc(n * n * S);
    fill(k, src, n * n * S);
    const out = k.alloc(n * n * 32);
    const s = best(
      () => e.hashLeaves(src, S, n * n, S, out, 32),
      () => e.hashLeaves(src, S, 4096, S, out, 32),
    );
    lines.push(`n·n leaf digests, n=${n}, S=${S}: ${(s * 1000).toFixed(1)} ms`);
    const scratch = k.alloc(Math.ceil(n / 2) * 32);
    const roots = k.alloc(2 * n * 32);
    const t = best(
      () => {
        e.merkleRoots(out, n, 32, n, 32 * n, scratch, roots); // primary: rows
        e.merkleRoots(out, n, 32 * n, n, 32, scratch, roots + n * 32); // secondary: columns
      },
      () => e.merkleRoots(out, n, 32, 4, 32 * n, scratch, roots),
    );
    lines.push(`2n Merkle roots, n=${n}: ${(t * 1000).toFixed(1)} ms (${((2 * n * (n - 1)) / t / 1e6).toFixed(2)} M nodes/s)`);
    k.release(mark);
  }
  console.log(`${flavor}:\n  ${lines.join('\n  ')}`);
}
