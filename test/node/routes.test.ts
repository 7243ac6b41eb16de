/**
 * The storage node's REST API over real HTTP on 127.0.0.1: every route's success and error
 * cases, and hostile input answered with a clear 4xx and nothing stored. The node's chain-derived
 * state is seeded into its real SQLite store (as the event follower writes it); slivers are
 * verified on a real codec pool.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBlob, type EncodedBlob } from '../../src/codec/encode.ts';
import { EncodingConfig } from '../../src/codec/config.ts';
import { BlobMetadataWithId } from '../../src/codec/metadata.ts';
import { SliverData } from '../../src/codec/sliver.ts';
import { CodecPool } from '../../src/pool/codec-pool.ts';
import { blsVerify } from '../../src/crypto/bls.ts';
import { invalidBlobIdMessage, storageConfirmationMessage } from '../../src/protocol/messages.ts';
import {
  inconsistencyProofToBcs,
  recoverSliver,
  recoverySymbolsFrom,
  recoverySymbolsFromBcs,
  verifyRecoverySymbol,
} from '../../src/codec/recovery.ts';
import { flipBit, inconsistentEncoding, randomBytes } from '../helpers/blobs.ts';
import { ApiError } from '../../src/node-api/errors.ts';
import { type BareNode, call, pairOf, put, reason, register, startBareNode, tempDir } from './helpers.ts';

const n = 10;
const cfg = new EncodingConfig(n);
// The node holds 7 of the 10 shards; shards 7, 8, 9 belong to other nodes.
const held = [0, 1, 2, 3, 4, 5, 6];

let pool: CodecPool;
let node: BareNode;
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  pool = new CodecPool({ threads: 1 });
  tmp = tempDir();
  node = await startBareNode({ dir: tmp.dir, nShards: n, shards: held, pool, epoch: 3 });
});

afterAll(async () => {
  await node?.close();
  await pool?.close();
  tmp?.remove();
});

const B = (blob: { blobIdString: string }) => `${node.url}/v1/blobs/${blob.blobIdString}`;
const copy = (b: Uint8Array) => new Uint8Array(b);

/** Stores metadata and every sliver of the node's shards. */
async function upload(blob: EncodedBlob): Promise<void> {
  expect((await put(`${B(blob)}/metadata`, copy(blob.metadata.toBcs()))).status).toBe(201);
  for (const shard of held) {
    const pair = pairOf(blob.blobId, shard, n);
    expect((await put(`${B(blob)}/slivers/${pair}/primary`, copy(blob.pairs[pair].primary.toBcs()))).status).toBe(201);
    expect((await put(`${B(blob)}/slivers/${pair}/secondary`, copy(blob.pairs[pair].secondary.toBcs()))).status).toBe(201);
  }
}

describe('metadata', () => {
  const blob = encodeBlob(randomBytes(5000, 1), { nShards: n });

  it('is refused for an unregistered blob, and nothing is stored', async () => {
    const r = await put(`${B(blob)}/metadata`, copy(blob.metadata.toBcs()));
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 400, status: 'FAILED_PRECONDITION' });
    expect(r.json.error.details[0]).toMatchObject({ '@type': 'ErrorInfo', reason: 'NOT_REGISTERED', domain: 'storage.walrus.space' });
    expect((await call(`${B(blob)}/metadata`)).status).toBe(404);
    expect((await call(`${B(blob)}/metadata/status`)).json).toEqual({ success: { code: 200, data: 'nonexistent' } });
  });

  it('is stored once registered (201, then 200) and read back as BlobMetadataWithId', async () => {
    register(node, blob.blobId);
    const first = await put(`${B(blob)}/metadata`, copy(blob.metadata.toBcs()));
    expect(first.status).toBe(201);
    expect(first.json).toEqual({ success: { code: 201, data: 'metadata successfully stored' } });
    const again = await put(`${B(blob)}/metadata`, copy(blob.metadata.toBcs()), null); // no content type is fine
    expect(again.json).toEqual({ success: { code: 200, data: 'metadata already stored' } });
    const got = await call(`${B(blob)}/metadata`, { headers: { accept: 'application/octet-stream' } });
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/octet-stream');
    expect(got.bytes).toEqual(blob.metadataWithId.toBcs());
    expect(BlobMetadataWithId.fromBcs(got.bytes).blobIdString).toBe(blob.blobIdString);
    expect((await call(`${B(blob)}/metadata/status`)).json.success.data).toBe('stored');
  });

  it('rejects malformed BCS, metadata of another blob, and foreign encoding types', async () => {
    const other = encodeBlob(randomBytes(5000, 2), { nShards: n });
    register(node, other.blobId);
    const truncated = copy(other.metadata.toBcs()).subarray(0, 100);
    let r = await put(`${B(other)}/metadata`, truncated);
    expect([r.status, reason(r.json)]).toEqual([400, 'INVALID_BCS']);
    r = await put(`${B(other)}/metadata`, copy(blob.metadata.toBcs())); // hashes to a different blob ID
    expect([r.status, reason(r.json)]).toEqual([400, 'INVALID_METADATA']);
    const wrongType = copy(other.metadata.toBcs());
    wrongType[1] = 0; // RedStuff/RaptorQ: not supported
    r = await put(`${B(other)}/metadata`, wrongType);
    expect([r.status, reason(r.json)]).toEqual([400, 'UNSUPPORTED_ENCODING_TYPE']);
    const wrongN = encodeBlob(randomBytes(100, 3), { nShards: 13 });
    register(node, wrongN.blobId);
    r = await put(`${B(wrongN)}/metadata`, copy(wrongN.metadata.toBcs()));
    expect([r.status, reason(r.json)]).toEqual([400, 'INVALID_METADATA']);
    expect((await call(`${B(other)}/metadata/status`)).json.success.data).toBe('nonexistent');
    expect(node.store.hasMetadata(wrongN.blobId)).toBe(false);
  });

  it('rejects a wrong content type (415) and an oversize body (413)', async () => {
    const other = encodeBlob(randomBytes(10, 4), { nShards: n });
    register(node, other.blobId);
    let r = await put(`${B(other)}/metadata`, copy(other.metadata.toBcs()), 'application/json');
    expect(r.status).toBe(415);
    expect(r.json.error.code).toBe(415);
    r = await put(`${B(other)}/metadata`, new Uint8Array(100_000));
    expect(r.status).toBe(413);
    expect(reason(r.json)).toBe('PAYLOAD_TOO_LARGE');
    expect(node.store.hasMetadata(other.blobId)).toBe(false);
  });
});

