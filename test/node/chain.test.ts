/**
 * Storage nodes on the in-process LocalChain (real SQLite files for chain and nodes, real HTTP):
 * registration with a proof of possession and stake, shards per epoch from the committee, the
 * follower's persisted cursor, and — interoperability — the official `@mysten/walrus` SDK's
 * storage-node client storing and reading a blob encoded by the official encoder, with the nodes'
 * confirmations verified by `@mysten/walrus-wasm`'s BLS and certified on chain. Then deletion,
 * expiry and invalidation garbage-collect the nodes' data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { NodeStore } from '../../src/node/store.ts';
import { DatabaseSync } from 'node:sqlite';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { LocalChain } from '../../src/chain/local/index.ts';
import type { BlobObject } from '../../src/chain/types.ts';
import { CodecPool } from '../../src/pool/codec-pool.ts';
import { EncodingConfig } from '../../src/codec/config.ts';
import { encodeBlob } from '../../src/codec/encode.ts';
import { storageConfirmationMessage, invalidBlobIdMessage } from '../../src/protocol/messages.ts';
import { signersBitmap } from '../../src/protocol/certificate.ts';
import { startStorageNode, type StorageNodeHandle } from '../../src/node/node.ts';
import { officialBlsAggregate, officialBlsVerify, officialEncode, blobIdToBase64Url } from '../helpers/official.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { pairOf, tempDir } from './helpers.ts';

const nShards = 10;
let tmp: ReturnType<typeof tempDir>;
let pool: CodecPool;
let chain: LocalChain;
let nodes: StorageNodeHandle[] = [];
const user = Ed25519Keypair.generate();

/** The calls of the official SDK's storage-node client used here (its .d.mts does not declare the class). */
interface OfficialStorageNodeClient {
  storeBlobMetadata(a: { blobId: string; metadata: Uint8Array }, o: { nodeUrl: string }): Promise<any>;
  getBlobMetadata(a: { blobId: string }, o: { nodeUrl: string }): Promise<any>;
  getMetadataStatus(a: { blobId: string }, o: { nodeUrl: string }): Promise<any>;
  storeSliver(
    a: { blobId: string; sliverPairIndex: number; sliverType: 'primary' | 'secondary'; sliver: Uint8Array },
    o: { nodeUrl: string },
  ): Promise<any>;
  getSliver(
    a: { blobId: string; sliverPairIndex: number; sliverType: 'primary' | 'secondary' },
    o: { nodeUrl: string },
  ): Promise<Uint8Array>;
  getSliverStatus(
    a: { blobId: string; sliverPairIndex: number; sliverType: 'primary' | 'secondary' },
    o: { nodeUrl: string },
  ): Promise<any>;
  getPermanentBlobConfirmation(a: { blobId: string }, o: { nodeUrl: string }): Promise<any>;
  getDeletableBlobConfirmation(a: { blobId: string; objectId: string }, o: { nodeUrl: string }): Promise<any>;
  getBlobStatus(a: { blobId: string }, o: { nodeUrl: string }): Promise<any>;
}
// The SDK's storage-node client is not an exported subpath; its dist module is the real client.
const sdkPath: string = '../../node_modules/@mysten/walrus/dist/storage-node/client.mjs';
const { StorageNodeClient } = (await import(sdkPath)) as { StorageNodeClient: new () => OfficialStorageNodeClient };
const sdk = new StorageNodeClient();

async function syncAll(): Promise<void> {
  for (const n of nodes) await n.sync();
}

beforeAll(async () => {
  tmp = tempDir();
  pool = new CodecPool({ threads: 1 });
  chain = await LocalChain.open({ path: join(tmp.dir, 'chain.sqlite'), nShards });
  for (let i = 0; i < 3; i++) {
    nodes.push(
      await startStorageNode({
        chain,
        dataDir: join(tmp.dir, `node-${i}`),
        name: `node-${i}`,
        pool,
        eventWaitMs: 20,
        stake: BigInt(1000 + i) * 1_000_000_000n,
      }),
    );
  }
  await chain.advanceEpoch();
  await syncAll();
  await chain.requestFaucet(user.toSuiAddress(), 1_000_000n * 1_000_000_000n);
});

afterAll(async () => {
  for (const n of nodes) await n.close();
  await chain?.close();
  await pool?.close();
  tmp?.remove();
});

