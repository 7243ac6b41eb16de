/**
 * The HTTP gateway over real HTTP on loopback, against a local network of processes (chain + 4
 * storage nodes, 20 shards): every route's success and error cases with Walrus's JSON, envelope
 * and headers; RFC 9110 ranges, If-Range, If-None-Match; range reads that fetch only the needed
 * systematic slivers (bytes counted) and fall back to recovery when a holder is down; the cache;
 * JWT; oversize and disconnected uploads; the 429 path; metrics; a curl flow; the CLI command.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { startDevNetwork, type DevNetwork } from '../../src/network/dev-network.ts';
import { RemoteChain } from '../../src/chain/remote/client.ts';
import { loadWallet } from '../../src/client/client-config.ts';
import { placeBlob } from '../../src/protocol/placement.ts';
import { blobIdFromString } from '../../src/codec/blob-id.ts';
import { CodecPool } from '../../src/pool/codec-pool.ts';
import { startDaemon, type Daemon } from '../../src/gateway/daemon.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { TUSK_BIN } from '../helpers/cli.ts';
import { call, hs256, rawRequest, reasonOf } from './helpers.ts';
import type { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const exec = promisify(execFile);

let net: DevNetwork;
let dir: string;
let tempDir: string;
let chain: RemoteChain;
let wallet: Ed25519Keypair;
let pool: CodecPool;
let gw: Daemon;
let nodeBytes = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tusk-gw-'));
  tempDir = join(dir, 'tmp');
  await (await import('node:fs/promises')).mkdir(tempDir);
  net = await startDevNetwork({ dataDir: join(dir, 'net'), nodes: 4, nShards: 20 });
  chain = new RemoteChain({ url: net.chainUrl });
  wallet = await loadWallet(join(dir, 'net', 'wallet.key'));
  pool = new CodecPool({ threads: 1 });
  gw = await startDaemon({
    mode: 'daemon',
    chain,
    signer: wallet,
    pool,
    bindAddress: '127.0.0.1:0',
    metricsAddress: '127.0.0.1:0',
    maxBodySize: 4 * 2 ** 20,
    tempDir,
    cacheDir: join(dir, 'cache'),
    cacheMaxBytes: 3 * 2 ** 20,
    cacheFillAfterRanges: 0,
    onNodeBytes: (n) => (nodeBytes += n),
  });
}, 180_000);

afterAll(async () => {
  await gw?.close();
  await pool?.close();
  await net?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function put(data: Uint8Array, query = '', headers: Record<string, string> = {}, base = gw.url) {
  return call(`${base}/v1/blobs${query}`, { method: 'PUT', body: data as Uint8Array<ArrayBuffer>, headers });
}

describe('service routes', () => {
  it('GET /status answers OK; /v1/api is generated from the route table', async () => {
    const s = await call(`${gw.url}/status`);
    expect(s.status).toBe(200);
    expect(s.text).toBe('OK');
    const page = await call(`${gw.url}/v1/api`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const doc = JSON.parse((await call(`${gw.url}/v1/api/openapi.json`)).text);
    const documented = Object.entries(doc.paths)
      .flatMap(([p, ops]) => Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(documented).toEqual(gw.routes.definitions.map((d) => `${d.method} ${d.path}`).sort());
    for (const p of [
      '/v1/blobs',
      '/v1/blobs/{blob_id}',
      '/v1/blobs/by-object-id/{blob_object_id}',
      '/v1/blobs/{blob_id}/byte-range',
      '/status',
    ]) {
      expect(page.text).toContain(`"${p}"`);
    }
    expect(doc.paths['/v1/blobs'].put.parameters.map((p: { name: string }) => p.name)).toContain('send_object_to');
  });

  it('unknown paths are 404, wrong methods 405, CORS preflight is answered', async () => {
    expect((await call(`${gw.url}/v2/nothing`)).status).toBe(404);
    expect((await call(`${gw.url}/v1/blobs`, { method: 'GET' })).status).toBe(405);
    const pre = await call(`${gw.url}/v1/blobs`, {
      method: 'OPTIONS',
      headers: { origin: 'http://x.test', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-headers')).toBe('authorization');
  });
});

describe('publisher PUT /v1/blobs', () => {
  const data = randomBytes(300_000, 1);
  let first: { newlyCreated: { blobObject: { id: string; blobId: string } } };

  it('stores a blob: newlyCreated JSON with Walrus field order; the aggregator reads it back', async () => {
    const a = await put(data, '?epochs=2');
    expect(a.status, a.text).toBe(200);
    first = JSON.parse(a.text);
    const nc = (first as unknown as { newlyCreated: Record<string, unknown> }).newlyCreated;
    expect(Object.keys(nc)).toEqual(['blobObject', 'resourceOperation', 'cost']);
    const bo = nc.blobObject as Record<string, unknown>;
    expect(Object.keys(bo)).toEqual(['id', 'registeredEpoch', 'blobId', 'size', 'encodingType', 'certifiedEpoch', 'storage', 'deletable']);
    expect(Object.keys(bo.storage as object)).toEqual(['id', 'startEpoch', 'endEpoch', 'storageSize']);
    expect(bo).toMatchObject({ size: data.length, encodingType: 'RS2', deletable: true });
    expect(bo.id).toMatch(/^0x[0-9a-f]{64}$/);
    expect(bo.blobId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Object.keys(nc.resourceOperation as object)).toEqual(['registerFromScratch']);
    expect(typeof nc.cost).toBe('number');
    const g = await call(`${gw.url}/v1/blobs/${bo.blobId}`);
    expect(g.status).toBe(200);
    expect(sha(g.body)).toBe(sha(data));
    expect(g.headers.get('x-content-type-options')).toBe('nosniff');
    expect(g.headers.get('cache-control')).toBe('public, max-age=86400, stale-while-revalidate=3600');
    expect(g.headers.get('etag')).toBe(bo.blobId);
    expect(g.headers.get('accept-ranges')).toBe('bytes');
    expect(g.headers.get('content-type')).toBeNull();
    expect(g.headers.get('access-control-allow-origin')).toBe('*');
    expect(g.headers.get('access-control-expose-headers')).toMatch(/ETag.*Content-Range/);
  });

  it('encoding_type=RS8 (Tusk extension) stores an RS8 blob that reads back', async () => {
    const small = data.subarray(0, 50_000);
    const a = await put(small, '?epochs=1&encoding_type=RS8');
    expect(a.status, a.text).toBe(200);
    const bo = (JSON.parse(a.text) as { newlyCreated: { blobObject: Record<string, unknown> } }).newlyCreated.blobObject;
    expect(bo.encodingType).toBe('RS8');
    const g = await call(`${gw.url}/v1/blobs/${bo.blobId}`);
    expect(g.status).toBe(200);
    expect(sha(g.body)).toBe(sha(small));
  });

  it('the same blob again: alreadyCertified with the object; force=true: a new object', async () => {
    const again = JSON.parse((await put(data, '?epochs=1')).text);
    expect(again).toEqual({
      alreadyCertified: {
        blobId: first.newlyCreated.blobObject.blobId,
        object: first.newlyCreated.blobObject.id,
        endEpoch: expect.any(Number),
      },
    });
    const forced = JSON.parse((await put(data, '?epochs=1&force=true')).text);
    expect(forced.newlyCreated.blobObject.id).not.toBe(first.newlyCreated.blobObject.id);
    // Longer than the certified object lasts: it is extended, and only the extra epochs are paid.
    const longer = JSON.parse((await put(data, '?epochs=4')).text);
    expect(longer.newlyCreated.resourceOperation).toEqual({
      reuseAndExtend: { encodedLength: expect.any(Number), epochsExtended: expect.any(Number) },
    });
    expect(longer.newlyCreated.resourceOperation.reuseAndExtend.epochsExtended).toBeGreaterThan(0);
    expect(longer.newlyCreated.cost).toBeGreaterThan(0);
  });

  it('permanent=true: a permanent blob; stored again: alreadyCertified with the certification event', async () => {
    const d = randomBytes(5000, 2);
    const a = JSON.parse((await put(d, '?permanent=true')).text);
    expect(a.newlyCreated.blobObject.deletable).toBe(false);
    const b = JSON.parse((await put(d, '?permanent=true')).text);
    expect(Object.keys(b.alreadyCertified)).toEqual(['blobId', 'event', 'endEpoch']);
    expect(b.alreadyCertified.event).toEqual({
      txDigest: expect.stringMatching(/^[1-9A-HJ-NP-Za-km-z]+$/),
      eventSeq: expect.stringMatching(/^\d+$/),
    });
  });

  it('send_object_to transfers the new Blob object', async () => {
    const to = `0x${'ab'.repeat(32)}`;
    const a = JSON.parse((await put(randomBytes(3000, 3), `?send_object_to=${to}`)).text);
    expect((await chain.getBlob(a.newlyCreated.blobObject.id))?.owner).toBe(to);
  });

  it('bad query parameters are 400: unknown (plain text), deletable+permanent (INVALID_BLOB_PERSISTENCE), bad values', async () => {
    const unknown = await put(new Uint8Array(10), '?cb=123');
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('content-type')).toMatch(/text\/plain/);
    const both = await put(new Uint8Array(10), '?deletable=true&permanent=true');
    expect(both.status).toBe(400);
    expect(JSON.parse(both.text)).toEqual({
      error: {
        status: 'INVALID_ARGUMENT',
        code: 400,
        message: expect.any(String),
        details: [{ '@type': 'ErrorInfo', reason: 'INVALID_BLOB_PERSISTENCE', domain: 'daemon.walrus.space', metadata: {} }],
      },
    });
    const tooLong = await put(randomBytes(100, 9), '?epochs=100000');
    expect([tooLong.status, reasonOf(tooLong)]).toEqual([400, 'INVALID_EPOCHS']);
    for (const q of [
      '?epochs=abc',
      '?encoding_type=RedStuffRaptorQ',
      '?force=yes',
      '?send_object_to=nope',
      `?send_object_to=0x1&share=true`,
    ]) {
      expect((await put(new Uint8Array(10), q)).status, q).toBe(400);
    }
  });

  it('an oversize body is refused with 413 before it is read (declared length) or as it grows (chunked)', async () => {
    const t = performance.now();
    const declared = await rawRequest(gw.url, `PUT /v1/blobs HTTP/1.1\r\nContent-Length: ${64 * 2 ** 20}`, null);
    expect(declared).toMatch(/^HTTP\/1\.1 413/);
    expect(performance.now() - t).toBeLessThan(5000);
    const chunked = await call(`${gw.url}/v1/blobs`, {
      method: 'PUT',
      duplex: 'half',
      body: new ReadableStream({
        pull(c) {
          c.enqueue(new Uint8Array(2 ** 20));
        },
      }),
    } as RequestInit).catch((e) => ({ status: -1, text: String(e) }));
    // Either the 413 arrives, or the socket was cut while we were still sending.
    expect([413, -1]).toContain(chunked.status);
    expect(await readdir(tempDir)).toEqual([]);
  });

  it('a client that disconnects mid-upload leaves no temporary file and registers nothing', async () => {
    const before = (await chain.ownedObjects(wallet.toSuiAddress())).length;
    const got = await rawRequest(gw.url, `PUT /v1/blobs HTTP/1.1\r\nContent-Length: ${2 * 2 ** 20}`, randomBytes(500_000, 4), {
      destroyAfterMs: 300,
    });
    expect(got).toBe('');
    await new Promise((r) => setTimeout(r, 500));
    expect(await readdir(tempDir)).toEqual([]);
    expect((await chain.ownedObjects(wallet.toSuiAddress())).length).toBe(before);
  });

  it('concurrent PUTs of one blob pay once', async () => {
    const d = randomBytes(20_000, 5);
    const answers = await Promise.all([put(d), put(d), put(d)].map(async (p) => JSON.parse((await p).text)));
    expect(answers.filter((a) => a.newlyCreated)).toHaveLength(1);
    expect(answers.filter((a) => a.alreadyCertified)).toHaveLength(2);
    // Different blobs from the same wallet at once: no contention on the payer.
    const distinct = await Promise.all([6, 7, 8].map(async (seed) => put(randomBytes(10_000, seed))));
    expect(distinct.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(new Set(distinct.map((a) => JSON.parse(a.text).newlyCreated.blobObject.id)).size).toBe(3);
  });
});

describe('aggregator reads', () => {
  const data = randomBytes(1_000_000, 10);
  let id: string;
  let objectId: string;

  beforeAll(async () => {
    const a = JSON.parse((await put(data, '?epochs=3')).text);
    id = a.newlyCreated.blobObject.blobId;
    objectId = a.newlyCreated.blobObject.id;
  });

  const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => call(`${gw.url}${path}`, { headers, method });

  it('RFC 9110 single ranges: a-b, a-, -n, clamped end → 206; unsatisfiable → 416; multi-range ignored', async () => {
    const cases: [string, number, number][] = [
      ['bytes=0-99', 0, 99],
      ['bytes=999000-', 999_000, 999_999],
      ['bytes=-500', 999_500, 999_999],
      ['bytes=999990-2000000', 999_990, 999_999],
      ['bytes=123456-654321', 123_456, 654_321],
    ];
    for (const [range, a, b] of cases) {
      const r = await get(`/v1/blobs/${id}`, { range });
      expect(r.status, range).toBe(206);
      expect(r.headers.get('content-range')).toBe(`bytes ${a}-${b}/1000000`);
      expect(r.headers.get('content-length')).toBe(String(b - a + 1));
      expect(r.headers.get('etag')).toBe(id);
      expect(sha(r.body)).toBe(sha(data.subarray(a, b + 1)));
    }
    const bad = await get(`/v1/blobs/${id}`, { range: 'bytes=1000000-' });
    expect(bad.status).toBe(416);
    expect(bad.headers.get('content-range')).toBe('bytes */1000000');
    expect(reasonOf(bad)).toBe('INVALID_BYTE_RANGE');
    expect((await get(`/v1/blobs/${id}`, { range: 'bytes=-0' })).status).toBe(416);
    const multi = await get(`/v1/blobs/${id}`, { range: 'bytes=0-1,5-6' });
    expect(multi.status).toBe(200);
    expect(multi.body.length).toBe(1_000_000);
  });

  it('If-Range: a matching ETag honours the range, another one sends the whole blob; If-None-Match → 304; HEAD', async () => {
    expect((await get(`/v1/blobs/${id}`, { range: 'bytes=0-9', 'if-range': id })).status).toBe(206);
    expect((await get(`/v1/blobs/${id}`, { range: 'bytes=0-9', 'if-range': `"${id}"` })).status).toBe(206);
    expect((await get(`/v1/blobs/${id}`, { range: 'bytes=0-9', 'if-range': 'other' })).status).toBe(200);
    const nm = await get(`/v1/blobs/${id}`, { 'if-none-match': `"${id}"` });
    expect(nm.status).toBe(304);
    expect(nm.headers.get('etag')).toBe(id);
    expect((await get(`/v1/blobs/${id}`, { 'if-none-match': 'W/"x", *' })).status).toBe(304);
    const head = await get(`/v1/blobs/${id}`, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('1000000');
  });

  it('Content-Type mirrors an Accept without * (or a GET Content-Type)', async () => {
    expect((await get(`/v1/blobs/${id}`, { accept: 'image/png', range: 'bytes=0-0' })).headers.get('content-type')).toBe('image/png');
    expect((await get(`/v1/blobs/${id}`, { accept: '*/*', range: 'bytes=0-0' })).headers.get('content-type')).toBeNull();
    expect(
      (await get(`/v1/blobs/${id}`, { accept: 'image/*', 'content-type': 'video/mp4', range: 'bytes=0-0' })).headers.get('content-type'),
    ).toBe('video/mp4');
  });

  it('/byte-range: 200 with ETag id-start-length; length 0, past the end, missing params → 400', async () => {
    const r = await get(`/v1/blobs/${id}/byte-range?start=100&length=50`);
    expect(r.status).toBe(200);
    expect(r.headers.get('etag')).toBe(`${id}-100-50`);
    expect(r.headers.get('content-range')).toBeNull();
    expect(sha(r.body)).toBe(sha(data.subarray(100, 150)));
    expect(reasonOf(await get(`/v1/blobs/${id}/byte-range?start=0&length=0`))).toBe('INVALID_BYTE_RANGE');
    const past = await get(`/v1/blobs/${id}/byte-range?start=999999&length=2`);
    expect(past.status).toBe(400);
    expect(reasonOf(past)).toBe('INVALID_BYTE_RANGE');
    expect((await get(`/v1/blobs/${id}/byte-range?start=1`)).status).toBe(400);
    expect((await get(`/v1/blobs/${id}/byte-range?start=1&length=2&x=1`)).status).toBe(400);
  });

  it('by-object-id: the blob with allow-listed attributes as headers; missing → 404; malformed → 400', async () => {
    await chain.setBlobAttribute(wallet, objectId, 'content-type', 'text/plain');
    await chain.setBlobAttribute(wallet, objectId, 'x-secret', 'no');
    const r = await get(`/v1/blobs/by-object-id/${objectId}`, { range: 'bytes=10-19' });
    expect(r.status).toBe(206);
    expect(r.headers.get('content-type')).toBe('text/plain');
    expect(r.headers.get('x-secret')).toBeNull();
    expect(sha(r.body)).toBe(sha(data.subarray(10, 20)));
    // A specific Accept wins over the attribute.
    expect(
      (await get(`/v1/blobs/by-object-id/${objectId}`, { accept: 'application/x-a', range: 'bytes=0-0' })).headers.get('content-type'),
    ).toBe('application/x-a');
    const missing = await get(`/v1/blobs/by-object-id/0x${'12'.repeat(32)}`);
    expect(missing.status).toBe(404);
    expect(reasonOf(missing)).toBe('BLOB_NOT_FOUND');
    expect((await get('/v1/blobs/by-object-id/zz')).status).toBe(400);
  });

  it('a missing blob is 404 BLOB_NOT_FOUND with no-store; a malformed ID is 400; both consistency flags are 400', async () => {
    const missing = await get(`/v1/blobs/${'A'.repeat(43)}`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('cache-control')).toBe('no-store');
    expect(JSON.parse(missing.text).error).toMatchObject({ status: 'NOT_FOUND', code: 404 });
    expect(reasonOf(missing)).toBe('BLOB_NOT_FOUND');
    expect((await get('/v1/blobs/not-an-id')).status).toBe(400);
    expect(reasonOf(await get(`/v1/blobs/${id}?strict_consistency_check=true&skip_consistency_check=true`))).toBe(
      'INVALID_CONSISTENCY_CHECK',
    );
    expect((await get(`/v1/blobs/${id}?cb=1`)).status).toBe(400);
    expect((await get(`/v1/blobs/${id}?strict_consistency_check=true`, { range: 'bytes=0-0' })).status).toBe(206);
  });

  it('a small range fetches only the slivers holding it; a full read fetches the blob; then it is served from the cache', async () => {
    const big = randomBytes(2_500_000, 11);
    const bid = JSON.parse((await put(big)).text).newlyCreated.blobObject.blobId;
    nodeBytes = 0;
    const r = await get(`/v1/blobs/${bid}`, { range: 'bytes=1200000-1201023' });
    expect(sha(r.body)).toBe(sha(big.subarray(1_200_000, 1_201_024)));
    const rangeBytes = nodeBytes;
    // 20 shards: k_p = 8 rows of k_s = 14 symbols; one row ≈ 2.5 MB / 8 ≈ 313 KB (+ metadata).
    expect(rangeBytes).toBeGreaterThan(big.length / 8);
    expect(rangeBytes).toBeLessThan((2 * big.length) / 8 + 10_000);
    nodeBytes = 0;
    const hits = (await gw.metrics.cacheHits.get()).values[0]?.value ?? 0;
    const full = await get(`/v1/blobs/${bid}`);
    expect(sha(full.body)).toBe(sha(big));
    expect(nodeBytes).toBeGreaterThanOrEqual(big.length);
    expect(nodeBytes).toBeLessThan(big.length * 1.1);
    nodeBytes = 0;
    const again = await get(`/v1/blobs/${bid}`, { range: 'bytes=-1000' });
    expect(sha(again.body)).toBe(sha(big.subarray(big.length - 1000)));
    expect(nodeBytes).toBe(0);
    expect((await gw.metrics.cacheHits.get()).values[0].value).toBe(hits + 1);
    expect(gw.cache!.size).toBeLessThanOrEqual(3 * 2 ** 20);
  });

  it('a blocklisted blob is 451 FORBIDDEN_BLOB; a blob over --max-blob-size is 403 BLOB_TOO_LARGE', async () => {
    const list = join(dir, 'blocklist.yaml');
    await writeFile(list, `# blocked\n- ${id}\n`);
    const agg = await startDaemon({
      mode: 'aggregator',
      chain,
      pool,
      bindAddress: '127.0.0.1:0',
      metricsAddress: null,
      blocklist: list,
      maxBlobSize: 1000,
    });
    try {
      const blocked = await call(`${agg.url}/v1/blobs/${id}`);
      expect([blocked.status, reasonOf(blocked)]).toEqual([451, 'FORBIDDEN_BLOB']);
      expect((await call(`${agg.url}/v1/blobs/by-object-id/${objectId}`)).status).toBe(451);
      const other = JSON.parse((await put(randomBytes(2000, 13))).text).newlyCreated.blobObject.blobId;
      const large = await call(`${agg.url}/v1/blobs/${other}`);
      expect(large.status).toBe(403);
      expect(JSON.parse(large.text).error).toMatchObject({ status: 'SIZE_EXCEEDED', code: 403, details: [{ reason: 'BLOB_TOO_LARGE' }] });
    } finally {
      await agg.close();
    }
  });

  it('repeated ranges of a hot blob: after the second miss the blob is cached in the background; later ranges skip the nodes', async () => {
    const d = randomBytes(700_000, 14);
    const bid = JSON.parse((await put(d)).text).newlyCreated.blobObject.blobId;
    let fetched = 0;
    const agg = await startDaemon({
      mode: 'aggregator',
      chain,
      pool,
      bindAddress: '127.0.0.1:0',
      metricsAddress: null,
      cacheDir: join(dir, 'cache-hot'),
      cacheMaxBytes: 2 ** 20,
      cacheFillAfterRanges: 2,
      onNodeBytes: (n) => (fetched += n),
    });
    try {
      const range = async (a: number) => {
        const r = await call(`${agg.url}/v1/blobs/${bid}`, { headers: { range: `bytes=${a}-${a + 999}` } });
        expect(sha(r.body)).toBe(sha(d.subarray(a, a + 1000)));
      };
      await range(0);
      expect(agg.cache!.lookup(bid)).toBeNull(); // one range never downloads the blob
      await range(5000);
      for (let i = 0; i < 100 && agg.cache!.lookup(bid) === null; i++) await new Promise((r) => setTimeout(r, 100));
      expect(agg.cache!.lookup(bid)).not.toBeNull();
      const before = fetched;
      await range(650_000);
      expect(fetched).toBe(before);
    } finally {
      await agg.close();
    }
  });

  it('Prometheus metrics with Walrus http_server_* names on their own address', async () => {
    await get(`/v1/blobs/${id}`, { range: 'bytes=0-0' });
    const m = await call(gw.metricsUrl!);
    expect(m.status).toBe(200);
    for (const name of [
      'http_server_active_requests',
      'http_server_request_duration_seconds_bucket',
      'http_server_request_body_size_bytes',
      'http_server_response_body_size_bytes',
      'tusk_gateway_sliver_bytes_fetched_total',
    ]) {
      expect(m.text).toContain(name);
    }
    expect(m.text).toMatch(/http_route="\/v1\/blobs\/\{blob_id\}"/);
    expect(m.text).toMatch(/http_server_request_duration_seconds_count\{[^}]*http_response_part="headers"/);
    expect(m.text).toMatch(/http_server_request_duration_seconds_count\{[^}]*http_response_part="payload"/);
  });

  it('with the holder of a needed systematic sliver down, the range is read through recovery', async () => {
    const d = randomBytes(600_000, 12);
    const bid = JSON.parse((await put(d)).text).newlyCreated.blobObject.blobId;
    await new Promise((r) => setTimeout(r, 1500)); // let every node receive its slivers
    const holder = placeBlob(await chain.committee(), blobIdFromString(bid)).find((p) => p.pairs.includes(0))!;
    const index = net.nodes.findIndex((n) => n.nodeId === holder.node.nodeId);
    await net.stopNode(index);
    try {
      const agg = await startDaemon({
        mode: 'aggregator',
        chain,
        pool,
        bindAddress: '127.0.0.1:0',
        metricsAddress: null,
        nodeTimeoutMs: 3000,
      });
      try {
        const r = await call(`${agg.url}/v1/blobs/${bid}`, { headers: { range: 'bytes=10-20009' } });
        expect(r.status).toBe(206);
        expect(sha(r.body)).toBe(sha(d.subarray(10, 20010)));
      } finally {
        await agg.close();
      }
    } finally {
      await net.startNode(index);
    }
  });
});