describe('slivers', () => {
  const blob = encodeBlob(randomBytes(20_000, 5), { nShards: n });
  const heldPair = pairOf(blob.blobId, 2, n);
  const foreignPair = pairOf(blob.blobId, 8, n);

  it('are refused for an unregistered blob and before the metadata', async () => {
    let r = await put(`${B(blob)}/slivers/${heldPair}/primary`, copy(blob.pairs[heldPair].primary.toBcs()));
    expect([r.status, reason(r.json)]).toEqual([400, 'NOT_REGISTERED']);
    register(node, blob.blobId);
    r = await put(`${B(blob)}/slivers/${heldPair}/primary`, copy(blob.pairs[heldPair].primary.toBcs()));
    expect([r.status, reason(r.json)]).toEqual([400, 'METADATA_NOT_FOUND']);
    expect(node.store.hasSliver(blob.blobId, heldPair, 'primary')).toBe(false);
  });

  it('are verified, stored (201 then 200) and served back byte for byte', async () => {
    expect((await put(`${B(blob)}/metadata`, copy(blob.metadata.toBcs()))).status).toBe(201);
    for (const axis of ['primary', 'secondary'] as const) {
      const bcs = copy(blob.pairs[heldPair][axis].toBcs());
      const r = await put(`${B(blob)}/slivers/${heldPair}/${axis}`, bcs);
      expect(r.json).toEqual({ success: { code: 201, data: 'sliver stored successfully' } });
      expect((await put(`${B(blob)}/slivers/${heldPair}/${axis}`, bcs)).json).toEqual({
        success: { code: 200, data: 'sliver already stored' },
      });
      const got = await call(`${B(blob)}/slivers/${heldPair}/${axis}`);
      expect(got.headers.get('content-type')).toBe('application/octet-stream');
      expect(got.bytes).toEqual(bcs);
      expect((await call(`${B(blob)}/slivers/${heldPair}/${axis}/status`)).json.success.data).toBe('stored');
    }
  });

  it('reject a sliver whose index does not belong to the pair', async () => {
    const pair = pairOf(blob.blobId, 3, n);
    const otherPair = pairOf(blob.blobId, 4, n);
    let r = await put(`${B(blob)}/slivers/${pair}/primary`, copy(blob.pairs[otherPair].primary.toBcs()));
    expect([r.status, reason(r.json)]).toEqual([400, 'INVALID_SLIVER']);
    expect(r.json.error.message).toMatch(/does not belong to sliver pair/);
    // A secondary sliver's index is n−1−pair, not pair.
    r = await put(`${B(blob)}/slivers/${pair}/secondary`, copy(blob.secondarySlivers[pair].toBcs()));
    expect(pair).not.toBe(n - 1 - pair); // n is even: no pair is its own mirror
    expect([r.status, reason(r.json)]).toEqual([400, 'INVALID_SLIVER']);
    expect(node.store.hasSliver(blob.blobId, pair, 'primary')).toBe(false);
  });

  it('reject slivers that fail verification (flipped bit, wrong length, wrong symbol size)', async () => {
    const pair = pairOf(blob.blobId, 5, n);
    const good = blob.pairs[pair].primary;
    let r = await put(`${B(blob)}/slivers/${pair}/primary`, copy(flipBit(good, 7, 2).toBcs()));
    expect([r.status, reason(r.json)]).toEqual([400, 'INVALID_SLIVER']);
    expect(r.json.error.message).toMatch(/Merkle root/);
    const short = SliverData.create('primary', good.data.subarray(0, good.data.length - good.symbolSize), good.symbolSize, good.index);
    r = await put(`${B(blob)}/slivers/${pair}/primary`, copy(short.toBcs()));
    expect([r.status, reason(r.json)]).toEqual([400, 'INVALID_SLIVER']);
    const resized = SliverData.create('primary', good.data, good.symbolSize / 2, good.index);
    r = await put(`${B(blob)}/slivers/${pair}/primary`, copy(resized.toBcs()));
    expect([r.status, reason(r.json)]).toEqual([400, 'INVALID_SLIVER']);
    expect(node.store.hasSliver(blob.blobId, pair, 'primary')).toBe(false);
  });

  it('reject malformed BCS, shards not held, out-of-range pairs and malformed paths', async () => {
    const pair = pairOf(blob.blobId, 6, n);
    const bcs = copy(blob.pairs[pair].primary.toBcs());
    let r = await put(`${B(blob)}/slivers/${pair}/primary`, bcs.subarray(0, bcs.length - 1));
    expect([r.status, reason(r.json)]).toEqual([400, 'INVALID_BCS']);
    r = await put(`${B(blob)}/slivers/${foreignPair}/primary`, copy(blob.pairs[foreignPair].primary.toBcs()));
    expect([r.status, reason(r.json)]).toEqual([400, 'SHARD_NOT_ASSIGNED']);
    expect(r.json.error.details[0].metadata).toEqual({ shard: 8, epoch: 3 });
    r = await call(`${B(blob)}/slivers/${foreignPair}/primary`);
    expect([r.status, reason(r.json)]).toEqual([400, 'SHARD_NOT_ASSIGNED']);
    r = await call(`${B(blob)}/slivers/${foreignPair}/primary/status`);
    expect([r.status, reason(r.json)]).toEqual([400, 'SHARD_NOT_ASSIGNED']);
    r = await put(`${B(blob)}/slivers/${n}/primary`, bcs);
    expect([r.status, reason(r.json)]).toEqual([400, 'INDEX_OUT_OF_RANGE']);
    for (const path of [
      `${node.url}/v1/blobs/not-a-blob-id/slivers/0/primary`,
      `${node.url}/v1/blobs/${blob.blobIdString}A/slivers/0/primary`,
      `${B(blob)}/slivers/-1/primary`,
      `${B(blob)}/slivers/1e2/primary`,
      `${B(blob)}/slivers/70000/primary`,
      `${B(blob)}/slivers/0/tertiary`,
    ]) {
      r = await put(path, bcs);
      expect(r.status, path).toBe(400);
      expect(r.json.error.code, path).toBe(400);
    }
    r = await put(`${B(blob)}/slivers/0/primary/extra`, bcs);
    expect([r.status, reason(r.json)]).toEqual([404, 'ROUTE_NOT_FOUND']);
    r = await put(`${B(blob)}/slivers/${pair}/primary`, new Uint8Array(cfg.secondarySymbols * 65534 + 2048));
    expect([r.status, reason(r.json)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(node.store.hasSliver(blob.blobId, pair, 'primary')).toBe(false);
    expect((await call(`${B(blob)}/slivers/${pair}/primary`)).status).toBe(404);
  });
});

describe('confirmations and blob status', () => {
  it('are signed only once every held shard has both slivers', async () => {
    const blob = encodeBlob(randomBytes(3000, 6), { nShards: n });
    expect((await call(`${B(blob)}/status`)).json).toEqual({ success: { code: 200, data: 'nonexistent' } });
    register(node, blob.blobId, { endEpoch: 9 });
    const st = (await call(`${B(blob)}/status`)).json.success.data;
    expect(st).toMatchObject({
      permanent: {
        endEpoch: 9,
        isCertified: false,
        initialCertifiedEpoch: null,
        deletableCounts: { count_deletable_total: 0, count_deletable_certified: 0 },
      },
    });
    expect(st.permanent.statusEvent).toEqual({ txDigest: expect.any(String), eventSeq: expect.stringMatching(/^\d+$/) });
    let r = await call(`${B(blob)}/confirmation/permanent`);
    expect([r.status, reason(r.json)]).toEqual([400, 'MISSING_SLIVERS']);
    await upload(blob);
    r = await call(`${B(blob)}/confirmation/permanent`);
    expect(r.status).toBe(200);
    const signed = r.json.success.data.signed;
    const message = new Uint8Array(Buffer.from(signed.serializedMessage, 'base64'));
    expect(message).toEqual(storageConfirmationMessage(3, blob.blobId, { kind: 'permanent' }));
    expect(blsVerify(new Uint8Array(Buffer.from(signed.signature, 'base64')), node.keys.publicKey, message)).toBe(true);
    // The deletable form needs a live deletable object with that ID.
    r = await call(`${B(blob)}/confirmation/deletable/0x${'ab'.repeat(32)}`);
    expect([r.status, reason(r.json)]).toEqual([400, 'NOT_REGISTERED']);
    r = await call(`${B(blob)}/confirmation/deletable/not-an-object`);
    expect(r.status).toBe(400);
  });

  it('are not signed for slivers without the metadata', async () => {
    const blob = encodeBlob(randomBytes(3000, 19), { nShards: n });
    register(node, blob.blobId);
    // Every held shard's slivers, but no metadata (as slivers left behind by a lost metadata entry).
    for (const shard of held) {
      const pair = pairOf(blob.blobId, shard, n);
      node.store.putSliver(blob.blobId, pair, 'primary', copy(blob.pairs[pair].primary.toBcs()));
      node.store.putSliver(blob.blobId, pair, 'secondary', copy(blob.pairs[pair].secondary.toBcs()));
    }
    let r = await call(`${B(blob)}/confirmation/permanent`);
    expect([r.status, reason(r.json)]).toEqual([400, 'MISSING_SLIVERS']);
    expect(r.json.error.details[0].metadata).toEqual({ missing: 'metadata' });
    expect((await put(`${B(blob)}/metadata`, copy(blob.metadata.toBcs()))).status).toBe(201);
    r = await call(`${B(blob)}/confirmation/permanent`);
    expect(r.status).toBe(200);
  });

  it('deletable: status counts and a confirmation bound to the object ID', async () => {
    const blob = encodeBlob(randomBytes(3000, 7), { nShards: n });
    const objectId = '0x' + 'cd'.repeat(32);
    register(node, blob.blobId, { objectId, deletable: true });
    await upload(blob);
    node.store.certifyObject(blob.blobId, objectId, true, 3, 10, { txDigest: 'cert', eventSeq: 0 });
    expect((await call(`${B(blob)}/status`)).json.success.data).toEqual({
      deletable: { initialCertifiedEpoch: 3, deletableCounts: { count_deletable_total: 1, count_deletable_certified: 1 } },
    });
    const r = await call(`${B(blob)}/confirmation/deletable/${objectId}`);
    expect(r.status).toBe(200);
    const msg = new Uint8Array(Buffer.from(r.json.success.data.signed.serializedMessage, 'base64'));
    expect(msg).toEqual(
      storageConfirmationMessage(3, blob.blobId, { kind: 'deletable', objectId: new Uint8Array(Buffer.from('cd'.repeat(32), 'hex')) }),
    );
  });

  it('long-polls for the registration with wait_for_registration/wait_millis', async () => {
    const blob = encodeBlob(randomBytes(10, 8), { nShards: n });
    const t0 = Date.now();
    let r = await call(`${B(blob)}/confirmation/permanent?wait_for_registration=true&wait_millis=300`);
    expect([r.status, reason(r.json)]).toEqual([400, 'NOT_REGISTERED']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    const pending = call(`${B(blob)}/confirmation/permanent?wait_for_registration=true&wait_millis=10000`);
    await new Promise((res) => setTimeout(res, 100));
    register(node, blob.blobId);
    r = await pending;
    // Registered now, but no slivers yet: the wait ended on the registration, not on the timeout.
    expect([r.status, reason(r.json)]).toEqual([400, 'MISSING_SLIVERS']);
    expect(Date.now() - t0).toBeLessThan(5000);
    r = await call(`${B(blob)}/confirmation/permanent?wait_for_registration=maybe`);
    expect([r.status, reason(r.json)]).toEqual([400, 'INVALID_QUERY']);
  });

  it('invalid blobs report the event, lose their data and refuse uploads', async () => {
    const blob = encodeBlob(randomBytes(3000, 9), { nShards: n });
    register(node, blob.blobId);
    await upload(blob);
    node.store.invalidate(blob.blobId, { txDigest: 'inv', eventSeq: 4 });
    expect((await call(`${B(blob)}/status`)).json.success.data).toEqual({ invalid: { event: { txDigest: 'inv', eventSeq: '4' } } });
    expect((await call(`${B(blob)}/metadata`)).status).toBe(404);
    expect(node.store.storedSliverKeys(blob.blobId).size).toBe(0);
    const r = await put(`${B(blob)}/metadata`, copy(blob.metadata.toBcs()));
    expect([r.status, reason(r.json)]).toEqual([400, 'INVALID_BLOB']);
  });
});

describe('pending uploads', () => {
  it('buffer metadata and slivers until the registration, then store them', async () => {
    const blob = encodeBlob(randomBytes(4000, 10), { nShards: n });
    const pair = pairOf(blob.blobId, 1, n);
    let r = await put(`${B(blob)}/metadata?pending=true`, copy(blob.metadata.toBcs()));
    expect(r.json).toEqual({ success: { code: 202, data: 'metadata buffered pending registration' } });
    expect((await call(`${B(blob)}/metadata/status`)).json.success.data).toBe('buffered');
    r = await put(`${B(blob)}/slivers/${pair}/primary?pending=true`, copy(blob.pairs[pair].primary.toBcs()));
    expect(r.json).toEqual({ success: { code: 202, data: 'sliver buffered pending registration' } });
    r = await put(`${B(blob)}/slivers/${pair}/secondary?pending=true`, copy(flipBit(blob.pairs[pair].secondary).toBcs()));
    expect([r.status, reason(r.json)]).toEqual([400, 'INVALID_SLIVER']);
    expect((await call(`${B(blob)}/slivers/${pair}/primary/status`)).json.success.data).toBe('buffered');
    expect(node.store.hasMetadata(blob.blobId)).toBe(false);
    register(node, blob.blobId);
    expect((await call(`${B(blob)}/metadata/status`)).json.success.data).toBe('stored');
    expect((await call(`${B(blob)}/slivers/${pair}/primary`)).bytes).toEqual(blob.pairs[pair].primary.toBcs());
  });
});

describe('pending buffer limits', () => {
  it('a full buffer answers 400 FAILED_PRECONDITION CACHE_SATURATED (as Walrus); stale entries make room', async () => {
    const t = tempDir();
    const small = await startBareNode({ dir: t.dir, nShards: n, shards: held, pool, limits: { maxPendingBytes: 1500, pendingTtlMs: 200 } });
    try {
      const blobs = [31, 32, 33].map((seed) => encodeBlob(randomBytes(100, seed), { nShards: n }));
      const putMeta = (b: EncodedBlob) => put(`${small.url}/v1/blobs/${b.blobIdString}/metadata?pending=true`, copy(b.metadata.toBcs()));
      expect((await putMeta(blobs[0])).status).toBe(202);
      expect((await putMeta(blobs[1])).status).toBe(202);
      const full = await putMeta(blobs[2]);
      expect([full.status, full.json.error.status, reason(full.json)]).toEqual([400, 'FAILED_PRECONDITION', 'CACHE_SATURATED']);
      await new Promise((r) => setTimeout(r, 250));
      expect((await putMeta(blobs[2])).status).toBe(202);
      expect((await call(`${small.url}/v1/blobs/${blobs[0].blobIdString}/metadata/status`)).json.success.data).toBe('nonexistent');
      expect((await call(`${small.url}/v1/blobs/${blobs[2].blobIdString}/metadata/status`)).json.success.data).toBe('buffered');
    } finally {
      await small.close();
      t.remove();
    }
  });
});

describe('pending buffer eviction', () => {
  it('an entry whose metadata a sliver is being verified against is not evicted; the sliver is buffered with it', async () => {
    const t = tempDir();
    const a = encodeBlob(randomBytes(100, 35), { nShards: n });
    const b = encodeBlob(randomBytes(100, 36), { nShards: n });
    const pair = pairOf(a.blobId, 0, n);
    const metaLen = a.metadata.toBcs().length;
    const sliverLen = a.pairs[pair].primary.toBcs().length;
    expect(sliverLen).toBeLessThan(b.metadata.toBcs().length); // so A's entry + B's metadata do not fit
    const small = await startBareNode({
      dir: t.dir,
      nShards: n,
      shards: held,
      pool,
      limits: { maxPendingBytes: metaLen + sliverLen + 10, pendingTtlMs: 1 },
    });
    try {
      expect(await small.service.putMetadata(a.blobId, copy(a.metadata.toBcs()), true)).toBe('buffered');
      await new Promise((r) => setTimeout(r, 10)); // A's entry is now stale
      // A sliver of A is being verified (on the pool) against A's buffered metadata…
      const sliver = small.service.putSliver(a.blobId, pair, 'primary', copy(a.pairs[pair].primary.toBcs()), true);
      // …so B's metadata may not evict A's entry to make room.
      const refused = await small.service.putMetadata(b.blobId, copy(b.metadata.toBcs()), true).then(
        () => null,
        (e) => e,
      );
      expect(refused?.reason).toBe('CACHE_SATURATED');
      expect(await sliver).toBe('buffered');
      expect(small.service.metadataStatus(a.blobId)).toBe('buffered');
      expect(small.service.sliverStatus(a.blobId, pair, 'primary')).toBe('buffered');
      // Once registered, metadata and sliver move into the store together.
      register(small, a.blobId);
      expect(small.store.hasMetadata(a.blobId)).toBe(true);
      expect(small.store.hasSliver(a.blobId, pair, 'primary')).toBe(true);
    } finally {
      await small.close();
      t.remove();
    }
  });
});

describe('recovery symbols', () => {
  const blob = encodeBlob(randomBytes(9000, 11), { nShards: n });
  beforeAll(async () => {
    register(node, blob.blobId);
    await upload(blob);
  });

  it('targetSliver form: one verified symbol per held source sliver', async () => {
    const target = 8; // a primary sliver whose pair the node does not hold, as a recovering peer would ask
    const r = await call(`${B(blob)}/recoverySymbols?targetSliver=${target}&targetType=primary`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/octet-stream');
    const symbols = recoverySymbolsFromBcs(r.bytes);
    expect(symbols).toHaveLength(held.length);
    for (const s of symbols) {
      expect(s).toMatchObject({ targetAxis: 'primary', targetIndex: target });
      expect(verifyRecoverySymbol(cfg, blob.metadata, s, 'primary', target)).toBe(true);
    }
    const expected = recoverySymbolsFrom(cfg, blob.secondarySlivers[symbols[0].sourceIndex], [target]);
    expect(symbols[0].data).toEqual(expected[0].data);
  });

  it('targetSliver form on a node holding more slivers than its expansion queue: all symbols, no 503', async () => {
    const t = tempDir();
    const small = await startBareNode({ dir: t.dir, nShards: n, shards: held, pool, limits: { maxQueuedExpansions: 2 } });
    try {
      register(small, blob.blobId);
      expect((await put(`${small.url}/v1/blobs/${blob.blobIdString}/metadata`, copy(blob.metadata.toBcs()))).status).toBe(201);
      for (const shard of held) {
        const pair = pairOf(blob.blobId, shard, n);
        expect(
          (await put(`${small.url}/v1/blobs/${blob.blobIdString}/slivers/${pair}/secondary`, copy(blob.pairs[pair].secondary.toBcs())))
            .status,
        ).toBe(201);
      }
      const r = await call(`${small.url}/v1/blobs/${blob.blobIdString}/recoverySymbols?targetSliver=8&targetType=primary`);
      expect(r.status).toBe(200);
      const symbols = recoverySymbolsFromBcs(r.bytes);
      expect(symbols).toHaveLength(held.length); // 7 source slivers > 2 queue slots
      for (const s of symbols) expect(verifyRecoverySymbol(cfg, blob.metadata, s, 'primary', 8)).toBe(true);
      // A full queue: nothing can be computed, so the answer is 503 (retryable), not an empty 200.
      const busy = [0, 1].map(() => small.service.expander.expand(cfg, 'primary', blob.primarySlivers[0].data, blob.symbolSize));
      const refused = await small.service.recoverySymbolsForTarget(blob.blobId, 8, 'primary', null).then(
        () => null,
        (e) => e,
      );
      expect([refused?.httpCode, refused?.retryable]).toEqual([503, true]);
      await Promise.all(busy);
    } finally {
      await small.close();
      t.remove();
    }
  });

  it('id form: symbols at the given intersections, on the requested proof axis', async () => {
    const p = pairOf(blob.blobId, 0, n); // the node holds primary sliver p and secondary sliver n−1−p
    const r = await call(`${B(blob)}/recoverySymbols?id=${p}-3&id=${p}-4&proofAxis=primary`);
    expect(r.status).toBe(200);
    const symbols = recoverySymbolsFromBcs(r.bytes);
    expect(symbols.map((s) => [s.targetAxis, s.sourceIndex, s.targetIndex])).toEqual([
      ['secondary', p, 3],
      ['secondary', p, 4],
    ]);
    for (const s of symbols) expect(verifyRecoverySymbol(cfg, blob.metadata, s, 'secondary', s.targetIndex)).toBe(true);
    const foreign = pairOf(blob.blobId, 9, n);
    const bad = await call(`${B(blob)}/recoverySymbols?id=${foreign}-${n - 1 - foreign}`);
    expect([bad.status, reason(bad.json)]).toEqual([400, 'SYMBOL_NOT_PRESENT_AT_SHARDS']);
    for (const q of [
      'id=3',
      'id=1-99',
      'targetSliver=1',
      'targetSliver=1&targetType=primary&proofAxis=primary',
      'id=1-1&targetSliver=1&targetType=primary',
    ]) {
      const e = await call(`${B(blob)}/recoverySymbols?${q}`);
      expect(e.status, q).toBe(400);
    }
    const none = await call(`${B(blob)}/recoverySymbols`);
    expect([none.status, reason(none.json)]).toEqual([400, 'NO_SYMBOLS_SPECIFIED']);
  });
});

describe('decoding symbols', () => {
  const blob = encodeBlob(randomBytes(7000, 16), { nShards: n });
  beforeAll(async () => {
    register(node, blob.blobId);
    await upload(blob);
  });

  /** Parses BTreeMap<u16, Vec<EitherDecodingSymbol>> (test-side reader, written from the spec). */
  function parse(bytes: Uint8Array): Map<number, { variant: number; index: number; data: Uint8Array }[]> {
    let off = 0;
    const uleb = () => {
      let v = 0,
        shift = 0,
        b;
      do {
        b = bytes[off++];
        v += (b & 0x7f) * 2 ** shift;
        shift += 7;
      } while (b & 0x80);
      return v;
    };
    const u16 = () => bytes[off++] | (bytes[off++] << 8);
    const out = new Map();
    for (let e = uleb(); e > 0; e--) {
      const key = u16();
      const list = [];
      for (let c = uleb(); c > 0; c--) {
        const variant = bytes[off++];
        const index = u16();
        const len = uleb();
        list.push({ variant, index, data: bytes.slice(off, off + len) });
        off += len;
      }
      out.set(key, list);
    }
    expect(off).toBe(bytes.length);
    return out;
  }

  it('return, per systematic target, the raw symbols of the held orthogonal slivers', async () => {
    const r = await call(`${B(blob)}/decodingSymbols?targetSlivers=1&targetSlivers=0&targetType=primary`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/octet-stream');
    const map = parse(r.bytes);
    expect([...map.keys()]).toEqual([0, 1]);
    for (const [t, list] of map) {
      expect(list).toHaveLength(held.length);
      for (const s of list) {
        expect(s.variant).toBe(0);
        expect(s.data).toEqual(blob.secondarySlivers[s.index].symbol(t));
      }
    }
    const sec = parse((await call(`${B(blob)}/decodingSymbols?targetSlivers=2&targetType=secondary`)).bytes);
    for (const s of sec.get(2)!) {
      expect(s.variant).toBe(1);
      expect(s.data).toEqual(blob.primarySlivers[s.index].symbol(2));
    }
  });

  it('reject non-systematic targets, missing targets and bad queries', async () => {
    let r = await call(`${B(blob)}/decodingSymbols?targetSlivers=${cfg.primarySymbols}&targetType=primary`);
    expect([r.status, reason(r.json)]).toEqual([400, 'RECOVERY_SYMBOL_OUT_OF_RANGE']);
    r = await call(`${B(blob)}/decodingSymbols?targetType=primary`);
    expect([r.status, reason(r.json)]).toEqual([400, 'NO_TARGET_SLIVERS_SPECIFIED']);
    r = await call(`${B(blob)}/decodingSymbols?targetSlivers=x&targetType=primary`);
    expect(r.status).toBe(400);
    r = await call(`${B(blob)}/decodingSymbols?targetSlivers=1`);
    expect([r.status, reason(r.json)]).toEqual([400, 'INVALID_QUERY']);
  });

  it('cap targets × held slivers at maxSymbolsPerRequest', async () => {
    const t = tempDir();
    // 7 held shards × 2 targets = 14 > 10; 7 × 1 = 7 fits.
    const small = await startBareNode({ dir: t.dir, nShards: n, shards: held, pool, limits: { maxSymbolsPerRequest: 10 } });
    try {
      register(small, blob.blobId);
      expect((await put(`${small.url}/v1/blobs/${blob.blobIdString}/metadata`, copy(blob.metadata.toBcs()))).status).toBe(201);
      let r = await call(`${small.url}/v1/blobs/${blob.blobIdString}/decodingSymbols?targetSlivers=0&targetSlivers=1&targetType=primary`);
      expect([r.status, reason(r.json)]).toEqual([400, 'TOO_MANY_SYMBOLS']);
      r = await call(`${small.url}/v1/blobs/${blob.blobIdString}/decodingSymbols?targetSlivers=1&targetType=primary`);
      expect(r.status).toBe(200);
    } finally {
      await small.close();
      t.remove();
    }
  });
});

describe('inconsistency proofs', () => {
  it('a valid proof earns a signed invalid-blob-ID attestation; a bogus one 400 INVALID_PROOF', async () => {
    const blob = encodeBlob(randomBytes(6000, 12), { nShards: n });
    const bad = inconsistentEncoding(blob, 1);
    const id = bad.metadata.blobIdString;
    register(node, bad.metadata.blobId);
    expect((await put(`${node.url}/v1/blobs/${id}/metadata`, copy(bad.metadata.metadata.toBcs()))).status).toBe(201);
    const symbols = bad.primary.slice(0, cfg.primarySymbols).flatMap((s) => recoverySymbolsFrom(cfg, s, [0]));
    const proof = recoverSliver(cfg, bad.metadata.metadata, 'secondary', 0, symbols).inconsistencyProof!;
    const body = inconsistencyProofToBcs(proof);
    const post = (axis: string, b: Uint8Array) =>
      call(`${node.url}/v1/blobs/${id}/inconsistencyProof/${axis}`, {
        method: 'POST',
        body: Buffer.from(b),
        headers: { 'content-type': 'application/octet-stream' },
      });
    let r = await post('secondary', body);
    expect(r.status).toBe(200);
    const att = r.json.success.data;
    const message = new Uint8Array(Buffer.from(att.serializedMessage, 'base64'));
    expect(message).toEqual(invalidBlobIdMessage(3, bad.metadata.blobId));
    expect(blsVerify(new Uint8Array(Buffer.from(att.signature, 'base64')), node.keys.publicKey, message)).toBe(true);
    r = await post('primary', body); // the same symbols read as a primary proof do not verify
    expect([r.status, reason(r.json)]).toEqual([400, 'INVALID_PROOF']);
    r = await post('secondary', body.subarray(0, body.length - 3));
    expect([r.status, reason(r.json)]).toEqual([400, 'INVALID_BCS']);
    // Fail fast: a tampered or duplicated symbol is refused before any pool work, even when the
    // pool's queue is full (which would otherwise answer 503).
    const tampered = inconsistencyProofToBcs({
      ...proof,
      symbols: proof.symbols.map((s, i) => (i === 1 ? { ...s, data: s.data.map((b) => b ^ 1) } : s)),
    });
    const duplicated = inconsistencyProofToBcs({ ...proof, symbols: proof.symbols.map((s, i) => (i === 1 ? proof.symbols[0] : s)) });
    const busy = Array.from({ length: 64 }, () =>
      node.service.expander.expand(cfg, 'primary', blob.primarySlivers[0].data, blob.symbolSize),
    );
    try {
      r = await post('secondary', tampered);
      expect([r.status, reason(r.json)]).toEqual([400, 'INVALID_PROOF']);
      expect(r.json.error.message).toMatch(/Merkle proof of symbol/);
      r = await post('secondary', duplicated);
      expect([r.status, reason(r.json)]).toEqual([400, 'INVALID_PROOF']);
      expect(r.json.error.message).toMatch(/given twice/);
    } finally {
      await Promise.all(busy);
    }
    r = await call(`${node.url}/v1/blobs/${blob.blobIdString}/inconsistencyProof/secondary`, {
      method: 'POST',
      body: Buffer.from(body),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect([r.status, reason(r.json)]).toEqual([400, 'METADATA_NOT_FOUND']);
  });
});

describe('health', () => {
  it('reports epoch, key, shards and event progress', async () => {
    const r = await call(`${node.url}/v1/health?detailed=true`);
    expect(r.status).toBe(200);
    expect(r.json.success.data).toMatchObject({
      epoch: 3,
      publicKey: Buffer.from(node.keys.publicKey).toString('base64'),
      nodeStatus: 'Active',
      shardSummary: { owned: held.length },
    });
    expect(r.json.success.data).toMatchObject({
      eventProgress: { persisted: expect.any(Number), pending: expect.any(Number) },
      shardDetail: { owned: [...held].sort((a, b) => a - b).map((shard) => ({ shard, status: 'ready' })) },
      storage: expect.any(Object),
    });
  });
});

describe('admission control', () => {
  it('a bounded flood gets some 429s, and every request is answered promptly', async () => {
    const t = tempDir();
    const small = await startBareNode({ dir: t.dir, nShards: n, shards: held, pool, maxInFlight: 4 });
    try {
      const blob = encodeBlob(randomBytes(100, 13), { nShards: n });
      const t0 = Date.now();
      // Long polls (unregistered blob) occupy the in-flight slots; the rest must be refused at once.
      const requests = Array.from({ length: 40 }, () =>
        call(`${small.url}/v1/blobs/${blob.blobIdString}/confirmation/permanent?wait_for_registration=true&wait_millis=1500`),
      );
      const results = await Promise.all(requests);
      const codes = results.map((r) => r.status);
      expect(codes.filter((c) => c === 429).length).toBeGreaterThanOrEqual(30);
      expect(codes.every((c) => c === 429 || c === 400)).toBe(true);
      expect(results.find((r) => r.status === 429)!.json.error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
      expect(Date.now() - t0).toBeLessThan(10_000);
      // Once the flood is over the node serves again.
      expect((await call(`${small.url}/v1/health`)).status).toBe(200);
    } finally {
      await small.close();
      t.remove();
    }
  });

  it('requests whose clients vanish mid-body free their slot', async () => {
    const t = tempDir();
    const small = await startBareNode({ dir: t.dir, nShards: n, shards: held, pool, maxInFlight: 2 });
    try {
      const { connect } = await import('node:net');
      const port = Number(new URL(small.url).port);
      const blob = encodeBlob(randomBytes(100, 17), { nShards: n });
      // Registered and held: the cheap checks before the body pass, so the bodies are awaited.
      register(small, blob.blobId);
      const pair = pairOf(blob.blobId, 0, n);
      // Two uploads that announce 100 kB and send 10 bytes hold both slots…
      const sockets = await Promise.all(
        [0, 1].map(
          () =>
            new Promise<import('node:net').Socket>((resolve) => {
              const sock = connect(port, '127.0.0.1', () => {
                sock.write(
                  `PUT /v1/blobs/${blob.blobIdString}/slivers/${pair}/primary HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n0123456789`,
                );
                resolve(sock);
              });
            }),
        ),
      );
      await new Promise((r) => setTimeout(r, 300));
      expect((await call(`${small.url}/v1/health`)).status).toBe(429);
      // …until their clients disappear.
      for (const s of sockets) s.destroy();
      await new Promise((r) => setTimeout(r, 300));
      expect((await call(`${small.url}/v1/health`)).status).toBe(200);
      expect(small.store.hasSliver(blob.blobId, pair, 'primary')).toBe(false);
    } finally {
      await small.close();
      t.remove();
    }
  });

  it('misdirected uploads are refused before their body', async () => {
    const t = tempDir();
    const small = await startBareNode({ dir: t.dir, nShards: n, shards: held, pool, maxBodyBytesInFlight: 150_000 });
    const { connect } = await import('node:net');
    const port = Number(new URL(small.url).port);
    const open = (head: string) =>
      new Promise<{ sock: import('node:net').Socket; answer: Promise<string> }>((resolve) => {
        const sock = connect(port, '127.0.0.1', () => {
          sock.write(head);
          let text = '';
          const answer = new Promise<string>((r) => {
            sock.on('data', (d) => {
              text += d.toString('latin1');
              if (text.includes('\r\n\r\n')) r(text);
            });
            sock.on('close', () => r(text));
          });
          resolve({ sock, answer });
        });
      });
    try {
      const blob = encodeBlob(randomBytes(100, 18), { nShards: n });
      const heldPair = pairOf(blob.blobId, 0, n);
      const foreignPair = pairOf(blob.blobId, 9, n);
      const head = (pair: number, length: number) =>
        `PUT /v1/blobs/${blob.blobIdString}/slivers/${pair}/primary HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n\r\n`;
      // Unregistered: answered NOT_REGISTERED with no body byte sent.
      let c = await open(head(heldPair, 100_000));
      expect(await c.answer).toMatch(/^HTTP\/1\.1 400[\s\S]*NOT_REGISTERED/);
      c.sock.destroy();
      register(small, blob.blobId);
      // A shard this node does not hold: SHARD_NOT_ASSIGNED, again before the body.
      c = await open(head(foreignPair, 100_000));
      expect(await c.answer).toMatch(/^HTTP\/1\.1 400[\s\S]*SHARD_NOT_ASSIGNED/);
      c.sock.destroy();
      // A declared Content-Length costs nothing until its bytes arrive (test/node/slowloris.test.ts
      // covers the budget charged by real bytes, the body-idle timeout and the connection cap).
      // Budget released: a real upload of metadata and a sliver goes through.
      expect((await put(`${small.url}/v1/blobs/${blob.blobIdString}/metadata`, copy(blob.metadata.toBcs()))).status).toBe(201);
      expect(
        (await put(`${small.url}/v1/blobs/${blob.blobIdString}/slivers/${heldPair}/primary`, copy(blob.pairs[heldPair].primary.toBcs())))
          .status,
      ).toBe(201);
    } finally {
      await small.close();
      t.remove();
    }
  });

  it('a shard moved away while its sliver was being verified is not stored', async () => {
    const t = tempDir();
    const small = await startBareNode({ dir: t.dir, nShards: n, shards: held, pool, epoch: 3 });
    try {
      const blob = encodeBlob(randomBytes(5000, 21), { nShards: n });
      register(small, blob.blobId);
      expect((await put(`${small.url}/v1/blobs/${blob.blobIdString}/metadata`, copy(blob.metadata.toBcs()))).status).toBe(201);
      const pair = pairOf(blob.blobId, 0, n);
      const upload = small.service.putSliver(blob.blobId, pair, 'primary', copy(blob.pairs[pair].primary.toBcs()), false);
      // The epoch's shards change (as the follower records them) while the sliver is on the pool.
      small.store.setShards(
        3,
        held.filter((s) => s !== 0),
      );
      const refused = await upload.then(
        () => null,
        (e) => e,
      );
      expect(refused?.reason).toBe('SHARD_NOT_ASSIGNED');
      expect(small.store.hasSliver(blob.blobId, pair, 'primary')).toBe(false);
    } finally {
      await small.close();
      t.remove();
    }
  });

  it('saturated sliver verification answers 503 and stores nothing it did not verify', async () => {
    const t = tempDir();
    const small = await startBareNode({ dir: t.dir, nShards: n, shards: held, pool, limits: { maxQueuedExpansions: 2 } });
    try {
      const blob = encodeBlob(randomBytes(200_000, 14), { nShards: n });
      register(small, blob.blobId);
      expect((await put(`${small.url}/v1/blobs/${blob.blobIdString}/metadata`, copy(blob.metadata.toBcs()))).status).toBe(201);
      // Fill the verification queue (as concurrent uploads would), then upload one more.
      const busy = [0, 1].map(() => small.service.expander.expand(cfg, 'primary', blob.primarySlivers[0].data, blob.symbolSize));
      expect(small.service.expander.pending).toBe(2);
      const pair = pairOf(blob.blobId, 0, n);
      const url = `${small.url}/v1/blobs/${blob.blobIdString}/slivers/${pair}/primary`;
      // The admission check runs before the handler's first await, so call the service directly:
      // over HTTP the two expansions may finish before the request arrives.
      const refused = await small.service.putSliver(blob.blobId, pair, 'primary', copy(blob.pairs[pair].primary.toBcs()), false).then(
        () => null,
        (e) => e,
      );
      expect(refused).toBeInstanceOf(ApiError);
      expect([refused.httpCode, refused.status, refused.retryable]).toEqual([503, 'UNAVAILABLE', true]);
      expect(refused.toJSON()).toMatchObject({ error: { code: 503, status: 'UNAVAILABLE', details: [{ reason: 'UNAVAILABLE' }] } });
      expect(small.store.hasSliver(blob.blobId, pair, 'primary')).toBe(false);
      await Promise.all(busy);
      expect((await put(url, copy(blob.pairs[pair].primary.toBcs()))).status).toBe(201);
      expect(small.store.hasSliver(blob.blobId, pair, 'primary')).toBe(true);
    } finally {
      await small.close();
      t.remove();
    }
  });
});
