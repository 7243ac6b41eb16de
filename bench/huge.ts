/**
 * The huge-blob round trip (not part of the test run): generate a file (default 6 GiB), encode it
 * to a sliver directory with the streaming encoder on the worker pool, delete every sliver except
 * k_p primary ones (half of them recovery slivers, so the Reed–Solomon decoder runs), decode it back
 * with the streaming decoder, and check SHA-256 equality. Encode and decode each run in a fresh
 * child process so their peak RSS (workers included) is reported separately.
 *
 *   npm run bench:huge -- [--gib 6] [--n-shards 1000] [--dir .tusk-bench/huge] [--budget-mib 1024] [--keep]
 *
 * Disk: the input, the spool (~4.5× the input) and the encoder's temporary files (~3.5×, removed
 * when it finishes) — about 9× the input at the peak (54 GB for 6 GiB).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, rmSync, statfsSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const mode = process.argv[2];
if (mode === '--child-encode' || mode === '--child-decode') {
  const { CodecPool, decodeDirectory, directorySink, encodeStream } = await import('../src/index.ts');
  const [, , , input, output, nShards, budgetMiB] = process.argv;
  const pool = new CodecPool();
  const t0 = performance.now();
  let blobId: string;
  if (mode === '--child-encode') {
    const r = await encodeStream(input, {
      nShards: Number(nShards),
      pool,
      memoryBudget: Number(budgetMiB) * 2 ** 20,
      sink: await directorySink(output),
    });
    blobId = r.blobIdString;
  } else {
    const r = await decodeDirectory(input, output, { pool, memoryBudget: Number(budgetMiB) * 2 ** 20 });
    blobId = r.blobId;
  }
  const seconds = (performance.now() - t0) / 1000;
  await pool.close();
  console.log('HUGE_RESULT ' + JSON.stringify({ seconds, maxRssKiB: process.resourceUsage().maxRSS, blobId }));
  process.exit(0);
}

const gib = Number(arg('--gib', '6'));
const n = Number(arg('--n-shards', '1000'));
const budget = Number(arg('--budget-mib', '1024'));
const dir = resolve(arg('--dir', '.tusk-bench/huge'));
const bytes = Math.round(gib * 2 ** 30);
const self = fileURLToPath(import.meta.url);
mkdirSync(dir, { recursive: true });
const input = join(dir, 'input.bin');
const spool = join(dir, 'spool');
const output = join(dir, 'decoded.bin');
rmSync(spool, { recursive: true, force: true });
rmSync(output, { force: true });

const freeGB = () => (statfsSync(dir).bavail * statfsSync(dir).bsize) / 1e9;
console.log(`huge round trip: ${gib} GiB, n_shards=${n}, budget ${budget} MiB, dir ${dir}, ${freeGB().toFixed(0)} GB free`);

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 8 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

// 1. Input: deterministic xorshift data, written in 64 MiB chunks, hashed as it is written.
let t = performance.now();
const inputHash = createHash('sha256');
{
  const out = createWriteStream(input);
  const chunk = new Uint32Array(16 << 20);
  let x = 0x12345678;
  for (let done = 0; done < bytes; done += chunk.byteLength) {
    for (let i = 0; i < chunk.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      chunk[i] = x;
    }
    const piece = Buffer.from(chunk.buffer, 0, Math.min(chunk.byteLength, bytes - done));
    inputHash.update(piece);
    if (!out.write(Buffer.from(piece))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
const inputSha = inputHash.digest('hex');
console.log(`generate   ${((performance.now() - t) / 1000).toFixed(1)} s  sha256 ${inputSha.slice(0, 16)}…`);

function child(which: 'encode' | 'decode', from: string, to: string) {
  const r = spawnSync(process.execPath, [self, `--child-${which}`, from, to, String(n), String(budget)], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('HUGE_RESULT '));
  if (r.status !== 0 || !line) throw new Error(`${which} failed (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(line.slice('HUGE_RESULT '.length)) as { seconds: number; maxRssKiB: number; blobId: string };
}

// 2. Encode.
const enc = child('encode', input, spool);
const spoolBytes = ['primary', 'secondary'].reduce((s, ax) => s + readdirSync(join(spool, ax)).length, 0);
console.log(
  `encode     ${enc.seconds.toFixed(1)} s  ${(bytes / enc.seconds / 1e6).toFixed(1)} MB/s  peak RSS ${(enc.maxRssKiB / 1024).toFixed(0)} MiB  blob ${enc.blobId}  (${spoolBytes} sliver files, ${freeGB().toFixed(0)} GB free after)`,
);

// 3. Keep only k_p primary slivers: [k_p/2, k_p/2 + k_p), half systematic, half recovery.
const f = Math.floor((n - 1) / 3),
  kP = n - 2 * f,
  first = Math.floor(kP / 2);
rmSync(join(spool, 'secondary'), { recursive: true, force: true });
for (let i = 0; i < n; i++) if (i < first || i >= first + kP) unlinkSync(join(spool, 'primary', `${i}.bcs`));

// 4. Decode and compare.
const dec = child('decode', spool, output);
t = performance.now();
const outSha = existsSync(output) ? await sha256File(output) : 'missing';
console.log(
  `decode     ${dec.seconds.toFixed(1)} s  ${(bytes / dec.seconds / 1e6).toFixed(1)} MB/s  peak RSS ${(dec.maxRssKiB / 1024).toFixed(0)} MiB  (from primary slivers [${first}, ${first + kP}))`,
);
console.log(
  `sha256     ${outSha === inputSha ? 'EQUAL' : 'DIFFERENT'} (${((performance.now() - t) / 1000).toFixed(1)} s to hash the output)`,
);
if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
if (outSha !== inputSha) process.exit(1);
