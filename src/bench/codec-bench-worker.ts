/**
 * One measurement of `tusk bench`, run in a child process of its own so that its peak RSS belongs
 * to one implementation, one encoding, one size and one run. Started by codec-bench.ts as
 * `node codec-bench-worker.ts <spec JSON>`; prints one line `TUSK_BENCH <result JSON>`.
 *
 * Order inside the child: warm-up (kernel instantiation and the pool's workers are start-up costs,
 * not throughput), then encode, blob ID and decode of the same blob, each timed with its CPU time.
 * Decode takes k_p primary slivers chosen at random (seeded), as a reader gets them from a network.
 * The official encoder (`@mysten/walrus-wasm`, an optional peer dependency) is loaded only when
 * the spec asks for it; it has RS2 only and one thread.
 */
import { availableParallelism } from 'node:os';
import { computeBlobMetadata, encodeBlob } from '../codec/encode.ts';
import { computeBlobMetadataAsync, encodeBlobAsync } from '../pool/async-codec.ts';
import { decodeBlob } from '../codec/decode.ts';
import { EncodingConfig } from '../codec/config.ts';
import type { EncodingName } from '../codec/encodings/index.ts';
import { CodecPool } from '../pool/codec-pool.ts';
import { resolveFlavor } from '../wasm/kernel.ts';
import { benchBytes, timed, type Timing } from './measure.ts';

/** What the parent asks one child to measure. */
export interface WorkerSpec {
  readonly impl: 'tusk' | 'official';
  readonly encoding: Lowercase<EncodingName>;
  readonly nShards: number;
  readonly sizeBytes: number;
  /** Worker threads for Tusk's encode and blob ID (1: on the calling thread, no pool). */
  readonly threads: number;
  readonly seed: number;
}

/** What one child reports. */
export interface WorkerResult {
  readonly spec: WorkerSpec;
  readonly ok: boolean;
  readonly error?: string;
  readonly encode?: Timing;
  readonly blobId?: Timing;
  readonly decode?: Timing;
  /** Peak resident set size of the child, bytes. */
  readonly peakRssBytes?: number;
  readonly blobIdString?: string;
}

/** The line prefix the parent looks for. */
export const RESULT_PREFIX = 'TUSK_BENCH ';

/** k_p distinct sliver indices of [0, n), chosen by a seeded LCG. */
function randomPrimaries(n: number, k: number, seed: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  let x = seed >>> 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const j = x % (i + 1);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, k).sort((a, b) => a - b);
}

async function measureTusk(spec: WorkerSpec, data: Uint8Array): Promise<Omit<WorkerResult, 'spec' | 'ok'>> {
  const options = { nShards: spec.nShards, encoding: spec.encoding };
  const pool = spec.threads > 1 ? new CodecPool({ threads: spec.threads }) : undefined;
  try {
    // Warm-up: instantiates the kernels (and every pool worker) outside the timed calls.
    const warm = new Uint8Array(64 << 10);
    if (pool)
      await Promise.all(
        Array.from({ length: spec.threads }, () => computeBlobMetadataAsync(warm, { nShards: 10, encoding: spec.encoding, pool })),
      );
    encodeBlob(warm, { nShards: 10, encoding: spec.encoding });
    const encode = await timed(() => (pool ? encodeBlobAsync(data, { ...options, pool }) : encodeBlob(data, options)));
    const blobId = await timed(() => (pool ? computeBlobMetadataAsync(data, { ...options, pool }) : computeBlobMetadata(data, options)));
    const blob = encode.value;
    const cfg = new EncodingConfig(spec.nShards, spec.encoding);
    const slivers = randomPrimaries(spec.nShards, cfg.primarySymbols, spec.seed).map((i) => blob.primarySlivers[i]);
    const decode = await timed(() => decodeBlob(blob.metadataWithId, slivers, { nShards: spec.nShards }));
    if (!Buffer.from(decode.value).equals(Buffer.from(data))) throw new Error('decode returned different bytes');
    if (blobId.value.blobIdString !== blob.blobIdString) throw new Error('blob ID differs between encode and blob-id');
    return { encode: encode.timing, blobId: blobId.timing, decode: decode.timing, blobIdString: blob.blobIdString };
  } finally {
    await pool?.close();
  }
}

