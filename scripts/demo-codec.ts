/**
 * The main job on an embedded default, no network: generate a sample file, encode it with RS2 for
 * a Walrus-sized committee (1000 shards) on the worker pool, throw away every sliver but k_p
 * primary ones (half of them recovery slivers), decode the file back and check it.
 * (`npm run demo:codec`; `npm run demo` does the whole store/read job on a local network.)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CodecPool, decodeBlob, encodeBlobAsync } from '../src/index.ts';
import { EncodingConfig } from '../src/api/codec.ts';

const nShards = Number(process.env.TUSK_DEMO_SHARDS ?? 1000);
const dir = new URL('../.tusk-demo/', import.meta.url).pathname;
mkdirSync(dir, { recursive: true });
const file = join(dir, 'sample.bin');
const data = new Uint8Array(4 << 20);
let x = 0x9e3779b9;
for (let i = 0; i < data.length; i++) {
  x ^= x << 13;
  x >>>= 0;
  x ^= x >>> 17;
  x ^= x << 5;
  x >>>= 0;
  data[i] = x & 0xff;
}
writeFileSync(file, data);

const pool = new CodecPool();
let t0 = performance.now();
const blob = await encodeBlobAsync(data, { nShards, pool });
const encodeSeconds = (performance.now() - t0) / 1000;
await pool.close();

const cfg = new EncodingConfig(nShards);
const kP = cfg.primarySymbols;
const kept = blob.primarySlivers.slice(Math.floor(kP / 2), Math.floor(kP / 2) + kP);
t0 = performance.now();
const back = decodeBlob(blob.metadataWithId, kept, { nShards });
const decodeSeconds = (performance.now() - t0) / 1000;
const ok = Buffer.from(back).equals(Buffer.from(data));

const sliverBytes = blob.pairs.reduce((s, p) => s + p.primary.data.length + p.secondary.data.length, 0);
console.log(`sample file      ${file} (${data.length} bytes)`);
console.log(`committee        ${nShards} shards, RS2 (Walrus), symbol size ${blob.symbolSize} B, f = ${cfg.f}`);
console.log(
  `sliver pairs     ${blob.pairs.length} (${(sliverBytes / 2 ** 20).toFixed(1)} MiB of slivers, ${(sliverBytes / data.length).toFixed(2)}× the blob)`,
);
console.log(`encode           ${encodeSeconds.toFixed(2)} s on ${pool.slots} worker(s)`);
console.log(
  `decode           ${decodeSeconds.toFixed(2)} s from ${kP} of ${nShards} primary slivers (${kP - Math.floor(kP / 2)} of them recovery slivers): ${ok ? 'identical' : 'MISMATCH'}`,
);
console.log(`blob ID          ${blob.blobIdString}`);
console.log(`check it:        npx tusk blob-id ${file} --n-shards ${nShards}`);
if (!ok) process.exit(1);
