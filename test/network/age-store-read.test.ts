/**
 * Encrypted blobs through a real local network (`tusk dev`: chain + 4 node processes): the CLI
 * stores with --encrypt-to / --passphrase-file and reads back with -i / --range / --raw; the
 * library options `encrypt: { recipients }` and `decrypt: { identities }` do the same. The nodes
 * hold ciphertext only (the raw blob is an age file the Debian `age` tool decrypts). Range reads,
 * plain and encrypted, download only the slivers that hold the range (counted).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { runTusk, TUSK_BIN } from '../helpers/cli.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { loadClientConfig, loadWallet } from '../../src/client/client-config.ts';
import { RemoteChain } from '../../src/chain/remote/client.ts';
import { storeBlob } from '../../src/client/store-blob.ts';
import { readBlob } from '../../src/client/read-blob.ts';
import { readBlobRange, readBlobRangeToFile } from '../../src/client/read-range.ts';
import { X25519Identity } from '../../src/api/age.ts';

const dir = mkdtempSync(join(tmpdir(), 'tusk-age-net-'));
const config = join(dir, 'client.json');
let dev: ChildProcess;
const tusk = runTusk;

beforeAll(async () => {
  dev = spawn(
    process.execPath,
    [TUSK_BIN, 'dev', '--data-dir', join(dir, 'net'), '--nodes', '4', '--n-shards', '20', '--config', config, '--json'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<string>((res, rej) => {
    createInterface({ input: dev.stdout! }).once('line', res);
    dev.once('exit', (c) => rej(new Error(`tusk dev exited with ${c}`)));
  });
}, 180_000);

afterAll(async () => {
  if (dev && dev.exitCode === null) dev.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('encrypted store and read through tusk dev', () => {
  const file = join(dir, 'secret.bin');
  const data = randomBytes(200_000, 7);
  writeFileSync(file, data);
  const key = join(dir, 'key.txt');
  let recipient = '';
  let blobId = '';

  it('keygen, store --encrypt-to, read -i (file and stdout), --range', async () => {
    const k = await tusk(['keygen', '-o', key]);
    expect(k.code, k.stderr).toBe(0);
    recipient = /Public key: (age1\w+)/.exec(k.stderr)![1];
    const s = await tusk(['store', file, '--epochs', '2', '--encrypt-to', recipient, '--config', config, '--json']);
    expect(s.code, s.stderr).toBe(0);
    const out = JSON.parse(s.stdout).blobs[0];
    expect(out.encryption).toEqual({ format: 'age-v1', recipients: 1 });
    expect(out.size).toBeGreaterThan(data.length); // the nodes hold ciphertext
    blobId = out.blobId;
    const back = join(dir, 'back.bin');
    const r = await tusk(['read', blobId, '-i', key, '--out', back, '--config', config, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).size).toBe(data.length);
    expect(Buffer.compare(readFileSync(back), data)).toBe(0);
    const part = join(dir, 'part.bin');
    const rr = await tusk(['read', blobId, '-i', key, '--range', '65530-140000', '--out', part, '--config', config]);
    expect(rr.code, rr.stderr).toBe(0);
    expect(Buffer.compare(readFileSync(part), data.subarray(65530, 140001))).toBe(0);
    const stdout = execFileSync(process.execPath, [TUSK_BIN, 'read', blobId, '-i', key, '--config', config], { maxBuffer: 1 << 26 });
    expect(Buffer.compare(stdout, data)).toBe(0);
  });

  it('without -i the encrypted blob is refused; --raw gives ciphertext that age -d decrypts', async () => {
    const r = await tusk(['read', blobId, '--out', join(dir, 'nope'), '--config', config]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/age-encrypted \(recipient stanzas: X25519\).*-i <identity file>/);
    expect(existsSync(join(dir, 'nope'))).toBe(false);
    const raw = join(dir, 'raw.age');
    expect((await tusk(['read', blobId, '--raw', '--out', raw, '--config', config])).code).toBe(0);
    expect(readFileSync(raw).subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
    if (!existsSync('/usr/bin/age')) console.warn('\n!!!!! SKIPPING age -d of the stored ciphertext: /usr/bin/age missing !!!!!\n');
    else expect(Buffer.compare(execFileSync('/usr/bin/age', ['-d', '-i', key, raw], { maxBuffer: 1 << 26 }), data)).toBe(0);
  });

  it('wrong key, non-age blob with -i: clear errors, no output file', async () => {
    const other = join(dir, 'other.txt');
    writeFileSync(other, `${X25519Identity.generate().toString()}\n`);
    const out = join(dir, 'wrong.bin');
    const w = await tusk(['read', blobId, '-i', other, '--out', out, '--config', config]);
    expect(w.code).toBe(1);
    expect(w.stderr).toMatch(/no identity matched/);
    const plain = await tusk(['store', file, '--epochs', '1', '--config', config, '--json']);
    expect(plain.code, plain.stderr).toBe(0);
    const n = await tusk(['read', JSON.parse(plain.stdout).blobs[0].blobId, '-i', key, '--out', out, '--config', config]);
    expect(n.code).toBe(1);
    expect(n.stderr).toMatch(/not age-encrypted/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('.tusk-decrypt') || f.endsWith('.part'))).toEqual([]);
  });

  it('store --passphrase-file / read --passphrase-file', async () => {
    const pw = join(dir, 'pw');
    writeFileSync(pw, 'correct horse battery\n');
    const s = await tusk(['store', file, '--epochs', '1', '--passphrase-file', pw, '--work-factor', '10', '--config', config, '--json']);
    expect(s.code, s.stderr).toBe(0);
    const out = join(dir, 'pw.bin');
    const r = await tusk(['read', JSON.parse(s.stdout).blobs[0].blobId, '--passphrase-file', pw, '--out', out, '--config', config]);
    expect(r.code, r.stderr).toBe(0);
    expect(Buffer.compare(readFileSync(out), data)).toBe(0);
  });

  it('library: storeBlob({ encrypt }) and readBlob({ decrypt })', async () => {
    const cfg = await loadClientConfig(config);
    const chain = new RemoteChain({ url: cfg.chainUrl });
    const signer = await loadWallet(cfg.wallet);
    const id = X25519Identity.generate();
    const small = randomBytes(1000, 9);
    const r = await storeBlob(small, { chain, signer, epochs: 1, encrypt: { recipients: [id.recipient.toString()] } });
    r.cancelBackground();
    const back = await readBlob(r.blobId, { chain, decrypt: { identities: [id.toString()] } });
    expect(Buffer.compare(Buffer.from(back), small)).toBe(0);
    const range = await readBlob(r.blobId, { chain, decrypt: { identities: [id.toString()], range: { start: 10, end: 20 } } });
    expect(Buffer.compare(Buffer.from(range), small.subarray(10, 20))).toBe(0);
    const raw = await readBlob(r.blobId, { chain });
    expect(Buffer.from(raw.subarray(0, 21)).toString()).toBe('age-encryption.org/v1');
  });

  it('range reads download only the covering slivers, plain and encrypted (library and CLI)', async () => {
    const cfg = await loadClientConfig(config);
    const chain = new RemoteChain({ url: cfg.chainUrl });
    const signer = await loadWallet(cfg.wallet);
    const big = randomBytes(3_000_000, 11);
    const plain = await storeBlob(big, { chain, signer, epochs: 1 });
    plain.cancelBackground();
    const id = X25519Identity.generate();
    const enc = await storeBlob(big, { chain, signer, epochs: 1, encrypt: { recipients: [id.recipient.toString()] } });
    enc.cancelBackground();
    // 20 shards: k_p = 8 rows, so one row is ~375 kB; a whole read needs 8 slivers (3 MB).
    let nodeBytes = 0;
    const onNodeBytes = (n: number) => (nodeBytes += n);
    const a = await readBlobRange(plain.blobId, { start: 1_000_000, end: 1_000_100 }, { chain, onNodeBytes });
    expect(Buffer.compare(Buffer.from(a), big.subarray(1_000_000, 1_000_100))).toBe(0);
    expect(nodeBytes).toBeGreaterThan(0);
    expect(nodeBytes).toBeLessThan(big.length / 4);
    nodeBytes = 0;
    const out = join(dir, 'enc-range.bin');
    const r = await readBlobRangeToFile(
      enc.blobId,
      out,
      { start: 2_000_000, end: 2_100_000 },
      {
        chain,
        decrypt: { identities: [id.toString()] },
        onNodeBytes,
      },
    );
    expect(r).toMatchObject({ bytes: 100_000, start: 2_000_000, end: 2_100_000, size: big.length });
    expect(Buffer.compare(readFileSync(out), big.subarray(2_000_000, 2_100_000))).toBe(0);
    // Header row, final-chunk row and the covering row(s): well under the whole ciphertext.
    expect(nodeBytes).toBeLessThan(big.length / 2);
    // The end is clamped; a start past the end is refused.
    expect((await readBlobRange(plain.blobId, { start: big.length - 5, end: big.length + 50 }, { chain })).length).toBe(5);
    await expect(readBlobRange(plain.blobId, { start: big.length + 1 }, { chain })).rejects.toThrow(/past the end/);
    // CLI: plain --range to a file (JSON) and to stdout; A- reads to the end.
    const part = join(dir, 'plain-part.bin');
    const c = await tusk(['read', plain.blobId, '--range', '999990-1000009', '--out', part, '--config', config, '--json']);
    expect(c.code, c.stderr).toBe(0);
    expect(JSON.parse(c.stdout)).toMatchObject({ size: 20, start: 999_990, end: 1_000_010, totalSize: big.length });
    expect(Buffer.compare(readFileSync(part), big.subarray(999_990, 1_000_010))).toBe(0);
    const tail = execFileSync(process.execPath, [TUSK_BIN, 'read', plain.blobId, '--range', `${big.length - 100}-`, '--config', config]);
    expect(Buffer.compare(tail, big.subarray(big.length - 100))).toBe(0);
    // Without -i a range of an encrypted blob is refused like a whole read.
    const refused = await tusk(['read', enc.blobId, '--range', '0-10', '--out', join(dir, 'x'), '--config', config]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/age-encrypted/);
  });
});