/** The official encoder's module, typed as far as this file uses it. */
interface OfficialModule {
  BlobEncoder: new (nShards: number) => {
    encode(data: Uint8Array, primary: Uint8Array[], secondary: Uint8Array[]): [{ blob_id: ArrayLike<number> }, unknown];
    compute_metadata(data: Uint8Array): [ArrayLike<number>, unknown, unknown, unknown];
    decode(blobId: Uint8Array, size: bigint, primary: Uint8Array[], out: Uint8Array): void;
    free(): void;
  };
}

/** ULEB128 length of `n` plus n bytes plus the u16 symbol size and u16 index: a SliverData's BCS length. */
function sliverBcsLength(dataBytes: number): number {
  let uleb = 1;
  for (let v = dataBytes; v >= 0x80; v = Math.floor(v / 128)) uleb++;
  return uleb + dataBytes + 4;
}

async function measureOfficial(spec: WorkerSpec, data: Uint8Array): Promise<Omit<WorkerResult, 'spec' | 'ok'>> {
  if (spec.encoding !== 'rs2') throw new Error('the official encoder has RS2 only');
  const name = '@mysten/walrus-wasm';
  const official = (await import(name)) as OfficialModule;
  const cfg = new EncodingConfig(spec.nShards);
  const buffers = (length: number) => {
    const s = cfg.symbolSize(length);
    return {
      primary: Array.from({ length: spec.nShards }, () => new Uint8Array(sliverBcsLength(cfg.primarySliverBytes(s)))),
      secondary: Array.from({ length: spec.nShards }, () => new Uint8Array(sliverBcsLength(cfg.secondarySliverBytes(s)))),
    };
  };
  const encoder = new official.BlobEncoder(spec.nShards);
  try {
    const warm = new Uint8Array(64 << 10);
    const w = buffers(warm.length);
    encoder.encode(warm, w.primary, w.secondary);
    // The caller provides the sliver buffers (the official API): allocated outside the timed call.
    const out = buffers(data.length);
    const encode = await timed(() => encoder.encode(data, out.primary, out.secondary));
    const blobId = await timed(() => encoder.compute_metadata(data));
    const id = Uint8Array.from(encode.value[0].blob_id);
    const slivers = randomPrimaries(spec.nShards, cfg.primarySymbols, spec.seed).map((i) => out.primary[i]);
    const back = new Uint8Array(data.length);
    const decode = await timed(() => encoder.decode(id, BigInt(data.length), slivers, back));
    if (!Buffer.from(back).equals(Buffer.from(data))) throw new Error('official decode returned different bytes');
    return { encode: encode.timing, blobId: blobId.timing, decode: decode.timing, blobIdString: Buffer.from(id).toString('base64url') };
  } finally {
    encoder.free();
  }
}

/** Measures `spec` in this process. Never throws: a failure is reported as `ok: false`. */
export async function runWorker(spec: WorkerSpec): Promise<WorkerResult> {
  try {
    const data = benchBytes(spec.sizeBytes, spec.seed);
    const r = spec.impl === 'tusk' ? await measureTusk(spec, data) : await measureOfficial(spec, data);
    return { spec, ok: true, ...r, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
  } catch (e) {
    return { spec, ok: false, error: (e as Error).message, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
  }
}

/** The kernel flavour this machine runs and its core count (for the report's banner). */
export function machineKernel(): { flavor: string; cores: number } {
  return { flavor: resolveFlavor('auto'), cores: availableParallelism() };
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const spec = JSON.parse(process.argv[2] ?? '{}') as WorkerSpec;
  const result = await runWorker(spec);
  process.stdout.write(RESULT_PREFIX + JSON.stringify(result) + '\n');
}
