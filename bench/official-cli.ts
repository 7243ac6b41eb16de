/**
 * The official encoder (`@mysten/walrus-wasm`) as whole commands, so bench/all.ts can time it the
 * way it times `tusk` (a fresh process, start-up included):
 *
 *   node bench/official-cli.ts blob-id <file> <n_shards>        prints the blob ID (base64url)
 *   node bench/official-cli.ts decode <sliver dir> <out> <n_shards>
 *       decodes from every primary/<i>.bcs of a sliver directory (the `tusk encode` layout; the
 *       unencoded length from its blob.json) and writes the blob to <out>
 *
 * Each prints one `BENCH_CALL {"seconds","cpuSeconds"}` line on stderr: the encoder/decoder call
 * alone (no file I/O, no start-up), which is what the decode row compares against.
 * Benchmark-only: never imported by src/.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { blobIdToBase64Url, officialDecode, officialMetadata } from '../test/helpers/official.ts';

/** Times `fn` (wall and this process's CPU, seconds) and reports it on stderr. */
function timed<T>(fn: () => T): T {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = fn();
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  process.stderr.write(`BENCH_CALL ${JSON.stringify({ seconds, cpuSeconds: (c.user + c.system) / 1e6 })}\n`);
  return out;
}

const [command, ...args] = process.argv.slice(2);
if (command === 'blob-id') {
  const [file, n] = args;
  const data = new Uint8Array(readFileSync(file));
  const meta = timed(() => officialMetadata(data, Number(n)));
  process.stdout.write(blobIdToBase64Url(meta.blobId) + '\n');
} else if (command === 'decode') {
  const [dir, out, n] = args;
  const { unencodedLength } = JSON.parse(readFileSync(join(dir, 'blob.json'), 'utf8')) as { unencodedLength: number };
  const slivers = readdirSync(join(dir, 'primary'))
    .filter((f) => f.endsWith('.bcs'))
    .map((f) => new Uint8Array(readFileSync(join(dir, 'primary', f))));
  const blob = timed(() => officialDecode(slivers, unencodedLength, Number(n)));
  writeFileSync(out, blob);
} else {
  process.stderr.write('usage: official-cli.ts blob-id <file> <n> | decode <dir> <out> <n>\n');
  process.exit(2);
}