/** Registers a blob for `epochs` epochs and lets every node see it. */
async function registerBlob(blobId: Uint8Array, rootHash: Uint8Array, size: number, deletable: boolean, epochs = 3): Promise<BlobObject> {
  const encodedSize = new EncodingConfig(nShards).encodedBlobLength(size);
  const { blob } = await chain.registerBlob(user, {
    storage: { size: encodedSize, epochsAhead: epochs },
    blobId,
    rootHash,
    size,
    encodingType: 1,
    deletable,
  });
  await syncAll();
  return blob;
}

describe('registration and shards', () => {
  it('nodes register with a proof of possession, stake, and learn their shards from the committee', async () => {
    const state = await chain.systemState();
    expect(state.epoch).toBe(1);
    expect(state.committee.members).toHaveLength(3);
    const total = nodes.flatMap((n) => n.service.currentShards()).sort((a, b) => a - b);
    expect(total).toEqual([...Array(nShards).keys()]);
    for (const n of nodes) {
      const member = state.committee.members.find((m) => m.nodeId === n.nodeId)!;
      expect(member.publicKey).toEqual(n.publicKey);
      expect(n.service.currentShards()).toEqual(member.shards);
      const health = await (await fetch(`${n.url}/v1/health`)).json();
      expect(health.success.data).toMatchObject({ epoch: 1, nodeId: n.nodeId, nodeStatus: member.shards.length ? 'Active' : 'Standby' });
    }
  });

  it('keys are stored owner-only and a restart keeps the node ID without registering again', async () => {
    const dir = join(tmp.dir, 'node-0');
    for (const f of ['bls.key', 'sui.key']) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    const before = (await chain.nodes()).length;
    const old = nodes[0];
    const shardsBefore = old.service.currentShards();
    await old.close();
    nodes[0] = await startStorageNode({ chain, dataDir: dir, pool, eventWaitMs: 20 });
    expect(nodes[0].nodeId).toBe(old.nodeId);
    expect(nodes[0].publicKey).toEqual(old.publicKey);
    expect((await chain.nodes()).length).toBe(before);
    expect(nodes[0].service.currentShards()).toEqual(shardsBefore);
    // The network address follows the new port.
    expect((await chain.getNode(old.nodeId))!.networkAddress).toBe(new URL(nodes[0].url).host); // host:port, as on Walrus
  });

  it('a second process on a new data directory fails on the store lock before creating any key', async () => {
    const dir = join(tmp.dir, 'node-locked');
    mkdirSync(dir);
    // The first process holds the directory's store (as a node starting up would)…
    const first = NodeStore.open(join(dir, 'node.db'));
    try {
      // …so the second fails at once, without writing keys the first would then read and register.
      await expect(startStorageNode({ chain, dataDir: dir, pool, eventWaitMs: 20 })).rejects.toThrow(/in use by another process/);
      expect(existsSync(join(dir, 'bls.key'))).toBe(false);
      expect(existsSync(join(dir, 'sui.key'))).toBe(false);
    } finally {
      first.close();
    }
  });
});

