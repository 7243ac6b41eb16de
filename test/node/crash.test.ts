/**
 * Crash safety of the storage node, through the real CLI in a child process (`tusk node run`
 * against a chain served over HTTP): kill -9 the node during a burst of uploads; after a restart
 * every acknowledged sliver (201/200) reads back byte for byte and verifies against the metadata,
 * and every sliver the node reports as stored verifies too (nothing half-written). Also: SIGTERM
 * stops the node cleanly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { LocalChain } from '../../src/chain/local/index.ts';
import { startChainServer } from '../../src/chain/remote/server.ts';
import { encodeBlob, type EncodedBlob } from '../../src/codec/encode.ts';
import { EncodingConfig } from '../../src/codec/config.ts';
import { SliverData, type SliverAxis } from '../../src/codec/sliver.ts';
import { verifySlivers } from '../../src/codec/verify.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { call, put, tempDir } from './helpers.ts';

const nShards = 10;
const root = new URL('../../', import.meta.url).pathname;
const nodeBin = join(root, 'node_modules/.bin/node');
const tuskBin = join(root, 'bin/tusk.js');

let tmp: ReturnType<typeof tempDir>;
let chain: LocalChain;
let server: Awaited<ReturnType<typeof startChainServer>>;
const user = Ed25519Keypair.generate();

beforeAll(async () => {
  tmp = tempDir();
  chain = await LocalChain.open({ path: join(tmp.dir, 'chain.sqlite'), nShards });
  server = await startChainServer({ chain, host: '127.0.0.1', port: 0 });
  await chain.requestFaucet(user.toSuiAddress(), 1_000_000n * 1_000_000_000n);
});

afterAll(async () => {
  await server?.close();
  await chain?.close();
  tmp?.remove();
});

/** Starts `tusk node run` and resolves with its ready line once it prints one. */
function startNodeProcess(dataDir: string): Promise<{ child: ChildProcess; url: string; nodeId: string; stderr: () => string }> {
  const child = spawn(nodeBin, [tuskBin, 'node', 'run', '--data-dir', dataDir, '--chain-url', server.url, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node did not start: ${err}`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code}: ${err}`));
    });
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      child.removeAllListeners('exit');
      const info = JSON.parse(line);
      resolve({ child, url: info.url, nodeId: info.nodeId, stderr: () => err });
    });
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

