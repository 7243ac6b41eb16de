/**
 * Full disk: a storage node whose database cannot grow (SQLite's max_page_count — the same
 * SQLITE_FULL a full file system gives, without needing root for a tmpfs) refuses uploads with a
 * retryable 507 STORAGE_FULL in Walrus's error envelope, corrupts nothing it held before, and
 * accepts uploads again once space returns. A store through the client still succeeds meanwhile
 * (the full node holds at most f shards).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startLocalNetwork, type LocalNetwork } from './local-network.ts';
import { storeBlob } from '../../src/client/store-blob.ts';
import { readBlob } from '../../src/client/read-blob.ts';
import { encodeBlob } from '../../src/codec/encode.ts';
import { StorageNodeClient } from '../../src/node-api/client.ts';
import { StorageNodeError } from '../../src/errors.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { pairOf } from './helpers.ts';
import { blobIdToString } from '../../src/codec/blob-id.ts';

const nShards = 10;
let net: LocalNetwork;

beforeAll(async () => {
  net = await startLocalNetwork({ nShards, nodes: 4 });
});

afterAll(() => net?.close());

it('a full node answers 507 STORAGE_FULL (retryable), keeps what it had, and resumes when space returns', async () => {
  const { chain, pool, user, nodes } = net;
  const before = randomBytes(30_000, 1);
  const first = await storeBlob(before, { chain, signer: user, epochs: 3, pool });
  await first.background;
  const node = nodes[0];
  const shard = node.service.currentShards()[0];
  const encBefore = encodeBlob(before, { nShards });
  const pairBefore = pairOf(encBefore.blobId, shard, nShards);
  const held = new Uint8Array(node.service.store.getSliver(encBefore.blobId, pairBefore, 'primary')!);

  // Fill node-0: its database may not grow by a single page.
  node.service.store.limitSize(node.service.store.usedBytes());
  const data = randomBytes(200_000, 2);
  const enc = encodeBlob(data, { nShards });
  const stored = await storeBlob(data, { chain, signer: user, epochs: 3, pool });
  await stored.background.catch(() => undefined);
  expect(stored.blobId).toBe(blobIdToString(enc.blobId));

  // A direct upload of node-0's sliver: refused, in Walrus's envelope, retryable; nothing stored.
  const pair = pairOf(enc.blobId, shard, nShards);
  const client = new StorageNodeClient(node.url);
  await client.storeMetadata(enc.blobId, enc.metadata).catch(() => undefined);
  const err = await client.storeSliver(enc.blobId, pair, enc.pairs[pair].primary).then(
    () => null,
    (e: unknown) => e,
  );
  if (node.service.store.getSliver(enc.blobId, pair, 'primary') === null) {
    expect(err).toBeInstanceOf(StorageNodeError);
    expect((err as StorageNodeError).status).toBe(507);
    expect((err as StorageNodeError).reason).toBe('STORAGE_FULL');
    expect((err as StorageNodeError).retryable).toBe(true);
    const raw = await fetch(`${node.url}/v1/blobs/${Buffer.from(enc.blobId).toString('base64url')}/slivers/${pair}/primary`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.from(enc.pairs[pair].primary.toBcs()),
    });
    expect(raw.status).toBe(507);
    expect(raw.headers.get('retry-after')).toBe('30');
    const body = (await raw.json()) as { error: { code: number; status: string; details: { reason: string }[] } };
    expect(body.error.code).toBe(507);
    expect(body.error.status).toBe('UNAVAILABLE');
    expect(body.error.details[0].reason).toBe('STORAGE_FULL');
  } else {
    throw new Error('node-0 stored a sliver past its cap: the fault was not injected');
  }
  // Nothing it held is damaged, and reads still work.
  expect(new Uint8Array(node.service.store.getSliver(encBefore.blobId, pairBefore, 'primary')!)).toEqual(held);
  expect(Buffer.compare(Buffer.from(await readBlob(stored.blobId, { chain, pool })), Buffer.from(data))).toBe(0);

  // Space returns: the same upload succeeds.
  node.service.store.limitSize(null);
  await client.storeMetadata(enc.blobId, enc.metadata).catch(() => undefined);
  await client.storeSliver(enc.blobId, pair, enc.pairs[pair].primary);
  expect(new Uint8Array(node.service.store.getSliver(enc.blobId, pair, 'primary')!)).toEqual(
    new Uint8Array(enc.pairs[pair].primary.toBcs()),
  );
});