describe('JWT-authenticated publisher', () => {
  const secret = 'test-secret';
  let pub: Daemon;
  beforeAll(async () => {
    pub = await startDaemon({
      mode: 'publisher',
      chain,
      signer: wallet,
      pool,
      bindAddress: '127.0.0.1:0',
      metricsAddress: null,
      tempDir,
      jwt: { decodeSecret: secret, verifyUpload: true },
    });
  });
  afterAll(() => pub?.close());
  const now = () => Math.floor(Date.now() / 1000);
  const putWith = (token: string | null, body = randomBytes(100, 20), query = '') =>
    put(body, query, token === null ? {} : { authorization: `Bearer ${token}` }, pub.url);

  it('accepts a valid token once; a replay is 429 TOKEN_ALREADY_USED', async () => {
    const t = hs256({ exp: now() + 600, jti: 'a1' }, secret);
    expect((await putWith(t)).status).toBe(200);
    const replay = await putWith(t);
    expect(replay.status).toBe(429);
    expect(reasonOf(replay)).toBe('TOKEN_ALREADY_USED');
    expect(JSON.parse(replay.text).error.details[0].domain).toBe('auth.publisher.walrus.space');
  });

  it('rejects: no header 400 text, bad signature 401, expired 504, malformed 400, size/epochs claims 400', async () => {
    const none = await putWith(null);
    expect(none.status).toBe(400);
    expect(none.headers.get('content-type')).toMatch(/text\/plain/);
    const bad = await putWith(hs256({ exp: now() + 600, jti: 'b1' }, 'wrong'));
    expect([bad.status, reasonOf(bad)]).toEqual([401, 'INVALID_SIGNATURE']);
    const expired = await putWith(hs256({ exp: now() - 3600, jti: 'b2' }, secret));
    expect([expired.status, reasonOf(expired)]).toEqual([504, 'EXPIRED_SIGNATURE']);
    const garbage = await putWith('not.a.jwt');
    expect([garbage.status, reasonOf(garbage)]).toEqual([400, 'INVALID_TOKEN']);
    const size = await putWith(hs256({ exp: now() + 600, jti: 'b3', max_size: 10 }, secret));
    expect([size.status, reasonOf(size)]).toEqual([400, 'INVALID_SIZE']);
    const epochs = await putWith(hs256({ exp: now() + 600, jti: 'b4', epochs: 3 }, secret), undefined, '?epochs=2');
    expect([epochs.status, reasonOf(epochs)]).toEqual([400, 'INVALID_EPOCHS']);
    const both = await putWith(hs256({ exp: now() + 600, jti: 'b5', size: 1, max_size: 2 }, secret));
    expect([both.status, reasonOf(both)]).toEqual([400, 'INCONSISTENT_TOKEN']);
    // A failed check frees the jti again: the same token with a fitting upload is accepted.
    expect((await putWith(hs256({ exp: now() + 600, jti: 'b4', epochs: 3 }, secret), undefined, '?epochs=3')).status).toBe(200);
  });
});

