/**
 * Quilts on a real local network of processes (the chain and 4 storage nodes, 100 shards):
 * a quilt of 60 patches is stored with `storeQuilt`; reading one 1 KiB patch fetches only the
 * metadata and that patch's column (secondary sliver) — every request and byte is counted through
 * the node client's fetch — and the column is verified against the metadata (a corrupted column
 * is rejected and the reader falls back to the whole quilt). A non-quilt blob read as a quilt and
 * bad input to `storeQuilt` give clear errors, and bad input stores and pays nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { encodeQuilt as officialEncodeQuilt } from '@mysten/walrus';
import type { DevNetwork } from '../../src/network/dev-network.ts';
import type { RemoteChain } from '../../src/chain/remote/client.ts';
import { storeBlob } from '../../src/client/store-blob.ts';
import { StorageNodeClient } from '../../src/node-api/client.ts';
import type { CodecPool } from '../../src/pool/codec-pool.ts';
import { storeQuilt, readQuiltPatch, listQuiltPatches, walrusPatchList, QuiltReader } from '../../src/quilt/client.ts';
import { QuiltFormatError, quiltGeometry } from '../../src/quilt/format.ts';
import { encodeQuiltPatchId } from '../../src/quilt/patch-id.ts';
import { TuskInputError } from '../../src/errors.ts';
import { officialBlobId, blobIdToBase64Url } from '../helpers/official.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { runTusk } from '../helpers/cli.ts';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { startTestNetwork, type TestNetwork } from './test-network.ts';
import type { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';

const N_SHARDS = 100;
let net: DevNetwork;
let dir: string;
let chain: RemoteChain;
let wallet: Ed25519Keypair;
let pool: CodecPool;

let testNet: TestNetwork;

beforeAll(async () => {
  testNet = await startTestNetwork('tusk-quilt-', { nShards: N_SHARDS });
  ({ net, dir, chain, wallet, pool } = testNet);
}, 180_000);

afterAll(() => testNet?.stop());

/** A node-client factory whose fetch records every request and counts the response bytes. */
function counting(tamper?: (url: string, body: Uint8Array) => Uint8Array) {
  const log: { method: string; path: string; bytes: number }[] = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    let body: Uint8Array = new Uint8Array(await res.arrayBuffer());
    const url = String(input);
    if (tamper) body = tamper(url, body);
    log.push({ method: init?.method ?? 'GET', path: new URL(url).pathname, bytes: body.length });
    return new Response(body as Uint8Array<ArrayBuffer>, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  return { log, nodeClient: (address: string) => new StorageNodeClient(address, { fetch: fetchImpl }) };
}

const files = Array.from({ length: 60 }, (_, i) => ({
  identifier: `patch-${String(i).padStart(2, '0')}${i % 7 === 0 ? '-é' : ''}.json`,
  contents: randomBytes(1024, 1000 + i),
  tags: i % 3 === 0 ? { kind: 'meta', n: String(i) } : undefined,
}));
let quiltId: string;
let stored: { identifier: string; quiltPatchId: string; range: readonly [number, number] }[];

describe('quilts on a local network of processes', () => {
  it('stores 60 patches of 1 KiB as one quilt whose IDs are the official ones', async () => {
    const r = await storeQuilt(files, { chain, signer: wallet, epochs: 2, pool });
    await r.blobStoreResult.background;
    quiltId = r.quiltId;
    stored = [...r.storedQuiltBlobs];
    const ref = officialEncodeQuilt({ blobs: files.map((f) => ({ ...f, tags: f.tags ?? {} })), numShards: N_SHARDS });
    expect(quiltId).toBe(blobIdToBase64Url(officialBlobId(ref.quilt, N_SHARDS)));
    expect(stored.map((p) => [p.identifier, p.range[0], p.range[1]])).toEqual(
      ref.index.patches.map((p: { identifier: string; startIndex: number; endIndex: number }) => [p.identifier, p.startIndex, p.endIndex]),
    );
    expect(stored.map((p) => p.quiltPatchId)).toEqual(
      ref.index.patches.map((p: { startIndex: number; endIndex: number }) => encodeQuiltPatchId(quiltId, p.startIndex, p.endIndex)),
    );
    expect((await chain.getBlob(r.blobStoreResult.blobObjectId))?.certifiedEpoch).not.toBeNull();
  });

  it('reading one 1 KiB patch by patch ID fetches only the metadata and its column', async () => {
    const target = stored[37];
    const source = files.find((f) => f.identifier === target.identifier)!;
    const { log, nodeClient } = counting();
    const patch = await readQuiltPatch(null, { quiltPatchId: target.quiltPatchId }, { chain, pool, nodeClient });
    expect(patch.identifier).toBe(target.identifier);
    expect(Buffer.compare(Buffer.from(patch.data), Buffer.from(source.contents))).toBe(0);
    expect(patch.tags).toEqual(source.tags ?? {});
    const columns = target.range[1] - target.range[0];
    expect(columns).toBe(1);
    const slivers = log.filter((l) => l.path.includes('/slivers/'));
    const pair = N_SHARDS - 1 - target.range[0];
    expect(slivers.map((l) => l.path)).toEqual([`/v1/blobs/${quiltId}/slivers/${pair}/secondary`]);
    expect(log.filter((l) => !l.path.includes('/slivers/')).every((l) => l.path === `/v1/blobs/${quiltId}/metadata`)).toBe(true);
    const reader = await QuiltReader.open(quiltId, { chain, pool });
    const { rows, columns: C } = quiltGeometry(N_SHARDS);
    const S = reader.symbolSize;
    const total = log.reduce((s, l) => s + l.bytes, 0);
    const metadataBytes = log.filter((l) => l.path.endsWith('/metadata')).reduce((s, l) => s + l.bytes, 0);
    // The column is R·S bytes plus its BCS framing; the metadata ~64 B per shard (asked of up to
    // 3 nodes at once, the first verified answer wins).
    expect(slivers[0].bytes).toBeLessThanOrEqual(rows * S + 8);
    expect(total).toBe(metadataBytes + slivers[0].bytes);
    // Versus the whole quilt (R·C·S bytes, what a blob read must gather).
    expect(slivers[0].bytes * 10).toBeLessThan(rows * C * S);
    console.log(
      `[quilt] read of a 1 KiB patch: ${log.length} requests, ${total} bytes (metadata ${metadataBytes}, column ${slivers[0].bytes}); quilt ${rows * C * S} bytes`,
    );
  });

  it('by identifier it also reads the index column; list gives the patches and IDs of the store', async () => {
    const target = stored[5];
    const { log, nodeClient } = counting();
    const patch = await readQuiltPatch(quiltId, { identifier: target.identifier }, { chain, pool, nodeClient });
    expect(patch.quiltPatchId).toBe(target.quiltPatchId);
    expect(Buffer.compare(Buffer.from(patch.data), Buffer.from(files.find((f) => f.identifier === target.identifier)!.contents))).toBe(0);
    const pairs = log
      .filter((l) => l.path.includes('/slivers/'))
      .map((l) => Number(l.path.split('/')[5]))
      .sort((a, b) => a - b);
    // The index of 60 identifiers and their tags spans the columns before the first patch.
    const indexColumns = stored[0].range[0];
    expect(indexColumns).toBeGreaterThanOrEqual(1);
    const want = [N_SHARDS - 1 - target.range[0], ...Array.from({ length: indexColumns }, (_, c) => N_SHARDS - 1 - c)];
    expect(pairs).toEqual(want.sort((a, b) => a - b));

    const list = await listQuiltPatches(quiltId, { chain, pool });
    expect(list.map((p) => p.quiltPatchId)).toEqual(stored.map((p) => p.quiltPatchId));
    const json = walrusPatchList(list);
    expect(Object.keys(json[0])).toEqual(['identifier', 'patch_id', 'tags']);
    expect(json[0].tags).toEqual({ kind: 'meta', n: '0' });
    await expect(readQuiltPatch(quiltId, { identifier: 'nope.json' }, { chain, pool })).rejects.toThrow(/has no patch "nope.json"/);
  });

  it('a corrupted column is rejected against the metadata; the reader falls back to the whole quilt', async () => {
    const target = stored[12];
    const path = `/v1/blobs/${quiltId}/slivers/${N_SHARDS - 1 - target.range[0]}/secondary`;
    let tampered = 0;
    const { log, nodeClient } = counting((url, body) => {
      if (new URL(url).pathname !== path) return body;
      tampered++;
      const copy = body.slice();
      copy[20] ^= 0xff;
      return copy;
    });
    const patch = await readQuiltPatch(null, { quiltPatchId: target.quiltPatchId }, { chain, pool, nodeClient });
    expect(tampered).toBeGreaterThan(0);
    expect(Buffer.compare(Buffer.from(patch.data), Buffer.from(files.find((f) => f.identifier === target.identifier)!.contents))).toBe(0);
    expect(log.filter((l) => l.path.includes('/primary')).length).toBeGreaterThan(0); // the fallback read
  });

  it('a blob that is not a quilt is refused with a clear error', async () => {
    const plain = await storeBlob(randomBytes(5000, 7), { chain, signer: wallet, epochs: 1, pool });
    await expect(listQuiltPatches(plain.blobId, { chain, pool })).rejects.toThrow(QuiltFormatError);
    await expect(listQuiltPatches(plain.blobId, { chain, pool })).rejects.toThrow(/is not a quilt/);
    // Exactly a quilt's size for 100 shards (34 × 67 × 4 bytes), random content.
    const sized = randomBytes(34 * 67 * 4, 8);
    sized[0] = 0x02;
    const s2 = await storeBlob(sized, { chain, signer: wallet, epochs: 1, pool });
    await expect(readQuiltPatch(s2.blobId, { identifier: 'x' }, { chain, pool })).rejects.toThrow(/not a QuiltV1 blob/);
  });

  it('bad input stores and pays nothing', async () => {
    const before = await chain.balance(wallet.toSuiAddress());
    const owned = (await chain.ownedObjects(wallet.toSuiAddress())).length;
    const opts = { chain, signer: wallet, epochs: 1, pool };
    await expect(storeQuilt([], opts)).rejects.toThrow(/at least one patch/);
    await expect(
      storeQuilt(
        [
          { identifier: 'a', contents: new Uint8Array(1) },
          { identifier: 'a', contents: new Uint8Array(2) },
        ],
        opts,
      ),
    ).rejects.toThrow(/duplicate/);
    await expect(storeQuilt([{ identifier: 'bad\n', contents: new Uint8Array(1) }], opts)).rejects.toThrow(TuskInputError);
    await expect(
      storeQuilt(
        Array.from({ length: 67 }, (_, i) => ({ identifier: `f${i}`, contents: new Uint8Array(1) })),
        opts,
      ),
    ).rejects.toThrow(/at most 66 patches/);
    await expect(storeQuilt([{ identifier: 'huge', contents: new Uint8Array(34 * 66 * 65534 + 1) }], opts)).rejects.toThrow(/too large/);
    expect(await chain.balance(wallet.toSuiAddress())).toBe(before);
    expect((await chain.ownedObjects(wallet.toSuiAddress())).length).toBe(owned);
  });

  it('the CLI: store-quilt --paths/--blobs --json, list-patches-in-quilt, read-quilt by identifiers and by patch IDs', async () => {
    const src = join(dir, 'cli-src');
    await mkdir(join(src, 'sub'), { recursive: true });
    const a = randomBytes(3000, 1),
      b = randomBytes(10, 2),
      c = randomBytes(0, 3);
    await writeFile(join(src, 'a.txt'), a);
    await writeFile(join(src, 'sub', 'b.bin'), b);
    const single = join(dir, 'c.json');
    await writeFile(single, c);
    const cfg = ['--config', net.configPath];
    const stored = await runTusk(['store-quilt', '--paths', src, single, '--epochs', '1', '--json', ...cfg]);
    expect(stored.code, stored.stderr).toBe(0);
    const res = JSON.parse(stored.stdout);
    expect(Object.keys(res)).toEqual(['blobStoreResult', 'storedQuiltBlobs']);
    const created = res.blobStoreResult.newlyCreated;
    expect(Object.keys(created)).toEqual(['blobObject', 'resourceOperation', 'cost']);
    expect(created.blobObject.encodingType).toBe('RS2');
    expect(created.resourceOperation.registerFromScratch.epochsAhead).toBe(1);
    const qid = created.blobObject.blobId;
    expect(res.storedQuiltBlobs.map((p: { identifier: string }) => p.identifier)).toEqual(['a.txt', 'b.bin', 'c.json']);
    expect(Object.keys(res.storedQuiltBlobs[0])).toEqual(['identifier', 'quiltPatchId', 'range']);

    const list = await runTusk(['list-patches-in-quilt', qid, '--json', ...cfg]);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).patches.map((p: { quiltPatchId: string }) => p.quiltPatchId)).toEqual(
      res.storedQuiltBlobs.map((p: { quiltPatchId: string }) => p.quiltPatchId),
    );

    const out = join(dir, 'cli-out');
    const read = await runTusk(['read-quilt', '--quilt-id', qid, '--identifiers', 'a.txt', 'c.json', '--out', out, ...cfg]);
    expect(read.code, read.stderr).toBe(0);
    expect(Buffer.compare(await readFile(join(out, 'a.txt')), Buffer.from(a))).toBe(0);
    expect((await readFile(join(out, 'c.json'))).length).toBe(0);
    const one = await runTusk(['read-quilt', '--quilt-patch-ids', res.storedQuiltBlobs[1].quiltPatchId, '--json', ...cfg]);
    expect(one.code, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout).patches[0].base64).toBe(Buffer.from(b).toString('base64'));

    // --blobs with identifiers and tags.
    const tagged = await runTusk([
      'store-quilt',
      '--blobs',
      JSON.stringify({ path: single, identifier: 'x 1', tags: { t: 'v' } }),
      JSON.stringify({ path: join(src, 'a.txt') }),
      '--epochs',
      '1',
      '--json',
      ...cfg,
    ]);
    expect(tagged.code, tagged.stderr).toBe(0);
    const tq = JSON.parse(tagged.stdout).blobStoreResult.newlyCreated.blobObject.blobId;
    const tl = JSON.parse((await runTusk(['list-patches-in-quilt', tq, '--json', ...cfg])).stdout);
    expect(tl.patches.map((p: { identifier: string; tags: object }) => [p.identifier, p.tags])).toEqual([
      ['a.txt', {}],
      ['x 1', { t: 'v' }],
    ]);

    // Bad input: duplicate file names; an unknown identifier; no files.
    const dupDir = join(dir, 'dup');
    await mkdir(join(dupDir, 'x'), { recursive: true });
    await writeFile(join(dupDir, 'same'), 'one');
    await writeFile(join(dupDir, 'x', 'same'), 'two');
    const before = await chain.balance(wallet.toSuiAddress());
    const dup = await runTusk(['store-quilt', '--paths', dupDir, '--epochs', '1', ...cfg]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/duplicate quilt identifier "same"/);
    expect(await chain.balance(wallet.toSuiAddress())).toBe(before);
    const missing = await runTusk(['read-quilt', '--quilt-id', qid, '--identifiers', 'zzz', ...cfg]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/has no patch "zzz"/);
    const usage = await runTusk(['store-quilt', '--epochs', '1', ...cfg]);
    expect(usage.code).toBe(2);
  });
});
