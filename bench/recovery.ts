/**
 * Sliver recovery at n_shards = 1000 (single thread): what it costs a node to rebuild one lost
 * primary and one lost secondary sliver from its peers' recovery symbols.
 *
 *   npm run bench:recovery -- [--sizes 16,64,256] [--n-shards 1000]
 *
 * Reported per size: `produce` = one peer expanding its sliver and cutting one symbol + proof (every
 * peer does this in parallel, so this is the latency a peer adds); `recover` = the recovering node
 * verifying k symbols (k_s = 667 for a primary target, k_p = 334 for a secondary target), decoding
 * and verifying the recovered sliver against the metadata.
 */
import { encodeBlob } from '../src/index.ts';
import { EncodingConfig, recoverSliver, recoverySymbolsFrom } from '../src/api/codec.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const n = Number(arg('--n-shards', '1000'));
const sizes = arg('--sizes', '16,64').split(',').map(Number);
const cfg = new EncodingConfig(n);
console.log(`sliver recovery benchmark: n_shards=${n}, node ${process.version}`);
console.log('size MiB  target     k    produce 1 symbol (s)   recover (s)   sliver bytes');
for (const mib of sizes) {
  const data = new Uint8Array(mib * 2 ** 20);
  let x = 0x2545f491;
  for (let i = 0; i < data.length; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    data[i] = x;
    data[i + 1] = x >> 8;
  }
  const blob = encodeBlob(data, { nShards: n });
  for (const target of ['primary', 'secondary'] as const) {
    const t = 123; // the lost sliver
    const sources = target === 'primary' ? blob.secondarySlivers : blob.primarySlivers;
    const k = target === 'primary' ? cfg.secondarySymbols : cfg.primarySymbols;
    // Peers n−k … n−1 supply symbols (mostly recovery positions: the decoder really runs).
    let produce = 0;
    const symbols = [];
    for (let j = n - k; j < n; j++) {
      const t0 = performance.now();
      symbols.push(...recoverySymbolsFrom(cfg, sources[j], [t]));
      produce += performance.now() - t0;
    }
    const t0 = performance.now();
    const result = recoverSliver(cfg, blob.metadata, target, t, symbols);
    const recover = (performance.now() - t0) / 1000;
    const want = (target === 'primary' ? blob.primarySlivers : blob.secondarySlivers)[t].toBcs();
    if (!result.sliver || Buffer.compare(result.sliver.toBcs(), want) !== 0) throw new Error('recovered sliver differs');
    console.log(
      `${String(mib).padStart(8)}  ${target.padEnd(9)} ${String(k).padStart(4)}   ${(produce / k / 1000).toFixed(4).padStart(18)}   ${recover.toFixed(3).padStart(11)}   ${result.sliver.data.length}`,
    );
  }
}