describe('admission', () => {
  it('beyond the publisher buffer, requests are refused with 429 (plain text)', async () => {
    const pub = await startDaemon({
      mode: 'publisher',
      chain,
      signer: wallet,
      pool,
      bindAddress: '127.0.0.1:0',
      metricsAddress: null,
      tempDir,
      publisherMaxBufferSize: 1,
      publisherMaxConcurrentRequests: 1,
    });
    try {
      // The first upload holds the only slot: it sends half its body and waits.
      const held = rawRequest(pub.url, 'PUT /v1/blobs HTTP/1.1\r\nContent-Length: 1000', new Uint8Array(500), { destroyAfterMs: 1500 });
      await new Promise((r) => setTimeout(r, 300));
      const r = await put(new Uint8Array(10), '', {}, pub.url);
      expect(r.status).toBe(429);
      expect(r.text).toBe('the publisher is receiving too many requests; please try again later');
      await held;
      await new Promise((r) => setTimeout(r, 200));
      expect((await put(randomBytes(50, 30), '', {}, pub.url)).status).toBe(200);
    } finally {
      await pub.close();
    }
  });
});

describe('a store without a quorum', () => {
  it('answers 504 INSUFFICIENT_CONFIRMATIONS; the retry once the nodes are back pays nothing more', async () => {
    const pub = await startDaemon({
      mode: 'publisher',
      chain,
      signer: wallet,
      pool,
      bindAddress: '127.0.0.1:0',
      metricsAddress: null,
      tempDir,
      nodeTimeoutMs: 2000,
      storeRetries: 0,
    });
    const d = randomBytes(40_000, 50);
    try {
      // Two of four nodes (10 of 20 shards) down: the other two cannot make a quorum (≥ 14 shards).
      await net.stopNode(2);
      await net.stopNode(3);
      let first;
      try {
        first = await put(d, '?epochs=2', {}, pub.url);
      } finally {
        await net.startNode(2);
        await net.startNode(3);
      }
      expect(first.status, first.text).toBe(504);
      expect(reasonOf(first)).toBe('INSUFFICIENT_CONFIRMATIONS');
      const before = await chain.balance(wallet.toSuiAddress());
      const again = JSON.parse((await put(d, '?epochs=2', {}, pub.url)).text);
      expect(again.newlyCreated.resourceOperation).toEqual({ reuseRegistration: { encodedLength: expect.any(Number) } });
      expect(again.newlyCreated.cost).toBe(0);
      expect(await chain.balance(wallet.toSuiAddress())).toBe(before);
    } finally {
      await pub.close();
    }
    // Closing waits for the uploads that go on after certification; then their spool is gone too.
    expect(await readdir(tempDir)).toEqual([]);
  });
});

