/**
 * The gateway's quilt routes over real HTTP on loopback against a `tusk dev` network of
 * processes: PUT /v1/quilts (multipart, `_metadata` tags) answering Walrus's QuiltStoreResult,
 * and the three read routes with Walrus's headers and errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNetwork, type TestNetwork } from '../network/test-network.ts';
import { startDaemon, type Daemon } from '../../src/gateway/daemon.ts';
import { encodeQuilt } from '../../src/quilt/quilt-encode.ts';
import { call, reasonOf } from './helpers.ts';

let t: TestNetwork;
let gw: Daemon;

beforeAll(async () => {
  t = await startTestNetwork('tusk-gw-quilt-', { nodes: 4, nShards: 20 });
  gw = await startDaemon({
    mode: 'daemon',
    chain: t.chain,
    signer: t.wallet,
    pool: t.pool,
    bindAddress: '127.0.0.1:0',
    metricsAddress: null,
  });
}, 120_000);

afterAll(async () => {
  await gw?.close();
  await t?.stop();
});

const files: Record<string, string> = {
  'index.html': '<!DOCTYPE html><h1>hello</h1>',
  'style.css': 'h1 { color: red }',
  'a b.txt': 'x'.repeat(5000),
};

describe('quilt routes', () => {
  let stored: { blobStoreResult: Record<string, any>; storedQuiltBlobs: { identifier: string; quiltPatchId: string; range: number[] }[] };

  it('PUT /v1/quilts stores the form fields as one quilt and answers QuiltStoreResult', async () => {
    const form = new FormData();
    for (const [name, text] of Object.entries(files)) form.append(name, new Blob([text]), `ignored-${name}`);
    form.append(
      '_metadata',
      JSON.stringify([
        { identifier: 'style.css', tags: { 'content-type': 'text/css', n: 3 } },
        { identifier: 'nope', tags: {} },
      ]),
    );
    const r = await call(`${gw.url}/v1/quilts?epochs=2`, { method: 'PUT', body: form });
    expect(r.status, r.text).toBe(200);
    stored = JSON.parse(r.text);
    expect(Object.keys(stored)).toEqual(['blobStoreResult', 'storedQuiltBlobs']);
    const created = stored.blobStoreResult.newlyCreated;
    expect(Object.keys(created)).toEqual(['blobObject', 'resourceOperation', 'cost']);
    expect(created.blobObject.encodingType).toBe('RS2');
    // Same bytes as the library's encoder: same quilt ID and patch IDs, in sorted identifier order.
    const committee = await t.chain.committee();
    const enc = encodeQuilt(
      Object.entries(files).map(([identifier, text]) => ({
        identifier,
        contents: new TextEncoder().encode(text),
        tags: identifier === 'style.css' ? { 'content-type': 'text/css', n: '3' } : undefined,
      })),
      { nShards: committee.nShards },
    );
    expect(created.blobObject.size).toBe(enc.quilt.length);
    expect(stored.storedQuiltBlobs.map((p) => p.identifier)).toEqual(['a b.txt', 'index.html', 'style.css']);
    expect(stored.storedQuiltBlobs.map((p) => p.range)).toEqual(enc.patches.map((p) => [p.startIndex, p.endIndex]));
    const obj = await t.chain.getBlob(created.blobObject.id);
    expect(obj?.attributes).toEqual({ _walrusBlobType: 'quilt' });
  }, 120_000);

  it('GET by-quilt-patch-id returns the patch with Walrus headers (ETag = quilt ID)', async () => {
    const quiltId = stored.blobStoreResult.newlyCreated.blobObject.blobId;
    for (const p of stored.storedQuiltBlobs) {
      const r = await call(`${gw.url}/v1/blobs/by-quilt-patch-id/${p.quiltPatchId}`);
      expect(r.status).toBe(200);
      expect(r.text).toBe(files[p.identifier]);
      expect(r.headers.get('etag')).toBe(quiltId);
      expect(r.headers.get('x-quilt-patch-identifier')).toBe(p.identifier);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('cache-control')).toBe('public, max-age=86400, stale-while-revalidate=3600');
    }
    // An allow-listed tag becomes a header.
    const css = stored.storedQuiltBlobs.find((p) => p.identifier === 'style.css')!;
    expect((await call(`${gw.url}/v1/blobs/by-quilt-patch-id/${css.quiltPatchId}`)).headers.get('content-type')).toBe('text/css');
    const r304 = await call(`${gw.url}/v1/blobs/by-quilt-patch-id/${css.quiltPatchId}`, { headers: { 'if-none-match': quiltId } });
    expect(r304.status).toBe(304);
  }, 60_000);

  it('GET by-quilt-id/{id}/{identifier} and the patch list', async () => {
    const quiltId = stored.blobStoreResult.newlyCreated.blobObject.blobId;
    const r = await call(`${gw.url}/v1/blobs/by-quilt-id/${quiltId}/${encodeURIComponent('a b.txt')}`);
    expect(r.status).toBe(200);
    expect(r.text).toBe(files['a b.txt']);
    expect(r.headers.get('x-quilt-patch-identifier')).toBe('a b.txt');
    const missing = await call(`${gw.url}/v1/blobs/by-quilt-id/${quiltId}/absent.txt`);
    expect(missing.status).toBe(404);
    expect(reasonOf(missing)).toBe('QUILT_PATCH_NOT_FOUND');
    const list = await call(`${gw.url}/v1/quilts/${quiltId}/patches`);
    expect(list.status).toBe(200);
    expect(JSON.parse(list.text)).toEqual(
      stored.storedQuiltBlobs.map((p) => ({
        identifier: p.identifier,
        patch_id: p.quiltPatchId,
        tags: p.identifier === 'style.css' ? { 'content-type': 'text/css', n: '3' } : {},
      })),
    );
  }, 60_000);

  it('bad input: malformed IDs (400 text), unknown quilt (404), empty form and bad metadata (400 MALFORMED_REQUEST)', async () => {
    expect((await call(`${gw.url}/v1/blobs/by-quilt-patch-id/not-a-patch-id`)).status).toBe(400);
    const unknown = await call(`${gw.url}/v1/blobs/by-quilt-id/${'A'.repeat(43)}/x`);
    expect(unknown.status).toBe(404);
    expect(reasonOf(unknown)).toBe('BLOB_NOT_FOUND');
    const empty = new FormData();
    empty.append('_metadata', '[]');
    const e = await call(`${gw.url}/v1/quilts`, { method: 'PUT', body: empty });
    expect(e.status).toBe(400);
    expect(reasonOf(e)).toBe('MALFORMED_REQUEST');
    const bad = new FormData();
    bad.append('a', 'x');
    bad.append('_metadata', '{not json');
    const b = await call(`${gw.url}/v1/quilts`, { method: 'PUT', body: bad });
    expect(b.status).toBe(400);
    expect(JSON.parse(b.text).error.message).toMatch(/failed to parse multipart form/);
    const dup = new FormData();
    dup.append('a', 'x');
    dup.append('a', 'y');
    const d = await call(`${gw.url}/v1/quilts`, { method: 'PUT', body: dup });
    expect(d.status).toBe(400);
    expect(JSON.parse(d.text).error.message).toMatch(/failed to construct quilt/);
    expect((await call(`${gw.url}/v1/quilts?bogus=1`, { method: 'PUT', body: dup })).status).toBe(400);
  }, 60_000);
});