describe('interoperability with the official SDK', () => {
  it('stores metadata and slivers, reads them back, gets verifiable confirmations and blob status; the blob certifies', async () => {
    const data = randomBytes(30_000, 21);
    const enc = officialEncode(data, nShards);
    const blobIdText = blobIdToBase64Url(enc.blobId);
    const blob = await registerBlob(enc.blobId, enc.rootHash, data.length, false);
    const state = await chain.systemState();

    for (const n of nodes) {
      const stored = await sdk.storeBlobMetadata({ blobId: blobIdText, metadata: enc.metadataBcs }, { nodeUrl: n.url });
      expect(stored).toEqual({ success: { code: 201, data: 'metadata successfully stored' } });
      const meta = await sdk.getBlobMetadata({ blobId: blobIdText }, { nodeUrl: n.url });
      expect(meta.blobId).toBe(blobIdText);
      expect(Number(meta.metadata.V1.unencoded_length)).toBe(data.length);
      expect(meta.metadata.V1.hashes).toHaveLength(nShards);
      expect(await sdk.getMetadataStatus({ blobId: blobIdText }, { nodeUrl: n.url })).toBe('stored');
      for (const shard of n.service.currentShards()) {
        const pair = pairOf(enc.blobId, shard, nShards);
        await sdk.storeSliver(
          { blobId: blobIdText, sliverPairIndex: pair, sliverType: 'primary', sliver: enc.primary[pair] },
          { nodeUrl: n.url },
        );
        await sdk.storeSliver(
          { blobId: blobIdText, sliverPairIndex: pair, sliverType: 'secondary', sliver: enc.secondary[nShards - 1 - pair] },
          { nodeUrl: n.url },
        );
        expect(await sdk.getSliver({ blobId: blobIdText, sliverPairIndex: pair, sliverType: 'primary' }, { nodeUrl: n.url })).toEqual(
          enc.primary[pair],
        );
        expect(await sdk.getSliver({ blobId: blobIdText, sliverPairIndex: pair, sliverType: 'secondary' }, { nodeUrl: n.url })).toEqual(
          enc.secondary[nShards - 1 - pair],
        );
        expect(await sdk.getSliverStatus({ blobId: blobIdText, sliverPairIndex: pair, sliverType: 'secondary' }, { nodeUrl: n.url })).toBe(
          'stored',
        );
      }
    }

    const signatures: { member: number; signature: Uint8Array }[] = [];
    const message = storageConfirmationMessage(state.epoch, enc.blobId, { kind: 'permanent' });
    for (const n of nodes) {
      const res = await sdk.getPermanentBlobConfirmation({ blobId: blobIdText }, { nodeUrl: n.url });
      const signed = res.success.data.signed;
      const msg = new Uint8Array(Buffer.from(signed.serializedMessage, 'base64'));
      const sig = new Uint8Array(Buffer.from(signed.signature, 'base64'));
      expect(msg).toEqual(message);
      expect(officialBlsVerify(sig, n.publicKey, msg)).toBe(true);
      signatures.push({ member: state.committee.members.findIndex((m) => m.nodeId === n.nodeId), signature: sig });
    }
    const status = await sdk.getBlobStatus({ blobId: blobIdText }, { nodeUrl: nodes[0].url });
    expect(status).toMatchObject({ type: 'permanent', isCertified: false, endEpoch: blob.storage.endEpoch });

    signatures.sort((a, b) => a.member - b.member);
    await chain.certifyBlob(user, blob.id, {
      signature: officialBlsAggregate(signatures.map((s) => s.signature)),
      signersBitmap: signersBitmap(
        signatures.map((s) => s.member),
        state.committee.members.length,
      ),
      message,
    });
    await syncAll();
    for (const n of nodes) {
      expect(await sdk.getBlobStatus({ blobId: blobIdText }, { nodeUrl: n.url })).toMatchObject({
        type: 'permanent',
        isCertified: true,
        initialCertifiedEpoch: state.epoch,
      });
    }
  });

  it('deletable blobs: confirmation for the Blob object, then deletion garbage-collects every node', async () => {
    const data = randomBytes(8000, 22);
    const enc = encodeBlob(data, { nShards });
    const blob = await registerBlob(enc.blobId, enc.rootHash, data.length, true);
    for (const n of nodes) {
      await sdk.storeBlobMetadata({ blobId: enc.blobIdString, metadata: enc.metadata.toBcs() }, { nodeUrl: n.url });
      for (const shard of n.service.currentShards()) {
        const pair = pairOf(enc.blobId, shard, nShards);
        await sdk.storeSliver(
          {
            blobId: enc.blobIdString,
            sliverPairIndex: pair,
            sliverType: 'primary',
            sliver: new Uint8Array(enc.pairs[pair].primary.toBcs()),
          },
          { nodeUrl: n.url },
        );
        await sdk.storeSliver(
          {
            blobId: enc.blobIdString,
            sliverPairIndex: pair,
            sliverType: 'secondary',
            sliver: new Uint8Array(enc.pairs[pair].secondary.toBcs()),
          },
          { nodeUrl: n.url },
        );
      }
      const res = await sdk.getDeletableBlobConfirmation({ blobId: enc.blobIdString, objectId: blob.id }, { nodeUrl: n.url });
      const msg = new Uint8Array(Buffer.from(res.success.data.signed.serializedMessage, 'base64'));
      expect(officialBlsVerify(new Uint8Array(Buffer.from(res.success.data.signed.signature, 'base64')), n.publicKey, msg)).toBe(true);
      expect(n.service.store.hasMetadata(enc.blobId)).toBe(true);
    }
    expect(await sdk.getBlobStatus({ blobId: enc.blobIdString }, { nodeUrl: nodes[1].url })).toMatchObject({
      type: 'deletable',
      deletableCounts: { count_deletable_total: 1 },
    });
    await chain.deleteBlob(user, blob.id);
    await syncAll();
    for (const n of nodes) {
      expect(n.service.store.hasMetadata(enc.blobId)).toBe(false);
      expect(n.service.store.storedSliverKeys(enc.blobId).size).toBe(0);
      expect(await sdk.getBlobStatus({ blobId: enc.blobIdString }, { nodeUrl: n.url })).toEqual({ type: 'nonexistent' });
    }
  });

  it('expired blobs lose their data at the epoch change', async () => {
    const data = randomBytes(4000, 23);
    const enc = encodeBlob(data, { nShards });
    await registerBlob(enc.blobId, enc.rootHash, data.length, false, 1);
    for (const n of nodes) await sdk.storeBlobMetadata({ blobId: enc.blobIdString, metadata: enc.metadata.toBcs() }, { nodeUrl: n.url });
    expect(nodes.every((n) => n.service.store.hasMetadata(enc.blobId))).toBe(true);
    await chain.advanceEpoch();
    await syncAll();
    for (const n of nodes) {
      expect(n.service.epoch()).toBe((await chain.systemState()).epoch);
      expect(n.service.store.hasMetadata(enc.blobId)).toBe(false);
    }
    const r = await fetch(`${nodes[0].url}/v1/blobs/${enc.blobIdString}/metadata`, {
      method: 'PUT',
      body: new Uint8Array(enc.metadata.toBcs()),
    });
    expect(r.status).toBe(400);
    expect((await r.json()).error.details[0].reason).toBe('NOT_REGISTERED');
  });

  it('an invalidated blob ID (attestations from the nodes, certified on chain) is dropped everywhere', async () => {
    const data = randomBytes(4000, 24);
    const enc = encodeBlob(data, { nShards });
    await registerBlob(enc.blobId, enc.rootHash, data.length, false);
    for (const n of nodes) await sdk.storeBlobMetadata({ blobId: enc.blobIdString, metadata: enc.metadata.toBcs() }, { nodeUrl: n.url });
    // Sign the invalid-blob message with the nodes' keys as their inconsistency-proof route would
    // (the route's proof checking is covered in routes.test.ts), and invalidate on chain.
    const state = await chain.systemState();
    const message = invalidBlobIdMessage(state.epoch, enc.blobId);
    const members = nodes.map((n) => state.committee.members.findIndex((m) => m.nodeId === n.nodeId));
    const { blsSign } = await import('../../src/crypto/bls.ts');
    const { readFileSync } = await import('node:fs');
    const sigs = nodes.map((_, i) =>
      blsSign(new Uint8Array(Buffer.from(readFileSync(join(tmp.dir, `node-${i}`, 'bls.key'), 'utf8').trim(), 'hex')), message),
    );
    const order = members.map((m, i) => ({ m, s: sigs[i] })).sort((a, b) => a.m - b.m);
    await chain.invalidateBlobId(user, {
      signature: officialBlsAggregate(order.map((o) => o.s)),
      signersBitmap: signersBitmap(
        order.map((o) => o.m),
        members.length,
      ),
      message,
    });
    await syncAll();
    for (const n of nodes) {
      expect(n.service.store.hasMetadata(enc.blobId)).toBe(false);
      const st = await sdk.getBlobStatus({ blobId: enc.blobIdString }, { nodeUrl: n.url });
      expect(st.type).toBe('invalid');
    }
  });
});

