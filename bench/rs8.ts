/**
 * RS8 (GF(2^8)) vs RS2 (GF(2^16)) at the same committee sizes and blob sizes, single thread.
 *
 *   npm run bench:rs8 -- [--n 10,31,100,195] [--sizes 16,64] [--runs 3]
 *
 * Three measurements per (n, size), medians of `--runs`, both encodings interleaved in one process:
 *  - `rs`: the two Reed–Solomon kernels alone, on work arrays already in wasm memory (row code
 *    k_s → n and column code k_p → n, on 64 KiB shards) — where the field's arithmetic dominates;
 *  - `encode`: the whole RedStuff encode (`encodeBlob`), which also hashes ~n²·S bytes of leaves —
 *    the same work for both encodings, so the speed-up shrinks as hashing dominates;
 *  - `decode`: `decodeBlob` from k_p primary slivers, half of them recovery slivers.
 */
import { decodeBlob, encodeBlob } from '../src/index.ts';
import { EncodingConfig } from '../src/api/codec.ts';
import { defaultKernel } from '../src/api/kernel.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const ns = arg('--n', '10,31,100,195').split(',').map(Number);
const sizes = arg('--sizes', '16,64').split(',').map(Number);
const runs = Number(arg('--runs', '3'));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
}

function data(bytes: number): Uint8Array {
  const d = new Uint8Array(bytes);
  let x = 0x9e3779b9;
  for (let i = 0; i < bytes; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    d[i] = x;
    d[i + 1] = x >>> 8;
    d[i + 2] = x >>> 16;
  }
  return d;
}

console.log(`RS8 vs RS2: runs=${runs}, node ${process.version}; times are medians in seconds, speed-up = RS2 / RS8`);
console.log('   n  size MiB   what      RS2 s     RS8 s   speed-up');
for (const n of ns) {
  const cfg = new EncodingConfig(n);
  // Small committees hold small blobs (n = 10: 1.8 MB): cap each size at the committee's maximum.
  const capped = [...new Set(sizes.map((m) => Math.min(m * 2 ** 20, cfg.maxBlobSize)))];
  for (const bytes of capped) {
    const blob = data(bytes);
    const mib = +(bytes / 2 ** 20).toFixed(2);
    const kP = cfg.primarySymbols,
      kS = cfg.secondarySymbols;
    // RS only: both codes on 64 KiB shards in wasm memory (the kernels, no copies in or out).
    const k = defaultKernel();
    const shard = 64 * 1024;
    const mark = k.mark();
    const work = k.alloc(Math.max(k.exports.rsWorkShards(kS, n - kS), k.exports.rsWorkShards(kP, n - kP)) * shard);
    const fill = () => k.u8().set(blob.subarray(0, Math.min(blob.length, kS * shard)), work);
    const t: Record<string, { rs2: number[]; rs8: number[] }> = {
      rs: { rs2: [], rs8: [] },
      encode: { rs2: [], rs8: [] },
      decode: { rs2: [], rs8: [] },
    };
    for (let r = 0; r < runs; r++) {
      for (const enc of ['rs2', 'rs8'] as const) {
        const rsEncode = enc === 'rs2' ? k.exports.rsEncode : k.exports.rs8Encode;
        let rs = 0;
        fill();
        rs += time(() => rsEncode(work, shard, shard, kS, n - kS));
        fill();
        rs += time(() => rsEncode(work, shard, shard, kP, n - kP));
        t.rs[enc].push(rs);
        let encoded!: ReturnType<typeof encodeBlob>;
        t.encode[enc].push(
          time(() => {
            encoded = encodeBlob(blob, { nShards: n, encoding: enc });
          }),
        );
        const slivers = encoded.primarySlivers.slice(Math.floor(kP / 2), Math.floor(kP / 2) + kP);
        let out!: Uint8Array;
        t.decode[enc].push(
          time(() => {
            out = decodeBlob(encoded.metadataWithId, slivers, { nShards: n });
          }),
        );
        if (out.length !== blob.length || Buffer.compare(Buffer.from(out), Buffer.from(blob)) !== 0)
          throw new Error(`${enc} n=${n}: decode mismatch`);
      }
    }
    k.release(mark);
    for (const what of ['rs', 'encode', 'decode']) {
      const a = median(t[what].rs2),
        b = median(t[what].rs8);
      console.log(
        `${String(n).padStart(4)}  ${String(mib).padStart(8)}   ${what.padEnd(7)} ${a.toFixed(3).padStart(8)}  ${b.toFixed(3).padStart(8)}   ${(a / b).toFixed(2).padStart(6)}×`,
      );
    }
  }
}