describe('clients', () => {
  it('a Walrus-style curl flow: store, read, range, by-object-id', async (ctx) => {
    const curl = await exec('curl', ['--version']).then(
      () => true,
      () => false,
    );
    if (!curl) {
      console.warn('\n\n*** SKIPPED: curl is not installed; the curl flow was NOT tested ***\n');
      ctx.skip();
    }
    const file = join(dir, 'curl-in.bin');
    const d = randomBytes(70_000, 40);
    await writeFile(file, d);
    const { stdout } = await exec('curl', ['-sS', '-X', 'PUT', `${gw.url}/v1/blobs?epochs=2`, '--upload-file', file]);
    const res = JSON.parse(stdout);
    const bid = res.newlyCreated.blobObject.blobId;
    const out = join(dir, 'curl-out.bin');
    await exec('curl', ['-sSf', `${gw.url}/v1/blobs/${bid}`, '-o', out]);
    expect(sha(new Uint8Array(await (await import('node:fs/promises')).readFile(out)))).toBe(sha(d));
    const part = await exec('curl', ['-sSf', '-r', '100-199', `${gw.url}/v1/blobs/${bid}`], { encoding: 'buffer' });
    expect(sha(new Uint8Array(part.stdout))).toBe(sha(d.subarray(100, 200)));
    const byObj = await exec('curl', [
      '-sSf',
      '-D',
      '-',
      '-o',
      '/dev/null',
      `${gw.url}/v1/blobs/by-object-id/${res.newlyCreated.blobObject.id}`,
    ]);
    expect(byObj.stdout).toMatch(/^HTTP\/1\.1 200/);
    expect(byObj.stdout.toLowerCase()).toContain(`etag: ${bid.toLowerCase()}`);
    // An oversize upload with Expect: 100-continue is refused before curl sends the body.
    const big = join(dir, 'curl-big.bin');
    await writeFile(big, new Uint8Array(5 * 2 ** 20));
    const over = await exec('curl', [
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{size_upload}',
      '-H',
      'Expect: 100-continue',
      '-X',
      'PUT',
      '--upload-file',
      big,
      `${gw.url}/v1/blobs`,
    ]);
    const [code, uploaded] = over.stdout.split(' ').map(Number);
    expect(code).toBe(413);
    expect(uploaded).toBeLessThan(2 ** 20);
  });

  it('`tusk aggregator` runs from the CLI and stops cleanly on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [TUSK_BIN, 'aggregator', '--config', net.configPath, '--bind-address', '127.0.0.1:0', '--metrics-address', 'none', '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      child.once('exit', (c) => reject(new Error(`exited ${c}`)));
    });
    const { url } = JSON.parse(line);
    expect((await call(`${url}/status`)).text).toBe('OK');
    // An aggregator serves no publisher route.
    expect((await call(`${url}/v1/blobs`, { method: 'PUT', body: 'x' })).status).toBe(404);
    child.kill('SIGTERM');
    expect(await new Promise((r) => child.once('exit', r))).toBe(0);
  });
});
