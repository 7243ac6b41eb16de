/**
 * The client CLI as a user runs it: `tusk dev` in one process (chain + 4 node processes), then
 * `tusk store / read / blob-status / list-blobs / info / extend / delete / stake` as separate
 * processes against the config it wrote; Ctrl-C (SIGINT) stops the network cleanly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, mkdirSync, readdirSync, lstatSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createInterface } from 'node:readline';
import { officialBlobId, blobIdToBase64Url } from '../helpers/official.ts';
import { runTusk, TUSK_BIN } from '../helpers/cli.ts';
import { RemoteChain } from '../../src/chain/remote/client.ts';
import { randomBytes } from '../helpers/blobs.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'tusk-cli-net-'));
const config = join(dir, 'client.json');
let dev: ChildProcess;
let devInfo: { chainUrl: string; nodes: { nodeId: string }[]; walletAddress: string };

const tusk = runTusk;

beforeAll(async () => {
  dev = spawn(
    process.execPath,
    [TUSK_BIN, 'dev', '--data-dir', join(dir, 'net'), '--nodes', '4', '--n-shards', '20', '--config', config, '--json'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((res, rej) => {
    createInterface({ input: dev.stdout! }).once('line', res);
    dev.once('exit', (c) => rej(new Error(`tusk dev exited with ${c}`)));
  });
  devInfo = JSON.parse(line);
}, 180_000);

afterAll(async () => {
  if (dev && dev.exitCode === null) {
    dev.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('tusk client commands against tusk dev', () => {
  const file = join(dir, 'hello.bin');
  const data = randomBytes(70_000, 3);
  writeFileSync(file, data);
  let blobId = '';
  let objectId = '';

  it('store prints one JSON object with the official blob ID', async () => {
    const r = await tusk(['store', file, '--epochs', '3', '--config', config, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { blobs } = JSON.parse(r.stdout);
    expect(blobs).toHaveLength(1);
    const out = blobs[0];
    expect(out.blobId).toBe(blobIdToBase64Url(officialBlobId(data, 20)));
    expect(out.deletable).toBe(true);
    expect(BigInt(out.cost)).toBeGreaterThan(0n);
    blobId = out.blobId;
    objectId = out.blobObjectId;
  });

  it('read writes the same bytes to a file, and to stdout', async () => {
    const out = join(dir, 'back.bin');
    const r = await tusk(['read', blobId, '--out', out, '--config', config, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).size).toBe(data.length);
    expect(Buffer.compare(readFileSync(out), data)).toBe(0);
    const raw = await run(process.execPath, [TUSK_BIN, 'read', blobId, '--config', config], { encoding: 'buffer', maxBuffer: 64 << 20 });
    expect(Buffer.compare(raw.stdout, data)).toBe(0);
  });

  it('blob-status, list-blobs and info report the stored blob and the network', async () => {
    const s = JSON.parse((await tusk(['blob-status', blobId, '--config', config, '--json'])).stdout);
    expect(s.status).toBe('deletable');
    const l = JSON.parse((await tusk(['list-blobs', '--config', config, '--json'])).stdout);
    expect(l.blobs.map((b: { objectId: string }) => b.objectId)).toContain(objectId);
    const i = JSON.parse((await tusk(['info', '--config', config, '--json'])).stdout);
    expect(i.nShards).toBe(20);
    expect(i.committee).toHaveLength(4);
  });

  it('extend, stake and delete change the chain; errors go to stderr with exit 1', async () => {
    const e = await tusk(['extend', '--blob-obj-id', objectId, '--epochs', '2', '--config', config, '--json']);
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).endEpoch).toBeGreaterThanOrEqual(6);
    const st = await tusk(['stake', '--node-id', devInfo.nodes[0].nodeId, '--amount', '5', '--config', config, '--json']);
    expect(st.code, st.stderr).toBe(0);
    expect(JSON.parse(st.stdout).amount).toBe('5000000000');
    const d = await tusk(['delete', '--blob-obj-id', objectId, '--config', config, '--json']);
    expect(d.code, d.stderr).toBe(0);
    const again = await tusk(['delete', '--blob-obj-id', objectId, '--config', config, '--json']);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout).error).toMatchObject({ kind: 'failed', retryable: false, exitCode: 1 });
    expect(again.stderr).toMatch(/^tusk: [^\n]*\n$/);
    const s = JSON.parse((await tusk(['blob-status', blobId, '--config', config, '--json'])).stdout);
    expect(s.status).toBe('nonexistent');
  });

  it('usage errors exit 2; a missing config is a clear error', async () => {
    expect((await tusk(['store', file, '--config', config])).code).toBe(2); // no --epochs
    const r = await tusk(['info', '--config', join(dir, 'nope.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nope\.json.*not found/);
  });

  it('epochs, IDs and options are checked against their real ranges before any work; exit 2 (item 10)', async () => {
    const max = JSON.parse((await tusk(['info', '--config', config, '--json'])).stdout).maxEpochsAhead as number;
    for (const epochs of ['0', '1.5', '99999999999', String(max + 1)]) {
      const r = await tusk(['store', file, '--epochs', epochs, '--config', config]);
      expect(r.code, epochs).toBe(2);
      expect(r.stderr).toBe(
        `tusk: --epochs must be an integer in 1…${max} (epochs ahead, as this chain allows), got "${epochs}"\nRun 'tusk store --help' for usage.\n`,
      );
    }
    for (const args of [
      ['read', 'not-a-blob-id'],
      ['blob-status', 'x'.repeat(43)],
      ['delete', '--blob-obj-id', '0x12'],
      ['stake', '--node-id', 'abc', '--amount', '1'],
      ['info', '--epochs', '3'],
      ['read', blobId, '--permanent'],
    ]) {
      const r = await tusk([...args, '--config', config]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(2);
    }
    const dev1s = await tusk(['dev', '--data-dir', join(dir, 'never'), '--epoch-duration', '1s']);
    expect(dev1s.code).toBe(2);
    expect(dev1s.stderr).toMatch(/--epoch-duration must be at least 5 s/);
  });

  it('store prints one JSON shape for one file or many (item 15)', async () => {
    const a = join(dir, 'a.bin'),
      b = join(dir, 'b.bin');
    writeFileSync(a, randomBytes(1000, 11));
    writeFileSync(b, randomBytes(2000, 12));
    const one = JSON.parse((await tusk(['store', a, '--epochs', '2', '--config', config, '--json'])).stdout);
    const two = JSON.parse((await tusk(['store', a, b, '--epochs', '2', '--config', config, '--json'])).stdout);
    expect(Object.keys(one)).toEqual(['blobs']);
    expect(Object.keys(two)).toEqual(['blobs']);
    expect(Object.keys(one.blobs[0])).toEqual(Object.keys(two.blobs[1]));
    expect(two.blobs.map((x: { size: number }) => x.size)).toEqual([1000, 2000]);
    const live = JSON.parse((await tusk(['store', liveFile, '--epochs', '3', '--config', config, '--json'])).stdout).blobs[0];
    liveId = live.blobId;
  });

  // A live blob for the read tests (`blobId` above was deleted).
  const liveFile = join(dir, 'live.bin');
  const liveData = randomBytes(70_000, 21);
  writeFileSync(liveFile, liveData);
  let liveId = '';

  it('read --out: a FIFO, /dev/null and - are written in place; stdout is streamed (items 5, 12)', async () => {
    const fifo = join(dir, 'read.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = new Promise<Buffer>((res, rej) => {
      const chunks: Buffer[] = [];
      createReadStream(fifo)
        .on('data', (c) => chunks.push(c as Buffer))
        .on('end', () => res(Buffer.concat(chunks)))
        .on('error', rej);
    });
    const r = await tusk(['read', liveId, '--out', fifo, '--force', '--config', config]);
    expect(r.code, r.stderr).toBe(0);
    expect(Buffer.compare(await reader, Buffer.from(liveData))).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    // A character device: our own null device (never the machine's /dev/null: a build without
    // the fix, run as root, would replace it). Creating one needs root; the FIFO covers the rest.
    if (process.getuid?.() === 0) {
      const dev = join(dir, 'null-device');
      execFileSync('mknod', ['-m', '666', dev, 'c', '1', '3']);
      expect((await tusk(['read', liveId, '--out', dev, '--force', '--config', config])).code).toBe(0);
      expect(lstatSync(dev).isCharacterDevice()).toBe(true);
    }
    const dash = await run(process.execPath, [TUSK_BIN, 'read', liveId, '--out', '-', '--config', config], {
      encoding: 'buffer',
      maxBuffer: 64 << 20,
    });
    expect(Buffer.compare(dash.stdout, Buffer.from(liveData))).toBe(0);
  });

  it('read refuses binary data to a terminal without --out -, and --json inlines only small blobs (item 12)', async () => {
    const big = join(dir, 'big.bin');
    writeFileSync(big, randomBytes(2 ** 20 + 1, 13));
    const stored = JSON.parse((await tusk(['store', big, '--epochs', '2', '--config', config, '--json'])).stdout).blobs[0];
    const inline = await tusk(['read', stored.blobId, '--json', '--config', config]);
    expect(inline.code).toBe(2);
    // A reader that goes away early (`| head`; the blob is larger than a pipe's buffer) ends the read quietly, as for cat: 128 + SIGPIPE.
    const head = spawnSync(
      'bash',
      ['-c', `${process.execPath} ${TUSK_BIN} read ${stored.blobId} --config ${config} | head -c 10 >/dev/null; echo "$\{PIPESTATUS[0]}"`],
      { encoding: 'utf8' },
    );
    expect(head.stdout.trim()).toBe('141');
    expect(head.stderr).toBe('');
    expect(JSON.parse(inline.stdout).error.message).toMatch(
      /is 1048577 bytes, more than the 1048576 bytes --json inlines; use --out <file>/,
    );
    const small = JSON.parse((await tusk(['read', liveId, '--json', '--config', config])).stdout);
    expect(Buffer.from(small.base64, 'base64').equals(Buffer.from(liveData))).toBe(true);
    // A real terminal: script(1) runs the command on a pseudo-terminal.
    const cmd = (extra: string) => `${process.execPath} ${TUSK_BIN} read ${liveId} --config ${config} ${extra}`;
    const onTty = spawnSync('script', ['-qec', cmd(''), '/dev/null'], { encoding: 'latin1', maxBuffer: 64 << 20 });
    expect(onTty.status).toBe(2);
    expect(onTty.stdout).toMatch(/is binary data \(70000 bytes\); not writing it to a terminal/);
    const forced = spawnSync('script', ['-qec', cmd('--out -'), '/dev/null'], { encoding: 'latin1', maxBuffer: 64 << 20 });
    expect(forced.status).toBe(0);
    expect(forced.stdout.length).toBeGreaterThanOrEqual(70_000);
  }, 300_000);

  it('reads of missing, deleted and expired blobs say which, from the chain, in one line; expired blobs can be burnt (items 11, 15)', async () => {
    const missing = 'A'.repeat(43);
    const m = await tusk(['read', missing, '--config', config]);
    expect(m.code).toBe(1);
    expect(m.stderr).toBe(`tusk: blob ${missing} does not exist: no Blob object on chain carries it (never stored, or burnt)\n`);
    // `blobId` was deleted by the test above.
    const d = await tusk(['read', blobId, '--out', join(dir, 'deleted.bin'), '--config', config]);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(
      new RegExp(`^tusk: blob ${blobId} was deleted at epoch \\d+ \\(no Blob object on chain carries it any more\\)\n$`),
    );
    // Stored for 1 epoch (or into the storage `delete` returned, which store reuses: it may end
    // later), then epochs end until its end epoch: expired.
    const f = join(dir, 'short.bin');
    writeFileSync(f, randomBytes(3000, 14));
    const s = JSON.parse((await tusk(['store', f, '--epochs', '1', '--config', config, '--json'])).stdout).blobs[0];
    const remote = new RemoteChain({ url: devInfo.chainUrl });
    while ((await remote.systemState()).epoch < s.endEpoch) {
      await remote.advanceEpoch().catch(() => new Promise((r) => setTimeout(r, 500))); // an epoch change still in progress
    }
    const e = await tusk(['read', s.blobId, '--config', config]);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(
      new RegExp(
        `^tusk: blob ${s.blobId} expired at epoch ${s.endEpoch} \\(current epoch ${s.endEpoch}\\); its slivers are no longer kept\n$`,
      ),
    );
    const status = await tusk(['blob-status', s.blobId, '--config', config]);
    expect(status.stdout).toMatch(new RegExp(`: expired at epoch ${s.endEpoch} \\(current epoch`));
    expect(JSON.parse((await tusk(['blob-status', s.blobId, '--config', config, '--json'])).stdout)).toMatchObject({
      status: 'expired',
      expiredEpoch: s.endEpoch,
    });
    const burn = await tusk(['burn-blobs', '--all-expired', '--yes', '--config', config, '--json']);
    expect(burn.code, burn.stderr).toBe(0);
    expect(JSON.parse(burn.stdout).burned).toContain(s.blobObjectId);
    const l = JSON.parse((await tusk(['list-blobs', '--include-expired', '--config', config, '--json'])).stdout);
    expect(l.blobs.map((b: { objectId: string }) => b.objectId)).not.toContain(s.blobObjectId);
  }, 300_000);

  it('a read sweeps the temporary folders of reads that were killed (item 15)', async () => {
    const tmp = mkdtempSync(join(dir, 'tmp-'));
    // A PID that is not running (checked), and this test's own (running).
    let dead = 4_000_000;
    while (isAlive(dead)) dead++;
    mkdirSync(join(tmp, `tusk-read-${dead}-abcdef`, 'primary'), { recursive: true });
    writeFileSync(join(tmp, `tusk-read-${dead}-abcdef`, 'primary', '0.bcs'), 'left by a killed read');
    mkdirSync(join(tmp, `tusk-read-${process.pid}-ghijkl`));
    const r = await tusk(['read', 'A'.repeat(43), '--config', config], { env: { TMPDIR: tmp } });
    expect(r.code).toBe(1);
    expect(readdirSync(tmp).sort()).toEqual([`tusk-read-${process.pid}-ghijkl`]);
  });

  it('a blob whose ID starts with "-" is stored, read and looked up by that ID (CI met one)', async () => {
    // One blob ID in 64 starts with '-'; option parsers must not take it for an option.
    let seed = 1;
    let bytes = randomBytes(2_000, seed);
    while (!blobIdToBase64Url(officialBlobId(bytes, 20)).startsWith('-')) bytes = randomBytes(2_000, ++seed);
    const f = join(dir, 'dash.bin');
    writeFileSync(f, bytes);
    const s = await tusk(['store', f, '--epochs', '2', '--config', config, '--json']);
    expect(s.code, s.stderr).toBe(0);
    const id = JSON.parse(s.stdout).blobs[0].blobId as string;
    expect(id.startsWith('-')).toBe(true);
    const out = join(dir, 'dash-back.bin');
    const r = await tusk(['read', id, '--out', out, '--config', config]);
    expect(r.code, r.stderr).toBe(0);
    expect(Buffer.compare(readFileSync(out), bytes)).toBe(0);
    const st = await tusk(['blob-status', id, '--config', config, '--json']);
    expect(st.code, st.stderr).toBe(0);
    expect(JSON.parse(st.stdout).status).toBe('deletable');
    for (const form of [['--blob-id', id], [`--blob-id=${id}`]]) {
      const l = await tusk(['list-blobs', ...form, '--config', config, '--json']);
      expect(l.code, l.stderr).toBe(0);
      expect(JSON.parse(l.stdout).blobs.map((b: { blobId: string }) => b.blobId)).toEqual([id]);
    }
  });

  it('Ctrl-C stops the network cleanly', async () => {
    const exited = new Promise<number | null>((res) => dev.once('exit', (c) => res(c)));
    dev.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 60_000);

  it('a restart neither re-funds the wallet silently nor drops --config from its hints (item 15)', async () => {
    const again = spawn(process.execPath, [TUSK_BIN, 'dev', '--data-dir', join(dir, 'net'), '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '',
      stderr = '';
    again.stderr!.on('data', (c) => (stderr += c));
    try {
      await new Promise<void>((res, rej) => {
        again.stdout!.on('data', (c) => {
          stdout += c;
          if (/Ctrl-C stops/.test(stdout)) res();
        });
        again.once('exit', (c) => rej(new Error(`tusk dev exited with ${c}: ${stderr}`)));
      });
      expect(stdout).toMatch(new RegExp(`try: tusk store <file> --epochs 5 --config ${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `));
      expect(stdout).toMatch(/tusk read <blobId> --out <file> --config /);
      expect(stderr).toMatch(/not topped up on a restart/);
      const balance = BigInt(
        JSON.parse((await tusk(['chain', 'balance', devInfo.walletAddress, '--url', devInfo.chainUrl, '--json'])).stdout).balance,
      );
      expect(balance).toBeLessThan(1000n * 10n ** 9n); // the stores above were paid for, and not refunded
    } finally {
      const exited = new Promise<number | null>((res) => again.once('exit', (c) => res(c)));
      again.kill('SIGINT');
      await exited;
    }
  }, 120_000);
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