async function until(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('crash safety', () => {
  it('kill -9 during a burst of uploads loses no acknowledged sliver and leaves none corrupt', async () => {
    const dataDir = join(tmp.dir, 'node-crash');
    let node = await startNodeProcess(dataDir);
    await chain.advanceEpoch(); // the node becomes the whole committee (all 10 shards)
    await until(
      'the node to hold its shards',
      async () => (await call(`${node.url}/v1/health`)).json?.success?.data?.shardSummary?.owned === nShards,
    );

    const cfg = new EncodingConfig(nShards);
    const blobs: EncodedBlob[] = [];
    for (let i = 0; i < 4; i++) {
      const blob = encodeBlob(randomBytes(60_000 + i * 1000, 100 + i), { nShards });
      await chain.registerBlob(user, {
        storage: { size: cfg.encodedBlobLength(blob.unencodedLength), epochsAhead: 3 },
        blobId: blob.blobId,
        rootHash: blob.rootHash,
        size: blob.unencodedLength,
        encodingType: 1,
        deletable: false,
      });
      blobs.push(blob);
    }
    for (const b of blobs) {
      await until(
        'registration',
        async () => (await call(`${node.url}/v1/blobs/${b.blobIdString}/status`)).json?.success?.data !== 'nonexistent',
      );
      expect((await put(`${node.url}/v1/blobs/${b.blobIdString}/metadata`, new Uint8Array(b.metadata.toBcs()))).status).toBe(201);
    }

    // The burst: every sliver of every blob, 8 in flight; kill -9 once 25 are acknowledged.
    const jobs = blobs.flatMap((b) =>
      b.pairs.flatMap((p) =>
        (['primary', 'secondary'] as SliverAxis[]).map((axis) => ({ b, pair: p.index, axis, bcs: new Uint8Array(p[axis].toBcs()) })),
      ),
    );
    const acked: typeof jobs = [];
    let killed = false;
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const j = jobs[next++];
        try {
          const r = await put(`${node.url}/v1/blobs/${j.b.blobIdString}/slivers/${j.pair}/${j.axis}`, j.bcs);
          if (r.status === 201 || r.status === 200) acked.push(j);
          else expect.unreachable(`unexpected ${r.status} ${JSON.stringify(r.json)}`);
        } catch {
          expect(killed).toBe(true); // only the kill may break a request
        }
        if (!killed && acked.length >= 25) {
          killed = true;
          node.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(killed).toBe(true);
    expect((await exited(node.child)).signal).toBe('SIGKILL');
    expect(acked.length).toBeGreaterThanOrEqual(25);
    expect(acked.length).toBeLessThan(jobs.length);

    node = await startNodeProcess(dataDir);
    try {
      for (const j of acked) {
        const r = await call(`${node.url}/v1/blobs/${j.b.blobIdString}/slivers/${j.pair}/${j.axis}`);
        expect(r.status).toBe(200);
        expect(r.bytes).toEqual(j.bcs);
      }
      // Whatever the node reports as stored (acknowledged or not) verifies against the metadata.
      for (const b of blobs) {
        const stored: SliverData[] = [];
        for (const p of b.pairs) {
          for (const axis of ['primary', 'secondary'] as const) {
            const r = await call(`${node.url}/v1/blobs/${b.blobIdString}/slivers/${p.index}/${axis}`);
            if (r.status === 200) stored.push(SliverData.fromBcs(axis, r.bytes));
            else expect(r.status).toBe(404);
          }
        }
        expect(verifySlivers(cfg, b.metadata, stored).every((e) => e === null)).toBe(true);
      }
      // The node resumes normally: the rest of the uploads succeed and a confirmation follows.
      for (const j of jobs) {
        const r = await put(`${node.url}/v1/blobs/${j.b.blobIdString}/slivers/${j.pair}/${j.axis}`, j.bcs);
        expect([200, 201]).toContain(r.status);
      }
      expect((await call(`${node.url}/v1/blobs/${blobs[0].blobIdString}/confirmation/permanent`)).status).toBe(200);
    } finally {
      node.child.kill('SIGTERM');
      const end = await exited(node.child);
      expect(end.code, node.stderr()).toBe(0);
    }
  });
});

describe('tusk node CLI', () => {
  const run = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(nodeBin, [tuskBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '',
        stderr = '';
      child.stdout!.on('data', (d) => (stdout += d));
      child.stderr!.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });

  it('usage errors (also a malformed --stake) exit 2; an unreachable chain exits 1 with one error line', async () => {
    let r = await run(['node', 'run', '--chain-url', 'http://127.0.0.1:9']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/node run needs --data-dir/);
    r = await run(['node', 'run', '--data-dir', join(tmp.dir, 'cli-x'), '--chain-url', 'http://127.0.0.1:9', '--stake', 'lots']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--stake must be a WAL amount/);
    r = await run(['node', 'serve']);
    expect(r.code).toBe(2);
    r = await run(['node', 'run', '--data-dir', join(tmp.dir, 'cli-y'), '--chain-url', 'http://127.0.0.1:9', '--json']);
    expect(r.code).toBe(1);
    // With --json the error is also one JSON object on stdout (issue 22, item 15).
    expect(JSON.parse(r.stdout).error).toMatchObject({ kind: 'failed', retryable: true, exitCode: 1 });
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--chain-wait: a node started while its chain is down waits for it, then starts (found by the soak)', async () => {
    // A chain that is down for the first seconds: a server started late on a port fixed up front.
    const late = await LocalChain.open({ path: join(tmp.dir, 'late-chain.sqlite'), nShards });
    const probe = await startChainServer({ chain: late, host: '127.0.0.1', port: 0 });
    const url = probe.url;
    const port = Number(new URL(url).port);
    await probe.close();
    const child = spawn(
      nodeBin,
      [tuskBin, 'node', 'run', '--data-dir', join(tmp.dir, 'waiter'), '--chain-url', url, '--chain-wait', '60', '--json'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const ready = new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`node exited with ${code}: ${stderr}`)));
    });
    let server: Awaited<ReturnType<typeof startChainServer>> | undefined;
    try {
      // The node says it is waiting (a second or so after its first attempt) and stays up.
      for (let t = 0; !/waiting for the chain/.test(stderr); t++) {
        expect(child.exitCode).toBeNull();
        if (t > 600) throw new Error(`the node never said it waits: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      server = await startChainServer({ chain: late, host: '127.0.0.1', port });
      const line = JSON.parse(await ready);
      expect(line.url).toMatch(/^http:/);
      expect(stderr).toMatch(/reachable again/);
    } finally {
      child.kill('SIGKILL');
      await exited(child);
      await server?.close();
      await late.close();
    }
    // And a bad value is a usage error.
    const r = await run(['node', 'run', '--data-dir', join(tmp.dir, 'cli-z'), '--chain-url', url, '--chain-wait', 'soon']);
    expect(r.code).toBe(2);
  }, 90_000);
});
