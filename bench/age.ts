/**
 * age encryption benchmark (issue 17): encrypt/decrypt throughput on one core (one process, no
 * workers) of Tusk's age implementation (node:crypto / OpenSSL ChaCha20-Poly1305) against the
 * `age-encryption` package (typage, pure JS) in the same run — medians of several runs — and the
 * peak RSS of encrypting then decrypting a large file from disk to disk in a child process.
 *
 *   npm run bench:age [-- --size-gib 5] [--runs 5] [--skip-file]
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import * as typage from 'age-encryption';
import { decrypt, encrypt, X25519Identity, decryptFile, encryptFile } from '../src/api/age.ts';
import { argValue, makeData, median, MiB } from './harness.ts';

const argv = process.argv.slice(2);

async function* slices(data: Uint8Array, size: number) {
  for (let o = 0; o < data.length; o += size) yield data.subarray(o, o + size);
}
async function drain(it: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const b of it) out.push(b);
  return out;
}
const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

async function throughput(): Promise<void> {
  const runs = Number(argValue(argv, '--runs') ?? 5);
  const id = X25519Identity.generate();
  const tuskSize = 256 * MiB;
  const data = makeData(tuskSize, 1);
  const enc: number[] = [],
    dec: number[] = [];
  // The ciphertext to decrypt is made once, outside the timings. The timed loops consume their
  // output without keeping it, as a pipeline to disk or to the network does: keeping 256 MiB of
  // fresh output per run measured the VM's page-fault cost (~250 MB/s), not the cipher.
  const ct = Buffer.concat(await drain(encrypt(slices(data, MiB), { recipients: [id.recipient] })));
  const consume = async (it: AsyncIterable<Uint8Array>) => {
    let n = 0;
    for await (const b of it) n += b.length;
    return n;
  };
  // typage is several times slower: a smaller input keeps the run short (throughput is
  // size-independent here). Runs alternate the two sides so machine noise hits both alike.
  const tySize = 32 * MiB;
  const tyData = data.subarray(0, tySize);
  const tyId = await typage.generateIdentity();
  const tyEnc: number[] = [],
    tyDec: number[] = [];
  for (let r = 0; r < runs; r++) {
    let t = performance.now();
    const m = await consume(encrypt(slices(data, MiB), { recipients: [id.recipient] }));
    enc.push(performance.now() - t);
    if (m !== ct.length) throw new Error('ciphertext size mismatch');
    t = performance.now();
    const n = await consume(decrypt(slices(ct, MiB), { identities: [id] }));
    dec.push(performance.now() - t);
    if (n !== tuskSize) throw new Error('round trip size mismatch');

    const e = new typage.Encrypter();
    e.addRecipient(await typage.identityToRecipient(tyId));
    t = performance.now();
    const tyCt = await e.encrypt(tyData);
    tyEnc.push(performance.now() - t);
    const d = new typage.Decrypter();
    d.addIdentity(tyId);
    t = performance.now();
    const pt = await d.decrypt(tyCt);
    tyDec.push(performance.now() - t);
    if (pt.length !== tySize) throw new Error('typage round trip size mismatch');
  }
  const row = (name: string, size: number, e: number[], d: number[]) =>
    console.log(
      `${name.padEnd(26)} ${String(size / MiB).padStart(5)} MiB  encrypt ${mbps(size, median(e)).toFixed(0).padStart(6)} MB/s  decrypt ${mbps(size, median(d)).toFixed(0).padStart(6)} MB/s`,
    );
  console.log(`one core, medians of ${runs} runs`);
  row('tusk (node:crypto)', tuskSize, enc, dec);
  row('age-encryption 0.3.1', tySize, tyEnc, tyDec);
  console.log(
    `ratio tusk/age-encryption: encrypt ${(mbps(tuskSize, median(enc)) / mbps(tySize, median(tyEnc))).toFixed(1)}×, decrypt ${(mbps(tuskSize, median(dec)) / mbps(tySize, median(tyDec))).toFixed(1)}×`,
  );
}

/** Child: writes a file of `gib` GiB, encrypts it to disk, decrypts it back, checks the hash; prints RSS. */
async function fileChild(gib: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tusk-bench-age-'));
  try {
    const plain = join(dir, 'plain'),
      ct = join(dir, 'ct'),
      back = join(dir, 'back');
    const chunk = makeData(8 * MiB, 2);
    const h1 = createHash('sha256');
    await pipeline(async function* () {
      for (let i = 0; i < (gib * 1024) / 8; i++) {
        h1.update(chunk);
        yield chunk;
      }
    }, createWriteStream(plain));
    const id = X25519Identity.generate();
    let t = performance.now();
    await encryptFile(plain, ct, { recipients: [id.recipient] });
    const encMs = performance.now() - t;
    t = performance.now();
    await decryptFile(ct, back, { identities: [id] });
    const decMs = performance.now() - t;
    const h2 = createHash('sha256');
    await pipeline(createReadStream(back), async (src: AsyncIterable<Buffer>) => {
      for await (const b of src) h2.update(b);
    });
    if (h1.digest('hex') !== h2.digest('hex')) throw new Error('file round trip mismatch');
    const size = (await stat(plain)).size;
    console.log(
      JSON.stringify({
        gib,
        size,
        ciphertext: (await stat(ct)).size,
        encMBps: mbps(size, encMs),
        decMBps: mbps(size, decMs),
        peakRssMiB: process.resourceUsage().maxRSS / 1024,
      }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (argv.includes('--child')) {
  await fileChild(Number(argValue(argv, '--size-gib')));
} else {
  await throughput();
  if (!argv.includes('--skip-file')) {
    const gib = Number(argValue(argv, '--size-gib') ?? 5);
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', '--size-gib', String(gib)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`file child failed (${r.status})`);
    const j = JSON.parse(r.stdout.trim());
    console.log(
      `file ${gib} GiB disk→disk: encrypt ${j.encMBps.toFixed(0)} MB/s, decrypt ${j.decMBps.toFixed(0)} MB/s, peak RSS ${j.peakRssMiB.toFixed(0)} MiB (bar ≤ 1536 MiB), round trip hash verified`,
    );
  }
}
