/**
 * Storage-node ingest and serving throughput on loopback (`npm run bench:node`).
 *
 * This process runs the chain (LocalChain, in-process) and ONE storage node holding all n shards
 * (its slivers are verified on the codec pool and stored with synchronous=FULL commits). A client
 * in a SEPARATE process encodes one blob (default 256 MiB, n = 1000), the blob is registered on
 * chain, and the client then
 *   1. PUTs the metadata and every sliver the node holds (n primary + n secondary = 2n requests,
 *      `--concurrency` in flight) — verified ingest;
 *   2. GETs every sliver back and checks the bytes — serving.
 * Both phases report MB/s (sliver body bytes) and requests/s. Everything shares this machine's
 * cores (node, its pool workers and the client): the figures are the whole system's.
 *
 *   node bench/node-ingest.ts [--mib 256] [--shards 1000] [--concurrency 16]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { LocalChain } from '../src/chain/local/index.ts';
import { EncodingConfig } from '../src/codec/config.ts';
import { encodeBlobAsync } from '../src/pool/async-codec.ts';
import { closeDefaultPool } from '../src/pool/codec-pool.ts';
import { startStorageNode } from '../src/node/node.ts';
import { argValue, machineLine, makeData, MiB } from './harness.ts';

const argv = process.argv.slice(2);
const mib = Number(argValue(argv, '--mib') ?? 256);
const nShards = Number(argValue(argv, '--shards') ?? 1000);
const concurrency = Number(argValue(argv, '--concurrency') ?? 16);

if (argv[0] === '--client') await client(argv[1]);
else await main();

/** Parent: chain + node; drives the client process over its stdin/stdout. */
async function main(): Promise<void> {
  console.log(`# Tusk storage node ingest/serve, ${mib} MiB blob, n = ${nShards}, ${concurrency} requests in flight — ${machineLine()}`);
  const dir = await mkdtemp(join(tmpdir(), 'tusk-bench-node-'));
  const chain = await LocalChain.open({ path: join(dir, 'chain.sqlite'), nShards });
  const node = await startStorageNode({ chain, dataDir: join(dir, 'node'), eventWaitMs: 20 });
  try {
    await chain.advanceEpoch();
    await node.sync();
    const user = Ed25519Keypair.generate();
    await chain.requestFaucet(user.toSuiAddress(), 10_000_000n * 1_000_000_000n);

    const child = spawn(
      process.execPath,
      [
        new URL(import.meta.url).pathname,
        '--client',
        node.url,
        '--mib',
        String(mib),
        '--shards',
        String(nShards),
        '--concurrency',
        String(concurrency),
      ],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const next = async () => {
      const { value, done } = await lines.next();
      if (done) throw new Error('client exited early');
      return JSON.parse(value as string);
    };
    const encoded = await next();
    console.log(`client encoded the blob in ${encoded.encodeS.toFixed(2)} s: ${encoded.blobId}`);
    const cfg = new EncodingConfig(nShards);
    await chain.registerBlob(user, {
      storage: { size: cfg.encodedBlobLength(encoded.size), epochsAhead: 1 },
      blobId: new Uint8Array(Buffer.from(encoded.blobId, 'base64url')),
      rootHash: new Uint8Array(Buffer.from(encoded.rootHash, 'hex')),
      size: encoded.size,
      encodingType: 1,
      deletable: false,
    });
    await node.sync();
    child.stdin!.write('go\n');
    const r = await next();
    const f = (x: number) => x.toFixed(1);
    console.log(
      `ingest (verified, durable): ${r.ingest.requests} slivers, ${f(r.ingest.bytes / 1e6)} MB in ${r.ingest.seconds.toFixed(2)} s → ${f(r.ingest.bytes / 1e6 / r.ingest.seconds)} MB/s, ${f(r.ingest.requests / r.ingest.seconds)} req/s`,
    );
    console.log(
      `serve: ${r.serve.requests} slivers, ${f(r.serve.bytes / 1e6)} MB in ${r.serve.seconds.toFixed(2)} s → ${f(r.serve.bytes / 1e6 / r.serve.seconds)} MB/s, ${f(r.serve.requests / r.serve.seconds)} req/s; bytes ${r.serve.identical ? 'identical' : 'MISMATCH'}`,
    );
    const conf = await fetch(`${node.url}/v1/blobs/${encoded.blobId}/confirmation/permanent`);
    console.log(`confirmation after ingest: HTTP ${conf.status}`);
    child.stdin!.end();
  } finally {
    await node.close();
    await chain.close();
    await closeDefaultPool();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Client: encodes, waits for "go", uploads everything, reads everything back. */
async function client(url: string): Promise<void> {
  const data = makeData(mib * MiB, 42);
  const t0 = performance.now();
  const blob = await encodeBlobAsync(data, { nShards });
  const encodeS = (performance.now() - t0) / 1000;
  process.stdout.write(
    JSON.stringify({ blobId: blob.blobIdString, rootHash: Buffer.from(blob.rootHash).toString('hex'), size: data.length, encodeS }) + '\n',
  );
  const stdin = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  await stdin.next();
  await closeDefaultPool(); // the node's pool should have the cores from here on

  const base = `${url}/v1/blobs/${blob.blobIdString}`;
  const meta = await fetch(`${base}/metadata`, {
    method: 'PUT',
    body: Buffer.from(blob.metadata.toBcs()),
    headers: { 'content-type': 'application/octet-stream' },
  });
  if (meta.status !== 201) throw new Error(`metadata PUT: ${meta.status} ${await meta.text()}`);
  const jobs = blob.pairs.flatMap((p) =>
    (['primary', 'secondary'] as const).map((axis) => ({ pair: p.index, axis, bcs: p[axis].toBcs() })),
  );

  const run = async (work: (j: (typeof jobs)[number]) => Promise<number>) => {
    let next = 0,
      bytes = 0;
    const t = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < jobs.length) {
          const b = await work(jobs[next++]); // not `bytes += await …`: that reads `bytes` before awaiting
          bytes += b;
        }
      }),
    );
    return { requests: jobs.length, bytes, seconds: (performance.now() - t) / 1000 };
  };
  const ingest = await run(async (j) => {
    for (let attempt = 0; ; attempt++) {
      const r = await fetch(`${base}/slivers/${j.pair}/${j.axis}`, {
        method: 'PUT',
        body: Buffer.from(j.bcs),
        headers: { 'content-type': 'application/octet-stream' },
      });
      const text = await r.text();
      if (r.status === 201) return j.bcs.length;
      // Saturation is an answer, not a failure: back off and retry (counted in the elapsed time).
      if ((r.status === 429 || r.status === 503) && attempt < 100) {
        await new Promise((res) => setTimeout(res, 20));
        continue;
      }
      throw new Error(`PUT ${j.pair}/${j.axis}: ${r.status} ${text}`);
    }
  });
  let identical = true;
  const serve = await run(async (j) => {
    const r = await fetch(`${base}/slivers/${j.pair}/${j.axis}`, { headers: { accept: 'application/octet-stream' } });
    const got = new Uint8Array(await r.arrayBuffer());
    if (r.status !== 200 || !Buffer.from(got).equals(Buffer.from(j.bcs.buffer, j.bcs.byteOffset, j.bcs.byteLength))) identical = false;
    return got.length;
  });
  process.stdout.write(JSON.stringify({ ingest, serve: { ...serve, identical } }) + '\n');
}
