/**
 * Money and data across epoch changes and faults (issue 22, items 1, 2, 3, 6, 13), against a real
 * local network of processes (chain + 4 nodes, 20 shards) and the `tusk` CLI as a user runs it:
 *
 *  - an interrupted store run again after an epoch change reuses its registration and pays only
 *    the missing epoch (reuseAndExtendNonCertified); a certified blob stored again for longer is
 *    only extended (reuseAndExtend), nothing uploaded;
 *  - nodes that already signed for a newer epoch make the client re-read the committee and certify
 *    the same Blob object, paying once;
 *  - Storage returned by `delete` is reused (split when larger, fused when several fit only
 *    together) before new space is reserved; `tusk list-storage` lists it;
 *  - a node that was down when a blob was certified recovers its slivers on the certification
 *    event, without an epoch change; health reports missing slivers meanwhile;
 *  - `tusk store` names failed nodes, says what a failed run paid and that a re-run resumes; `tusk
 *    read --out` refuses an unwritable destination before downloading.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { startDevNetwork, type DevNetwork } from '../../src/network/dev-network.ts';
import { RemoteChain } from '../../src/chain/remote/client.ts';
import { loadWallet } from '../../src/client/config.ts';
import { BlobStoreFlow, storeBlob, type StoreProgress } from '../../src/client/store.ts';
import { readBlob } from '../../src/client/read.ts';
import { placeBlob } from '../../src/client/placement.ts';
import { planStorageReuse } from '../../src/client/storage-reuse.ts';
import { blobIdFromString } from '../../src/codec/blob-id.ts';
import { EncodingConfig } from '../../src/codec/config.ts';
import { storageUnits, type StorageResource } from '../../src/chain/types.ts';
import { CodecPool } from '../../src/pool/codec-pool.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { runTusk } from '../helpers/cli.ts';
import { uploadProgress } from '../../src/cli/client-commands.ts';

const N_SHARDS = 20;
let net: DevNetwork;
let dir: string;
let chain: RemoteChain;
let wallet: Ed25519Keypair;
let pool: CodecPool;

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const encodedLength = (size: number) => new EncodingConfig(N_SHARDS).encodedBlobLength(size);
const balance = () => chain.balance(wallet.toSuiAddress());
const ownedStorage = async () => (await chain.ownedObjects(wallet.toSuiAddress())).flatMap((o) => (o.kind === 'storage' ? [o.object] : []));

async function health(i: number): Promise<any> {
  const res = await fetch(`${net.nodes[i].url}/v1/health?detailed=true`);
  return ((await res.json()) as { success: { data: unknown } }).success.data;
}

/** Waits until every running node has applied the chain's current epoch. */
async function nodesAtEpoch(epoch: number, nodes = [0, 1, 2, 3]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const epochs = await Promise.all(nodes.map((i) => health(i).then((h) => h.epoch as number, () => -1)));
    if (epochs.every((e) => e >= epoch)) return;
    if (Date.now() > deadline) throw new Error(`nodes stuck at epochs ${epochs}, wanted ${epoch}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function advance(): Promise<number> {
  const { epoch } = await chain.advanceEpoch();
  await nodesAtEpoch(epoch);
  return epoch;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tusk-money-'));
  net = await startDevNetwork({ dataDir: dir, nodes: 4, nShards: N_SHARDS });
  chain = new RemoteChain({ url: net.chainUrl });
  wallet = await loadWallet(join(dir, 'wallet.key'));
  pool = new CodecPool({ threads: 1 });
}, 180_000);

afterAll(async () => {
  await pool?.close();
  await net?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('planning the reuse of owned Storage', () => {
  const s = (id: string, start: number, end: number, size: number): StorageResource => ({ id, owner: '0x' + '1'.repeat(64), startEpoch: start, endEpoch: end, storageSize: size });
  it('takes the smallest fitting resource, splits off the excess, ignores those that do not cover the period', () => {
    const owned = [s('a', 1, 9, 5000), s('b', 2, 9, 3000), s('c', 4, 9, 9000), s('d', 1, 4, 9000)];
    expect(planStorageReuse(owned, { size: 2500, epoch: 3, endEpoch: 8 })).toEqual({ pieces: [owned[1]], splitTo: 2500 });
    expect(planStorageReuse(owned, { size: 3000, epoch: 3, endEpoch: 8 })).toEqual({ pieces: [owned[1]], splitTo: null });
    expect(planStorageReuse(owned, { size: 6000, epoch: 3, endEpoch: 8 })).toBeNull(); // c starts later, d ends too early
  });
  it('fuses resources of the same period that fit only together', () => {
    const owned = [s('a', 1, 9, 3000), s('b', 1, 9, 2000), s('c', 1, 9, 1000), s('d', 2, 9, 4000)];
    expect(planStorageReuse(owned, { size: 4500, epoch: 3, endEpoch: 9 })).toEqual({ pieces: [owned[0], owned[1]], splitTo: 4500 });
    expect(planStorageReuse(owned, { size: 7000, epoch: 3, endEpoch: 9 })).toBeNull();
  });
});

describe('store pays once, whatever happens between runs', () => {
  it('an interrupted store run again after an epoch change reuses its registration and pays only the missing epoch', async () => {
    const data = randomBytes(120_000, 101);
    // Interrupted after registration: the register step ran, nothing was uploaded.
    const first = new BlobStoreFlow(data, { chain, signer: wallet, epochs: 3, pool });
    const registered = await first.register();
    expect(registered.certifiedEpoch).toBeNull();
    const epoch = await advance();
    const before = await balance();
    const state = await chain.systemState();
    const r = await storeBlob(data, { chain, signer: wallet, epochs: 3, pool });
    await r.background;
    expect(r.reused).toBe(true);
    expect(r.operation).toBe('reuseAndExtendNonCertified');
    expect(r.blobObjectId).toBe(registered.id);
    expect(r.endEpoch).toBe(epoch + 3);
    const extension = state.storagePricePerUnitSize * storageUnits(registered.storage.storageSize) * 1n;
    expect(r.cost).toBe(extension);
    expect(before - (await balance())).toBe(extension);
    // One Blob object for the blob, certified: no orphaned registration.
    const objects = (await chain.blobObjects(blobIdFromString(r.blobId))).filter((b) => b.owner === wallet.toSuiAddress());
    expect(objects.map((b) => [b.id, b.certifiedEpoch !== null])).toEqual([[registered.id, true]]);
    expect(sha(await readBlob(r.blobId, { chain, pool }))).toBe(sha(data));
  });

  it('a certified blob stored again for longer is only extended: nothing uploaded, only the extension paid', async () => {
    const data = randomBytes(60_000, 102);
    const stored = await storeBlob(data, { chain, signer: wallet, epochs: 2, pool });
    await stored.background;
    const epoch = await advance();
    const before = await balance();
    const state = await chain.systemState();
    const phases: StoreProgress['phase'][] = [];
    const r = await storeBlob(data, { chain, signer: wallet, epochs: 3, pool, onProgress: (p) => phases.push(p.phase) });
    expect(r.operation).toBe('reuseAndExtend');
    expect(r.blobObjectId).toBe(stored.blobObjectId);
    expect(r.endEpoch).toBe(epoch + 3);
    expect(phases).not.toContain('upload');
    const epochs = BigInt(epoch + 3 - stored.endEpoch);
    const blob = (await chain.getBlob(r.blobObjectId))!;
    expect(r.cost).toBe(state.storagePricePerUnitSize * storageUnits(blob.storage.storageSize) * epochs);
    expect(before - (await balance())).toBe(r.cost);
  });

  it('nodes that already signed for a newer epoch make the client re-read the committee and certify the same object', async () => {
    const data = randomBytes(90_000, 103);
    let moved = 0;
    // The epoch changes right after the client read the committee, and every node follows it
    // before confirming: each signs for the newer epoch.
    const racing = new Proxy(chain, {
      get(target, prop, receiver) {
        if (prop === 'committee') {
          return async (...args: Parameters<RemoteChain['committee']>) => {
            const c = await target.committee(...args);
            if (moved === 0 && args[0] === undefined) {
              moved = (await target.advanceEpoch()).epoch;
              await nodesAtEpoch(moved);
            }
            return c;
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const before = await balance();
    const r = await storeBlob(data, { chain: racing, signer: wallet, epochs: 2, pool });
    await r.background;
    expect(moved).toBeGreaterThan(0);
    expect(r.certifiedEpoch).toBe(moved);
    expect(r.operation).toBe('registerFromScratch');
    expect(before - (await balance())).toBe(r.cost);
    const objects = (await chain.blobObjects(blobIdFromString(r.blobId))).filter((b) => b.owner === wallet.toSuiAddress());
    expect(objects).toHaveLength(1);
    expect(sha(await readBlob(r.blobId, { chain, pool }))).toBe(sha(data));
  });
});

describe('owned Storage is reused before new space is reserved', () => {
  it('storage freed by delete is reused (write fee only); a larger one is split and the rest stays listed', async () => {
    const big = randomBytes(400_000, 201);
    const a = await storeBlob(big, { chain, signer: wallet, epochs: 3, pool });
    await a.background;
    const freed = (await chain.deleteBlob(wallet, a.blobObjectId)).storage;
    expect(freed.storageSize).toBe(encodedLength(big.length));
    const listed = JSON.parse((await runTusk(['list-storage', '--config', net.configPath, '--json'])).stdout);
    expect(listed.storage.map((x: { objectId: string }) => x.objectId)).toContain(freed.id);

    const small = randomBytes(20_000, 202);
    const state = await chain.systemState();
    const before = await balance();
    const r = await storeBlob(small, { chain, signer: wallet, epochs: 2, pool });
    await r.background;
    expect(r.operation).toBe('reuseStorage');
    const need = encodedLength(small.length);
    expect(r.cost).toBe(state.writePricePerUnitSize * storageUnits(need));
    expect(before - (await balance())).toBe(r.cost);
    const blob = (await chain.getBlob(r.blobObjectId))!;
    expect(blob.storage.id).toBe(freed.id);
    expect(blob.storage.storageSize).toBe(need);
    expect(r.endEpoch).toBe(freed.endEpoch); // the period already paid for
    const rest = (await ownedStorage()).find((x) => x.startEpoch === freed.startEpoch && x.endEpoch === freed.endEpoch);
    expect(rest?.storageSize).toBe(freed.storageSize - need);
    expect(sha(await readBlob(r.blobId, { chain, pool }))).toBe(sha(small));
  });

  it('two freed resources of the same period are fused when only together they fit', async () => {
    const x1 = randomBytes(100_000, 203), x2 = randomBytes(100_000, 204), y = randomBytes(160_000, 205);
    expect(encodedLength(y.length)).toBeGreaterThan(encodedLength(x1.length));
    expect(encodedLength(y.length)).toBeLessThanOrEqual(2 * encodedLength(x1.length));
    // 5 epochs: longer than every resource left by earlier tests, so only these two qualify.
    const [s1, s2] = await Promise.all([x1, x2].map((d) => storeBlob(d, { chain, signer: wallet, epochs: 5, pool })));
    await Promise.all([s1.background, s2.background]);
    expect(s1.endEpoch).toBe(s2.endEpoch);
    const f1 = (await chain.deleteBlob(wallet, s1.blobObjectId)).storage;
    const f2 = (await chain.deleteBlob(wallet, s2.blobObjectId)).storage;
    const before = await balance();
    const r = await storeBlob(y, { chain, signer: wallet, epochs: 5, pool });
    await r.background;
    expect(r.operation).toBe('reuseStorage');
    expect(before - (await balance())).toBe(r.cost);
    const blob = (await chain.getBlob(r.blobObjectId))!;
    expect([f1.id, f2.id]).toContain(blob.storage.id);
    const left = (await ownedStorage()).filter((x) => x.endEpoch === f1.endEpoch && x.startEpoch === f1.startEpoch);
    expect(left.reduce((t, x) => t + x.storageSize, 0)).toBe(f1.storageSize + f2.storageSize - encodedLength(y.length));
    expect(sha(await readBlob(r.blobId, { chain, pool }))).toBe(sha(y));
  });
});

describe('a node that was down at certification', () => {
  it('recovers its slivers on the certification event, without an epoch change', async () => {
    const data = randomBytes(150_000, 301);
    await net.stopNode(3);
    let r;
    try {
      r = await storeBlob(data, { chain, signer: wallet, epochs: 2, pool, retries: 1, nodeTimeoutMs: 3000 });
      const summary = await r.background;
      expect(summary.failedNodes.map((f) => f.nodeId)).toEqual([net.nodes[3].nodeId]);
    } finally {
      await net.startNode(3);
    }
    const epoch = (await chain.systemState()).epoch;
    const blobId = blobIdFromString(r.blobId);
    const committee = await chain.committee();
    const mine = placeBlob(committee, blobId).find((p) => p.node.nodeId === net.nodes[3].nodeId)!;
    expect(mine.pairs.length).toBeGreaterThan(0);
    const deadline = Date.now() + 60_000;
    let h;
    for (;;) {
      h = await health(3);
      if (h.missingSlivers === 0) break;
      if (Date.now() > deadline) throw new Error(`node 3 still misses ${h.missingSlivers} slivers`);
      await new Promise((res) => setTimeout(res, 200));
    }
    expect(h.shardSummary.ownedShardStatus.inRecovery).toBe(0);
    expect((await chain.systemState()).epoch).toBe(epoch); // no epoch change was needed
    for (const pair of mine.pairs) {
      for (const axis of ['primary', 'secondary']) {
        const res = await fetch(`${net.nodes[3].url}/v1/blobs/${r.blobId}/slivers/${pair}/${axis}`, { headers: { accept: 'application/octet-stream' } });
        expect(res.status, `${axis} sliver of pair ${pair}`).toBe(200);
        await res.arrayBuffer();
      }
    }
  }, 120_000);
});

describe('tusk store and read say what happened', () => {
  it('a failed store says what it paid and that a re-run resumes; the re-run pays nothing; the output names failed nodes', async () => {
    const file = join(dir, 'resume.bin');
    await writeFile(file, randomBytes(50_000, 401));
    await Promise.all([net.stopNode(2), net.stopNode(3)]);
    let failed;
    try {
      failed = await runTusk(['store', file, '--epochs', '2', '--config', net.configPath]);
    } finally {
      await net.startNode(2);
    }
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/paid [\d.]+ WAL in this run; Blob object 0x[0-9a-f]{64} is registered\. Run the same store again to resume/);
    const objectId = /Blob object (0x[0-9a-f]{64})/.exec(failed.stderr)![1];
    try {
      // Node 3 stays down: the re-run certifies with 3 of 4 nodes and names the one that failed.
      const again = await runTusk(['store', file, '--epochs', '2', '--config', net.configPath]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain(objectId);
      expect(again.stdout).toMatch(/cost: +0 WAL paid now \(an earlier registration reused: nothing paid\)/);
      expect(again.stdout).toMatch(/nodes failed: +1/);
      expect(again.stdout).toContain('node-3 (');
    } finally {
      await net.startNode(3);
    }
  }, 180_000);

  it('the upload progress shows confirmed shards out of all, never above the total ("20/14")', () => {
    const line = uploadProgress({ phase: 'upload', sliversStored: 40, sliversTotal: 40, confirmedWeight: 20, quorumWeight: 14, totalWeight: 20 });
    expect(line).toMatch(/confirmed 20\/20 shards \(quorum 14\)$/);
    expect(line).not.toContain('20/14');
  });

  it('read --out into a missing directory fails before downloading', async () => {
    const data = randomBytes(10_000, 402);
    const r = await storeBlob(data, { chain, signer: wallet, epochs: 2, pool });
    await r.background;
    const res = await runTusk(['read', r.blobId, '--out', join(dir, 'no-such-dir', 'x.bin'), '--config', net.configPath]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/no-such-dir does not exist/);
    const isDir = await runTusk(['read', r.blobId, '--out', dir, '--force', '--config', net.configPath]);
    expect(isDir.code).not.toBe(0);
    expect(isDir.stderr).toMatch(/is a directory/);
  });
});
