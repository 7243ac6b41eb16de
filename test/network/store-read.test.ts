/**
 * End to end against a real local network: the chain and 4 storage nodes as separate `tusk`
 * processes on loopback (100 shards: f = 33, each node holds 25 shards ≤ f). Stores and reads blobs
 * of 0 B, 1 B, ~1 MiB and ~64 MiB; the blob IDs equal the official encoder's for 100 shards; with
 * a node stopped reads and stores still succeed; a node serving corrupted slivers does not change
 * what a read returns; a node killed mid-upload does not fail the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { DevNetwork } from '../../src/network/dev-network.ts';
import { RemoteChain } from '../../src/chain/remote/client.ts';
import { storeBlob, storeFile } from '../../src/client/store-blob.ts';
import { readBlob } from '../../src/client/read-blob.ts';
import { StorageNodeClient } from '../../src/node-api/client.ts';
import { placeBlob } from '../../src/protocol/placement.ts';
import { blobIdFromString } from '../../src/codec/blob-id.ts';
import type { CodecPool } from '../../src/pool/codec-pool.ts';
import { officialBlobId, blobIdToBase64Url } from '../helpers/official.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { startTestNetwork, type TestNetwork } from './test-network.ts';
import type { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';

const N_SHARDS = 100;
let net: DevNetwork;
let dir: string;
let chain: RemoteChain;
let wallet: Ed25519Keypair;
let pool: CodecPool;

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let testNet: TestNetwork;

beforeAll(async () => {
  testNet = await startTestNetwork('tusk-net-', { nShards: N_SHARDS });
  ({ net, dir, chain, wallet, pool } = testNet);
}, 180_000);

afterAll(() => testNet?.stop());

describe('store and read on a local network of processes', () => {
  it('the network is up: 4 nodes hold 100 shards, the wallet is funded', async () => {
    const state = await chain.systemState();
    expect(state.committee.members).toHaveLength(4);
    expect(state.committee.members.reduce((s, m) => s + m.shards.length, 0)).toBe(N_SHARDS);
    expect(await chain.balance(wallet.toSuiAddress())).toBeGreaterThan(0n);
  });

  for (const [label, size] of [
    ['0 B', 0],
    ['1 B', 1],
    ['~1 MiB', (1 << 20) + 12345],
  ] as const) {
    it(`stores and reads back ${label}; the blob ID is the official encoder's`, async () => {
      const data = randomBytes(size, size + 7);
      const stored = await storeBlob(data, { chain, signer: wallet, epochs: 2, pool });
      expect(stored.blobId).toBe(blobIdToBase64Url(officialBlobId(data, N_SHARDS)));
      const summary = await stored.background;
      expect(summary.confirmedNodes).toBe(4);
      const blob = await chain.getBlob(stored.blobObjectId);
      expect(blob?.certifiedEpoch).not.toBeNull();
      const back = await readBlob(stored.blobId, { chain, pool });
      expect(sha(back)).toBe(sha(data));
    });
  }

  it('a store run again reuses its registration and costs nothing more', async () => {
    const data = randomBytes(5000, 99);
    const first = await storeBlob(data, { chain, signer: wallet, epochs: 2, pool });
    await first.background;
    const before = await chain.balance(wallet.toSuiAddress());
    const again = await storeBlob(data, { chain, signer: wallet, epochs: 2, pool });
    expect(again.reused).toBe(true);
    expect(again.blobObjectId).toBe(first.blobObjectId);
    expect(await chain.balance(wallet.toSuiAddress())).toBe(before);
  });

  it('a node serving corrupted slivers does not change what a read returns', async () => {
    const data = randomBytes(300_000, 5);
    const stored = await storeBlob(data, { chain, signer: wallet, epochs: 2, pool });
    await stored.background;
    const bad = net.nodes[0].url;
    // A real node behind a tampering layer: every sliver body it returns has a flipped byte.
    const tamper: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const url = String(input);
      if (!url.startsWith(bad) || !/\/slivers\/\d+\/(primary|secondary)$/.test(new URL(url).pathname) || !res.ok) return res;
      const body = new Uint8Array(await res.arrayBuffer());
      body[Math.min(body.length - 1, 4)] ^= 0xff;
      return new Response(body, { status: res.status, headers: res.headers });
    };
    const back = await readBlob(stored.blobId, { chain, pool, nodeClient: (a) => new StorageNodeClient(a, { fetch: tamper }) });
    expect(sha(back)).toBe(sha(data));
  });

  it('a node answering with more bytes than a sliver can have is cut off; the read still succeeds', async () => {
    const data = randomBytes(120_000, 6);
    const stored = await storeBlob(data, { chain, signer: wallet, epochs: 2, pool });
    await stored.background;
    // The node holding primary sliver 0 (systematic slivers are fetched first, so it is asked).
    const holder = placeBlob(await chain.committee(), blobIdFromString(stored.blobId)).find((p) => p.pairs.includes(0))!;
    const bad = new StorageNodeClient(holder.node.networkAddress).url;
    let cut = 0;
    const padded: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const url = String(input);
      if (!url.startsWith(bad) || !/\/slivers\/\d+\/primary$/.test(new URL(url).pathname) || !res.ok) return res;
      cut++;
      const body = new Uint8Array(await res.arrayBuffer());
      const bigger = new Uint8Array(body.length + 4096);
      bigger.set(body);
      return new Response(bigger, { status: 200, headers: { 'content-type': 'application/octet-stream' } });
    };
    const back = await readBlob(stored.blobId, { chain, pool, nodeClient: (a) => new StorageNodeClient(a, { fetch: padded }) });
    expect(sha(back)).toBe(sha(data));
    expect(cut).toBeGreaterThan(0);
  });

  it('an epoch change between confirmation and certification is retried with the new committee', async () => {
    const data = randomBytes(90_000, 8);
    const before = (await chain.systemState()).epoch;
    let advanced = false;
    // The chain as the client sees it: the first certify finds the epoch moved on under it.
    const racing = new Proxy(chain, {
      get(target, prop, receiver) {
        if (prop === 'certifyBlob') {
          return async (...args: Parameters<RemoteChain['certifyBlob']>) => {
            if (!advanced) {
              advanced = true;
              await target.advanceEpoch();
            }
            return target.certifyBlob(...args);
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const r = await storeBlob(data, { chain: racing, signer: wallet, epochs: 3, pool });
    expect(advanced).toBe(true);
    expect(r.certifiedEpoch).toBe(before + 1);
    await r.background;
    expect(sha(await readBlob(r.blobId, { chain, pool }))).toBe(sha(data));
  });

  it('with f nodes stopped a read succeeds and a store certifies', async () => {
    const data = randomBytes(200_000, 11);
    const stored = await storeBlob(data, { chain, signer: wallet, epochs: 2, pool });
    await stored.background;
    await net.stopNode(3);
    try {
      const back = await readBlob(stored.blobId, { chain, pool, nodeTimeoutMs: 5000, retries: 0 });
      expect(sha(back)).toBe(sha(data));
      const other = randomBytes(150_000, 12);
      const r = await storeBlob(other, { chain, signer: wallet, epochs: 2, pool, retries: 1, nodeTimeoutMs: 5000 });
      expect((await chain.getBlob(r.blobObjectId))?.certifiedEpoch).not.toBeNull();
      const summary = await r.background;
      expect(summary.failedNodes).toHaveLength(1);
      expect(sha(await readBlob(r.blobId, { chain, pool, nodeTimeoutMs: 5000, retries: 0 }))).toBe(sha(other));
    } finally {
      await net.startNode(3);
    }
  });

  it('a node killed mid-upload does not make the store fail', async () => {
    const data = randomBytes(2 << 20, 21);
    let killed = false;
    const r = await storeBlob(data, {
      chain,
      signer: wallet,
      epochs: 2,
      pool,
      retries: 1,
      nodeTimeoutMs: 5000,
      perNodeConcurrency: 1,
      onProgress: (p) => {
        if (!killed && p.phase === 'upload' && (p.sliversStored ?? 0) >= 2) {
          killed = true;
          void net.stopNode(2, 'SIGKILL');
        }
      },
    });
    try {
      expect(killed).toBe(true);
      expect((await chain.getBlob(r.blobObjectId))?.certifiedEpoch).not.toBeNull();
      expect(sha(await readBlob(r.blobId, { chain, pool, nodeTimeoutMs: 5000, retries: 0 }))).toBe(sha(data));
    } finally {
      await r.background;
      await net.startNode(2);
    }
  });

  it('a file is stored through the streaming encoder (bounded memory), and its spool is removed', async () => {
    const data = randomBytes(3_000_001, 77);
    const work = await mkdtemp(join(tmpdir(), 'tusk-storefile-'));
    try {
      const file = join(work, 'input.bin');
      await writeFile(file, data);
      const spool = join(work, 'spool');
      await mkdir(spool);
      let encodeProgress = 0;
      const r = await storeFile(file, {
        chain,
        signer: wallet,
        epochs: 2,
        pool,
        tempDir: spool,
        onProgress: (p) => {
          if (p.phase === 'encode' && p.bytesTotal) encodeProgress++;
        },
      });
      expect(r.blobId).toBe(blobIdToBase64Url(officialBlobId(data, N_SHARDS)));
      expect(encodeProgress).toBeGreaterThan(0);
      await r.background;
      expect(await readdir(spool)).toEqual([]);
      expect(sha(await readBlob(r.blobId, { chain, pool }))).toBe(sha(data));
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('stores and reads back ~64 MiB', async () => {
    const data = randomBytes(64 * 2 ** 20 - 999, 64);
    const stored = await storeBlob(data, { chain, signer: wallet, epochs: 1, pool });
    expect(stored.blobId).toBe(blobIdToBase64Url(officialBlobId(data, N_SHARDS)));
    await stored.background;
    const back = await readBlob(stored.blobId, { chain, pool });
    expect(sha(back)).toBe(sha(data));
  }, 300_000);
});
