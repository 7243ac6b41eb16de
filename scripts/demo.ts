/**
 * The main job on an embedded default, no network: generate a sample file, encode it with RS2 for
 * a Walrus-sized committee (1000 shards), and print its blob ID and what the encoding produced.
 * (`npm run demo`; later issues grow this into a local network that stores and reads it back.)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeBlob } from '../src/index.ts';

const nShards = Number(process.env.TUSK_DEMO_SHARDS ?? 1000);
const dir = new URL('../.tusk-demo/', import.meta.url).pathname;
mkdirSync(dir, { recursive: true });
const file = join(dir, 'sample.bin');
const data = new Uint8Array(4 << 20);
let x = 0x9e3779b9;
for (let i = 0; i < data.length; i++) {
  x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
  data[i] = x & 0xff;
}
writeFileSync(file, data);

const t0 = performance.now();
const blob = encodeBlob(data, { nShards });
const seconds = (performance.now() - t0) / 1000;
const sliverBytes = blob.pairs.reduce((s, p) => s + p.primary.data.length + p.secondary.data.length, 0);
console.log(`sample file      ${file} (${data.length} bytes)`);
console.log(`committee        ${nShards} shards (RS2, symbol size ${blob.symbolSize} B)`);
console.log(`sliver pairs     ${blob.pairs.length} (${(sliverBytes / 2 ** 20).toFixed(1)} MiB of slivers, ${(sliverBytes / data.length).toFixed(2)}× the blob)`);
console.log(`metadata         ${blob.metadataWithId.toBcs().length} bytes (BlobMetadataWithId BCS)`);
console.log(`encode time      ${seconds.toFixed(2)} s (${(data.length / seconds / 1e6).toFixed(1)} MB/s, one thread)`);
console.log(`blob ID          ${blob.blobIdString}`);
console.log(`check it:        npx tusk blob-id ${file} --n-shards ${nShards}`);
