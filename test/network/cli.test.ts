/**
 * The client CLI as a user runs it: `tusk dev` in one process (chain + 4 node processes), then
 * `tusk store / read / blob-status / list-blobs / info / extend / delete / stake` as separate
 * processes against the config it wrote; Ctrl-C (SIGINT) stops the network cleanly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createInterface } from 'node:readline';
import { officialBlobId, blobIdToBase64Url } from '../helpers/official.ts';
import { runTusk, TUSK_BIN } from '../helpers/cli.ts';
import { randomBytes } from '../helpers/blobs.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'tusk-cli-net-'));
const config = join(dir, 'client.json');
let dev: ChildProcess;
let devInfo: { chainUrl: string; nodes: { nodeId: string }[]; walletAddress: string };

const tusk = runTusk;

beforeAll(async () => {
  dev = spawn(process.execPath, [TUSK_BIN, 'dev', '--data-dir', join(dir, 'net'), '--nodes', '4', '--n-shards', '20', '--config', config, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
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
    const out = JSON.parse(r.stdout);
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
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/^tusk: /);
    const s = JSON.parse((await tusk(['blob-status', blobId, '--config', config, '--json'])).stdout);
    expect(s.status).toBe('nonexistent');
  });

  it('usage errors exit 2; a missing config is a clear error', async () => {
    expect((await tusk(['store', file, '--config', config])).code).toBe(2); // no --epochs
    const r = await tusk(['info', '--config', join(dir, 'nope.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nope\.json.*not found/);
  });

  it('Ctrl-C stops the network cleanly', async () => {
    const exited = new Promise<number | null>((res) => dev.once('exit', (c) => res(c)));
    dev.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 60_000);
});
