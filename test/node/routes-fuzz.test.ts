/**
 * Property-based fuzzing (fast-check) of the HTTP routes over real sockets on 127.0.0.1: a storage
 * node (real SQLite store, codec pool) and a chain server (real process-less fastify app on a real
 * LocalChain). Requests mix the real route shapes with hostile segments, queries, content types
 * and bodies — random bytes and mutations of valid metadata and slivers. The contract: the server
 * answers every request (no hang, no crash), never with a 500, and a rejected request stores
 * nothing (the node's metadata and sliver counts and the chain's state do not move).
 * Requests per property: 150 by default, 100,000 under TUSK_SLOW=1 (`npm run test:slow`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import { CodecPool } from '../../src/pool/codec-pool.ts';
import { encodeBlob } from '../../src/codec/encode.ts';
import { LocalChain } from '../../src/chain/local/index.ts';
import { startChainServer, type ChainServer } from '../../src/chain/remote/server.ts';
import { encodeChainJson } from '../../src/chain/json.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { pairOf, register, startBareNode, tempDir, type BareNode } from './helpers.ts';

const RUNS = Number(process.env.TUSK_FUZZ_RUNS) || (process.env.TUSK_SLOW ? 100_000 : 150);
const n = 10;
const blob = encodeBlob(randomBytes(5000, 17), { nShards: n });
const otherBlob = encodeBlob(randomBytes(700, 18), { nShards: n });

let tmp: ReturnType<typeof tempDir>;
let pool: CodecPool;
let node: BareNode;
let chain: LocalChain;
let chainServer: ChainServer;

beforeAll(async () => {
  tmp = tempDir('tusk-fuzz-');
  pool = new CodecPool({ threads: 1 });
  node = await startBareNode({ dir: tmp.dir, nShards: n, shards: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], pool });
  register(node, blob.blobId);
  chain = await LocalChain.open({ path: join(tmp.dir, 'chain.sqlite'), nShards: n });
  chainServer = await startChainServer({ chain, host: '127.0.0.1', port: 0, maxWaitMs: 200 });
});

afterAll(async () => {
  await chainServer?.close();
  await chain?.close();
  await node?.close();
  await pool?.close();
  tmp?.remove();
});

/** Mutations of `valid`, or random bytes. */
function bodyFrom(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.nat({ max: valid.length }).map((k) => valid.slice(0, k)),
    fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })).map(([p, b]) => {
      const out = valid.slice();
      out[p % out.length] ^= 1 << b;
      return out;
    }),
    fc.constant(valid),
  );
}

const segment = fc.oneof(
  fc.constantFrom(
    blob.blobIdString,
    otherBlob.blobIdString,
    'AAAA',
    '%00',
    '..',
    '%2e%2e',
    'x'.repeat(300),
    '0',
    '-1',
    '65536',
    'primary',
    'secondary',
    'tertiary',
  ),
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
);
const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom(
    '?pending=true',
    '?targetSliver=1&targetType=primary',
    '?targetSliver=999999&targetType=secondary',
    '?epoch=-1',
    '?epoch=1e99',
    '?targetSlivers=1,2&targetType=x',
    '?wait_for_registration=true&wait_millis=5',
    '?cursor=%ff&limit=-5',
  ),
  fc
    .dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 12 }), { maxKeys: 3 })
    .map((d) => '?' + new URLSearchParams(d).toString()),
);
const contentType = fc.constantFrom(
  undefined,
  'application/octet-stream',
  'application/json',
  'text/plain',
  'multipart/form-data; boundary=x',
  '\u0000',
);