describe('epoch change with shard moves', () => {
  it('a joining node takes shards, recovers their slivers from its peers, reports epochSyncDone; the epoch becomes active', async () => {
    // A certified blob stored on the current committee before the change.
    const data = randomBytes(12_000, 25);
    const enc = encodeBlob(data, { nShards });
    const blob = await registerBlob(enc.blobId, enc.rootHash, data.length, false, 5);
    const before = await chain.systemState();
    const signatures: { member: number; signature: Uint8Array }[] = [];
    for (const n of nodes) {
      await sdk.storeBlobMetadata({ blobId: enc.blobIdString, metadata: enc.metadata.toBcs() }, { nodeUrl: n.url });
      for (const shard of n.service.currentShards()) {
        const pair = pairOf(enc.blobId, shard, nShards);
        for (const axis of ['primary', 'secondary'] as const) {
          await sdk.storeSliver(
            { blobId: enc.blobIdString, sliverPairIndex: pair, sliverType: axis, sliver: new Uint8Array(enc.pairs[pair][axis].toBcs()) },
            { nodeUrl: n.url },
          );
        }
      }
      const res = await sdk.getPermanentBlobConfirmation({ blobId: enc.blobIdString }, { nodeUrl: n.url });
      signatures.push({
        member: before.committee.members.findIndex((m) => m.nodeId === n.nodeId),
        signature: new Uint8Array(Buffer.from(res.success.data.signed.signature, 'base64')),
      });
    }
    signatures.sort((a, b) => a.member - b.member);
    await chain.certifyBlob(user, blob.id, {
      signature: officialBlsAggregate(signatures.map((s) => s.signature)),
      signersBitmap: signersBitmap(
        signatures.map((s) => s.member),
        before.committee.members.length,
      ),
      message: storageConfirmationMessage(before.epoch, enc.blobId, { kind: 'permanent' }),
    });
    await syncAll();

    nodes.push(
      await startStorageNode({
        chain,
        dataDir: join(tmp.dir, 'node-3'),
        name: 'node-3',
        pool,
        eventWaitMs: 20,
        stake: 5000n * 1_000_000_000n,
      }),
    );
    const { epoch } = await chain.advanceEpoch();
    const deadline = Date.now() + 15_000;
    let state = await chain.systemState();
    while (state.epochState !== 'active') {
      if (Date.now() > deadline) throw new Error('the epoch change did not complete');
      await new Promise((r) => setTimeout(r, 50));
      state = await chain.systemState();
    }
    expect(state.epoch).toBe(epoch);
    await syncAll();
    const joined = state.committee.members.find((m) => m.nodeId === nodes[3].nodeId)!;
    expect(joined.shards.length).toBeGreaterThan(0);
    for (const n of nodes) {
      expect(n.service.epoch()).toBe(epoch);
      expect(n.service.currentShards()).toEqual(state.committee.members.find((m) => m.nodeId === n.nodeId)?.shards ?? []);
    }
    // The newcomer rebuilt both slivers of every shard it gained, byte for byte, and confirms.
    const newcomer = nodes[3];
    expect(newcomer.service.store.hasMetadata(enc.blobId)).toBe(true);
    for (const shard of joined.shards) {
      const pair = pairOf(enc.blobId, shard, nShards);
      for (const axis of ['primary', 'secondary'] as const) {
        expect(
          await sdk.getSliver({ blobId: enc.blobIdString, sliverPairIndex: pair, sliverType: axis }, { nodeUrl: newcomer.url }),
        ).toEqual(new Uint8Array(enc.pairs[pair][axis].toBcs()));
      }
    }
    const conf = await sdk.getPermanentBlobConfirmation({ blobId: enc.blobIdString }, { nodeUrl: newcomer.url });
    const msg = new Uint8Array(Buffer.from(conf.success.data.signed.serializedMessage, 'base64'));
    expect(msg).toEqual(storageConfirmationMessage(epoch, enc.blobId, { kind: 'permanent' }));
    expect(officialBlsVerify(new Uint8Array(Buffer.from(conf.success.data.signed.signature, 'base64')), newcomer.publicKey, msg)).toBe(
      true,
    );
    recovery = {
      blobId: enc.blobId,
      blobIdString: enc.blobIdString,
      shards: joined.shards,
      pairs: enc.pairs.map((p) => ({ primary: new Uint8Array(p.primary.toBcs()), secondary: new Uint8Array(p.secondary.toBcs()) })),
    };
  });

  it('a node killed during recovery (epoch applied, slivers missing) recovers them at restart, without a new epoch event', async () => {
    expect(recovery).toBeDefined();
    const r = recovery!;
    const dataDir = join(tmp.dir, 'node-3');
    await nodes[3].close();
    // The state a kill during recovery leaves: the epoch's events committed, the gained shards'
    // slivers not (or only partly) written, and no "recovered" marker.
    const db = new DatabaseSync(join(dataDir, 'node.db'));
    const removed = db.prepare('DELETE FROM slivers WHERE blob_id = ?').run(r.blobId).changes;
    expect(db.prepare("DELETE FROM kv WHERE key = 'node:recovered_epoch'").run().changes).toBe(1);
    db.close();
    expect(removed).toBe(2 * r.shards.length);
    nodes[3] = await startStorageNode({ chain, dataDir, name: 'node-3', pool, eventWaitMs: 20 });
    await nodes[3].recovered();
    for (const shard of r.shards) {
      const pair = pairOf(r.blobId, shard, nShards);
      for (const axis of ['primary', 'secondary'] as const) {
        expect(await sdk.getSliver({ blobId: r.blobIdString, sliverPairIndex: pair, sliverType: axis }, { nodeUrl: nodes[3].url })).toEqual(
          r.pairs[pair][axis],
        );
      }
    }
  });
});

let recovery:
  | { blobId: Uint8Array; blobIdString: string; shards: readonly number[]; pairs: { primary: Uint8Array; secondary: Uint8Array }[] }
  | undefined;
