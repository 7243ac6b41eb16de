/** The `tusk` CLI as a user runs it: a real process, real files. */
import { afterAll, describe, expect, it } from 'vitest';
import {
  mkdtempSync,
  writeFileSync,
  rmSync,
  readFileSync,
  readdirSync,
  unlinkSync,
  existsSync,
  mkdirSync,
  lstatSync,
  symlinkSync,
  createReadStream,
  openSync,
  writeSync,
  closeSync,
  truncateSync,
} from 'node:fs';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { officialBlobId, blobIdToBase64Url } from './helpers/official.ts';
import { runTusk, TUSK_BIN } from './helpers/cli.ts';

const tusk = runTusk;

describe('tusk blob-id', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tusk-cli-'));
  const file = join(dir, 'blob.bin');
  const data = new Uint8Array(123_457).map((_, i) => (i * 31 + 7) & 0xff);
  writeFileSync(file, data);

  it('prints the same blob ID as the official encoder, alone on stdout', async () => {
    const r = await tusk(['blob-id', file, '--n-shards', '100']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(blobIdToBase64Url(officialBlobId(data, 100)) + '\n');
  });

  it('--json prints the documented fields', async () => {
    const r = await tusk(['blob-id', file, '--n-shards', '10', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['blobId', 'rootHash', 'unencodedLength', 'encodingType', 'symbolSize', 'nShards']);
    expect(j).toMatchObject({ unencodedLength: 123_457, encodingType: 'RS2', nShards: 10, symbolSize: 4410 });
    expect(j.blobId).toBe(blobIdToBase64Url(officialBlobId(data, 10)));
    expect(j.rootHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('defaults to 1000 shards', async () => {
    const small = join(dir, 'small.bin');
    writeFileSync(small, data.subarray(0, 100));
    const r = await tusk(['blob-id', small]);
    expect(r.stdout.trim()).toBe(blobIdToBase64Url(officialBlobId(data.subarray(0, 100), 1000)));
  });

  it('reports bad input on stderr with a non-zero exit', async () => {
    const missing = await tusk(['blob-id', join(dir, 'missing.bin')]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/no such file/);
    const tooFew = await tusk(['blob-id', file, '--n-shards', '0']);
    expect(tooFew.code).toBe(2);
    expect(tooFew.stderr).toMatch(/--n-shards must be an integer in 4…8192 for RS2, got "0"/);
    const big = join(dir, 'big.bin');
    writeFileSync(big, new Uint8Array(6 * 65534 + 1)); // n = 4 allows k_p·k_s·65534 = 393204 bytes
    const tooBig = await tusk(['blob-id', big, '--n-shards', '4']);
    expect(tooBig.code).toBe(1);
    expect(tooBig.stderr).toMatch(/exceeds the maximum/);
    const usage = await tusk(['blob-id']);
    expect(usage.code).toBe(2);
    const notNumber = await tusk(['blob-id', file, '--n-shards', 'ten']);
    expect(notNumber.code).toBe(2);
  });

  it('a temporary directory that fills up under the spill costs nothing but time (the run is redone in memory)', async () => {
    // 9 MB at n = 1000: 4.7 MB of recovery columns go to a spill file. A file-size limit of 1 MiB
    // (SIGXFSZ ignored, so the write fails with EFBIG) makes the spill's writes fail, as a full
    // temporary file system would.
    const nine = join(dir, 'nine.bin');
    const bytes = new Uint8Array(9_000_011).map((_, i) => (i * 2654435761) >>> 24);
    writeFileSync(nine, bytes);
    const want = blobIdToBase64Url(officialBlobId(bytes, 1000));
    const limited = spawnSync('bash', ['-c', `trap '' XFSZ; ulimit -f 1024; exec "$0" "$@"`, process.execPath, TUSK_BIN, 'blob-id', nine], {
      encoding: 'utf8',
    });
    expect(limited.status, limited.stderr).toBe(0);
    expect(limited.stdout).toBe(want + '\n');
    expect((await tusk(['blob-id', nine])).stdout).toBe(want + '\n');
  }, 60_000);

  it('a file over 2 GiB whose spill cannot be made or written fails at once, saying what to free (not gigabytes of RAM)', async () => {
    // Sparse: 2 GiB + 1 MiB of zeros costs no disk. Both failures come before the first column.
    const huge = join(dir, 'huge-sparse.bin');
    writeFileSync(huge, '');
    truncateSync(huge, 2 ** 31 + 2 ** 20);
    const notDir = join(dir, 'not-a-dir');
    writeFileSync(notDir, '');
    const cannotOpen = spawnSync(process.execPath, [TUSK_BIN, 'blob-id', huge], {
      encoding: 'utf8',
      env: { ...process.env, TMPDIR: notDir },
    });
    expect(cannotOpen.status).toBe(1);
    expect(cannotOpen.stdout).toBe('');
    expect(cannotOpen.stderr).toContain(`needs ~1.0 GiB free in the temporary directory ${notDir} (no file can be made there)`);
    const cannotWrite = spawnSync(
      'bash',
      ['-c', `trap '' XFSZ; ulimit -f 1024; exec "$0" "$@"`, process.execPath, TUSK_BIN, 'blob-id', huge],
      {
        encoding: 'utf8',
      },
    );
    expect(cannotWrite.status).toBe(1);
    expect(cannotWrite.stderr).toMatch(/needs ~1\.0 GiB free in the temporary directory .*write failed \(EFBIG/);
    unlinkSync(huge);
  }, 60_000);

  // 300 MiB (slow: `npm run test:slow`): above 256 MiB a regular file still goes through the
  // file-source path (not the streaming encoder), in bounded memory: at n = 300 a column is
  // 1.6 MB, so Phase B reads 5 columns per stripe (not whole 16-column blocks). The streaming encoder is the independent reference.
  it.runIf(process.env.TUSK_SLOW === '1')(
    'a 300 MiB file: the same blob ID as the streaming encoder, in bounded memory',
    async () => {
      const big = join(dir, 'big-300m.bin');
      const chunk = new Uint8Array(2 ** 20);
      const out = openSync(big, 'w');
      for (let m = 0; m < 300; m++) {
        chunk.forEach((_, i) => (chunk[i] = (i * 2654435761 + m * 40503) >>> 24));
        writeSync(out, chunk);
      }
      closeSync(out);
      const { computeStreamMetadata } = await import('../src/stream/encode-stream.ts');
      const want = (await computeStreamMetadata(big, { nShards: 300 })).blobIdString;
      const command = [process.execPath, TUSK_BIN, 'blob-id', big, '--n-shards', '300'];
      const timed = existsSync('/usr/bin/time');
      if (!timed) console.warn('SKIPPED: the peak-RSS check needs /usr/bin/time (Debian package `time`)');
      const run = timed
        ? spawnSync('/usr/bin/time', ['-f', 'maxrss=%M', ...command], { encoding: 'utf8' })
        : spawnSync(command[0], command.slice(1), { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toBe(want + '\n');
      if (timed) {
        // Peak RSS well under the file's size (the in-memory path would hold it whole).
        const rss = Number(/maxrss=(\d+)/.exec(run.stderr)?.[1]) * 1024;
        expect(rss).toBeGreaterThan(0);
        expect(rss).toBeLessThan(250 * 2 ** 20);
      }
      unlinkSync(big);
    },
    120_000,
  );

  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});

describe('tusk encode / decode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tusk-spool-'));
  const file = join(dir, 'blob.bin');
  const data = new Uint8Array(200_001).map((_, i) => (i * 7919 + (i >> 8)) & 0xff);
  writeFileSync(file, data);
  const spool = join(dir, 'spool');

  it('encode writes the documented layout and prints the blob ID', async () => {
    const r = await tusk(['encode', file, '--n-shards', '10', '--out', spool, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ blobId: blobIdToBase64Url(officialBlobId(data, 10)), nShards: 10, slivers: 20, out: spool });
    expect(readdirSync(spool).sort()).toEqual(['blob.json', 'metadata.bcs', 'primary', 'secondary']);
    expect(readdirSync(join(spool, 'primary'))).toHaveLength(10);
    expect(JSON.parse(readFileSync(join(spool, 'blob.json'), 'utf8')).blobId).toBe(j.blobId);
    const again = await tusk(['encode', file, '--n-shards', '10', '--out', spool]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
  });

  it('decode rebuilds the file from what is left, warning about bad slivers', async () => {
    // n = 10: k_p = 4. Keep primary slivers 5…9, corrupt 5, delete every secondary sliver.
    for (let i = 0; i < 5; i++) unlinkSync(join(spool, 'primary', `${i}.bcs`));
    for (const f of readdirSync(join(spool, 'secondary'))) unlinkSync(join(spool, 'secondary', f));
    const bad = readFileSync(join(spool, 'primary', '5.bcs'));
    bad[10] ^= 0x40;
    writeFileSync(join(spool, 'primary', '5.bcs'), bad);
    const out = join(dir, 'decoded.bin');
    const r = await tusk(['decode', spool, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: ignoring primary sliver 5: Merkle root/);
    expect(readFileSync(out)).toEqual(Buffer.from(data));
  });

  it('decode fails cleanly, leaving no output, when too few slivers remain', async () => {
    unlinkSync(join(spool, 'primary', '6.bcs'));
    const out = join(dir, 'never.bin');
    const r = await tusk(['decode', spool, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not enough valid slivers/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});

describe('tusk with --encoding rs8', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tusk-rs8-'));
  const file = join(dir, 'blob.bin');
  const data = new Uint8Array(50_001).map((_, i) => (i * 131 + 7) & 0xff);
  writeFileSync(file, data);

  it('blob-id, encode and decode round-trip; a committee too large for GF(2^8) is a clear error', async () => {
    const id = await tusk(['blob-id', file, '--encoding', 'rs8', '--n-shards', '31', '--json']);
    expect(id.code).toBe(0);
    expect(JSON.parse(id.stdout)).toMatchObject({ encodingType: 'RS8', nShards: 31, symbolSize: 217 }); // ⌈50001 / (11·21)⌉, odd: alignment 1;
    const spool = join(dir, 'spool');
    const enc = await tusk(['encode', file, '--encoding', 'rs8', '--n-shards', '31', '--out', spool]);
    expect(enc.stdout.trim()).toBe(JSON.parse(id.stdout).blobId);
    for (let i = 0; i < 11; i++) unlinkSync(join(spool, 'primary', `${i}.bcs`));
    const out = join(dir, 'out.bin');
    expect((await tusk(['decode', spool, '--out', out])).code).toBe(0);
    expect(readFileSync(out)).toEqual(Buffer.from(data));
    const tooBig = await tusk(['blob-id', file, '--encoding', 'rs8', '--n-shards', '1000']);
    expect(tooBig.code).toBe(2);
    expect(tooBig.stderr).toMatch(/--n-shards must be an integer in 4…195 for RS8/);
    const unknown = await tusk(['blob-id', file, '--encoding', 'rs3']);
    expect(unknown.stderr).toMatch(/unknown encoding/);
    expect(unknown.code).toBe(2);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});

describe('tusk encode --force replaces only a sliver directory (issue 22 item 4)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tusk-force-'));
  const file = join(dir, 'blob.bin');
  writeFileSync(
    file,
    new Uint8Array(30_000).map((_, i) => i & 0xff),
  );

  it('refuses a directory holding anything else, and leaves it untouched', async () => {
    const home = join(dir, 'home');
    mkdirSync(join(home, 'docs'), { recursive: true });
    writeFileSync(join(home, 'docs', 'thesis.txt'), 'precious');
    writeFileSync(join(home, 'metadata.bcs'), 'looks like a layout file');
    const r = await tusk(['encode', file, '--n-shards', '10', '--out', home, '--force']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/home is not a sliver directory \(it holds docs\); refusing to replace it/);
    expect(readFileSync(join(home, 'docs', 'thesis.txt'), 'utf8')).toBe('precious');
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-') || f.includes('.old-'))).toEqual([]);
    // A stray file among the slivers is not part of the layout either.
    const spool = join(dir, 'spool');
    expect((await tusk(['encode', file, '--n-shards', '10', '--out', spool])).code).toBe(0);
    writeFileSync(join(spool, 'primary', 'notes.txt'), 'mine');
    const stray = await tusk(['encode', file, '--n-shards', '10', '--out', spool, '--force']);
    expect(stray.code).toBe(1);
    expect(stray.stderr).toMatch(/it holds primary\/notes\.txt/);
    expect(existsSync(join(spool, 'primary', 'notes.txt'))).toBe(true);
    // A file is not replaced by a directory.
    const plain = join(dir, 'plain.txt');
    writeFileSync(plain, 'x');
    expect((await tusk(['encode', file, '--n-shards', '10', '--out', plain, '--force'])).stderr).toMatch(/not a directory/);
    expect(readFileSync(plain, 'utf8')).toBe('x');
  });

  it('replaces an earlier encoding (even a partial one)', async () => {
    const spool = join(dir, 'again');
    expect((await tusk(['encode', file, '--n-shards', '10', '--out', spool])).code).toBe(0);
    unlinkSync(join(spool, 'blob.json'));
    for (const f of readdirSync(join(spool, 'secondary'))) unlinkSync(join(spool, 'secondary', f));
    const r = await tusk(['encode', file, '--n-shards', '12', '--out', spool, '--force', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(spool, 'secondary'))).toHaveLength(12);
    expect(JSON.parse(readFileSync(join(spool, 'blob.json'), 'utf8')).nShards).toBe(12);
    expect(readdirSync(dir).filter((f) => f.includes('.old-') || f.includes('.tmp-'))).toEqual([]);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});

describe('tusk decode --out: devices, FIFOs, links and stdout are written in place (issue 22 item 5)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tusk-out-'));
  const file = join(dir, 'blob.bin');
  const data = new Uint8Array(40_000).map((_, i) => (i * 13 + 1) & 0xff);
  writeFileSync(file, data);
  const spool = join(dir, 'spool');

  it('a FIFO stays a FIFO and receives the blob', async () => {
    expect((await tusk(['encode', file, '--n-shards', '10', '--out', spool])).code).toBe(0);
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = new Promise<Buffer>((res, rej) => {
      const chunks: Buffer[] = [];
      createReadStream(fifo)
        .on('data', (c) => chunks.push(c as Buffer))
        .on('end', () => res(Buffer.concat(chunks)))
        .on('error', rej);
    });
    const r = await tusk(['decode', spool, '--out', fifo, '--force']);
    expect(r.code, r.stderr).toBe(0);
    expect(Buffer.compare(await reader, Buffer.from(data))).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('a symbolic link stays a link; its target is written through (with --force when it exists)', async () => {
    const target = join(dir, 'target.bin');
    const link = join(dir, 'link.bin');
    symlinkSync(target, link);
    expect((await tusk(['decode', spool, '--out', link])).code).toBe(0); // dangling: created through the link
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(Buffer.compare(readFileSync(target), Buffer.from(data))).toBe(0);
    const refused = await tusk(['decode', spool, '--out', link]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/already exists \(use --force/);
    writeFileSync(target, 'old');
    expect((await tusk(['decode', spool, '--out', link, '--force'])).code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(Buffer.compare(readFileSync(target), Buffer.from(data))).toBe(0);
  });

  it('a character device stays one; - and /dev/stdout write to stdout', async () => {
    // Our own null device, never the machine's /dev/null: a build without the fix, run as root,
    // would replace it with a file. Creating one needs root; the FIFO above covers the rest.
    if (process.getuid?.() === 0) {
      const dev = join(dir, 'null-device');
      execFileSync('mknod', ['-m', '666', dev, 'c', '1', '3']);
      expect((await tusk(['decode', spool, '--out', dev, '--force'])).code).toBe(0);
      expect(lstatSync(dev).isCharacterDevice()).toBe(true);
    }
    for (const out of ['-', '/dev/stdout']) {
      const raw = execFileSync(process.execPath, [TUSK_BIN, 'decode', spool, '--out', out], {
        maxBuffer: 1 << 20,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      expect(Buffer.compare(raw, Buffer.from(data))).toBe(0);
    }
    // --json and the blob cannot share stdout.
    expect((await tusk(['decode', spool, '--out', '-', '--json'])).code).toBe(2);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});

describe('usage errors, JSON errors and exit codes (issue 22 items 10 and 15)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tusk-usage-'));
  const file = join(dir, 'blob.bin');
  writeFileSync(file, new Uint8Array(1000));

  it('a usage error is one line and a pointer to --help, exit 2; unknown options of a command are errors', async () => {
    for (const args of [
      ['blob-id', file, '--out', 'x'],
      ['blob-id', file, '--n-shards', '70000'],
      ['blob-id', file, '--n-shards', '3'],
      ['decode', dir, '--epochs', '3'],
      ['frobnicate'],
    ]) {
      const r = await tusk(args);
      expect(r.code, args.join(' ')).toBe(2);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, args.join(' ')).toHaveLength(2);
      expect(lines[0]).toMatch(/^tusk: /);
      expect(lines[1]).toMatch(/^Run 'tusk (\w[\w-]* )?--help' for usage\.$/);
    }
    expect((await tusk(['blob-id', file, '--out', 'x'])).stderr).toMatch(/blob-id: unknown option --out/);
    const help = await tusk(['encode', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/encode <file> --out <dir>/);
  });

  it('with --json, errors are a JSON object on stdout too; file errors read "<path>: <what>"', async () => {
    const usage = await tusk(['blob-id', file, '--encoding', 'rs3', '--json']);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toEqual({
      error: { kind: 'usage', message: expect.stringMatching(/unknown encoding "rs3"/), retryable: false, exitCode: 2 },
    });
    const missing = join(dir, 'missing.bin');
    const r = await tusk(['blob-id', missing, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error).toMatchObject({ kind: 'file', message: `${missing}: no such file or directory` });
    expect(r.stderr).toBe(`tusk: ${missing}: no such file or directory\n`);
    const enc = await tusk(['encode', missing, '--out', join(dir, 'o')]);
    expect(enc.stderr).toBe(`tusk: ${missing}: no such file or directory\n`);
  });

  it('Ctrl-C (SIGINT) stops an encode with exit code 130 and removes its temporary files', async () => {
    const big = join(dir, 'big.bin');
    writeFileSync(
      big,
      new Uint8Array(96 * 2 ** 20).map((_, i) => i & 0xff),
    );
    const child = spawn(process.execPath, [TUSK_BIN, 'encode', big, '--n-shards', '100', '--out', join(dir, 'big-spool')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (c) => (stderr += c));
    // Once the temporary output folder exists, the encode (and its Ctrl-C handling) is under way.
    const started = Date.now();
    while (!readdirSync(dir).some((f) => f.startsWith('.big-spool.tmp-')) && Date.now() - started < 60_000)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/interrupted/);
    expect(readdirSync(dir).filter((f) => f.includes('big-spool'))).toEqual([]);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});