/** Sends one request; the answer's status (a thrown fetch error means the server dropped us). */
async function send(url: string, method: string, ct: string | undefined, body: Uint8Array | undefined): Promise<number> {
  const headers: Record<string, string> = {};
  if (ct !== undefined && /^[\t\x20-\x7e]*$/.test(ct)) headers['content-type'] = ct;
  const res = await fetch(url, {
    method,
    headers,
    body: body && method !== 'GET' && method !== 'HEAD' ? Buffer.from(body) : undefined,
    signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('HTTP routes under fuzzing', () => {
  it('the storage node: no 500, no hang, and nothing stored by a rejected request', async () => {
    const pair = pairOf(blob.blobId, 3, n);
    const sliver = new Uint8Array(blob.pairs[pair].primary.toBcs());
    const metadata = new Uint8Array(blob.metadata.toBcs());
    const path = fc.oneof(
      fc
        .tuple(
          segment,
          fc.constantFrom(
            '/metadata',
            '/metadata/status',
            '/status',
            '/confirmation/permanent',
            '/recoverySymbols',
            '/decodingSymbols',
            '',
          ),
        )
        .map(([id, tail]) => `/v1/blobs/${id}${tail}`),
      fc.tuple(segment, segment, segment).map(([id, i, axis]) => `/v1/blobs/${id}/slivers/${i}/${axis}`),
      fc.tuple(segment, segment).map(([id, x]) => `/v1/blobs/${id}/confirmation/deletable/${x}`),
      fc.tuple(segment, segment).map(([id, axis]) => `/v1/blobs/${id}/inconsistencyProof/${axis}`),
      fc.constant(`/v1/blobs/${blob.blobIdString}/slivers/${pair}/primary`),
      fc.constantFrom('/v1/health', '/', '/v1', '/v1/blobs'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'OPTIONS'),
        path,
        query,
        contentType,
        fc.oneof(bodyFrom(sliver), bodyFrom(metadata)),
        async (method, p, q, ct, body) => {
          const before = node.store.counts();
          const status = await send(node.url + p + q, method, ct, body);
          if (status >= 500 && status !== 503) throw new Error(`${method} ${p}${q} → ${status}`);
          if (status >= 400) expect(node.store.counts()).toEqual(before);
          return true;
        },
      ),
      { numRuns: RUNS },
    );
    // Still healthy and serving after the storm.
    expect(await send(`${node.url}/v1/health`, 'GET', undefined, undefined)).toBe(200);
  });

  it('the chain server: no 500, no hang, and a rejected transaction changes nothing', async () => {
    const url = chainServer.url;
    const path = fc.oneof(
      fc.constantFrom(
        '/v1/health',
        '/v1/system-state',
        '/v1/committee',
        '/v1/nodes',
        '/v1/events',
        '/v1/transactions',
        '/v1/faucet',
        '/v1/advance-epoch',
      ),
      fc
        .tuple(fc.constantFrom('/v1/balances/', '/v1/blobs/', '/v1/storage/', '/v1/staked-wal/', '/v1/nodes/', '/v1/blob-ids/'), segment)
        .map(([a, b]) => a + b),
      fc.tuple(segment).map(([a]) => `/v1/owners/${a}/objects`),
    );
    const json = fc.oneof(
      fc.json().map((s) => new TextEncoder().encode(s)),
      fc.constant(new TextEncoder().encode('{"bytes":"AAAA","signature":"x"}')),
      fc.constant(new TextEncoder().encode('{"recipient":"0x' + '1'.repeat(64) + '","amount":"-5"}')),
      fc.uint8Array({ maxLength: 200 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), path, query, contentType, json, async (method, p, q, ct, body) => {
        // Faucet and advance-epoch are dev routes that succeed by design; a rejected call must not move the state.
        const before = encodeChainJson(await chain.supplyAudit());
        const epoch = (await chain.systemState()).epoch;
        const status = await send(url + p + q, method, ct, body);
        if (status >= 500 && status !== 503) throw new Error(`${method} ${p}${q} → ${status}`);
        if (status >= 400) {
          expect(encodeChainJson(await chain.supplyAudit())).toBe(before);
          expect((await chain.systemState()).epoch).toBe(epoch);
        }
        return true;
      }),
      { numRuns: RUNS },
    );
    expect(await send(`${url}/v1/health`, 'GET', undefined, undefined)).toBe(200);
  });
});
