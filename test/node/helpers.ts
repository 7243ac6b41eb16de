/**
 * Test helpers for the storage node: a node whose chain-derived state (epoch, shards,
 * registrations) is written into its real SQLite store exactly as the event follower writes it,
 * served over a real HTTP server on 127.0.0.1, with slivers verified on a real codec pool.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { NodeStore } from '../../src/node/store.ts';
import { NodeService, type ServiceLimits } from '../../src/node/service.ts';
import { PoolExpander } from '../../src/node/pool-expander.ts';
import { createNodeServer, type NodeServerOptions } from '../../src/node/server.ts';
import { generateBlsKeyPair, type BlsKeyPair } from '../../src/crypto/bls.ts';
import type { CodecPool } from '../../src/pool/codec-pool.ts';
import { blobIdRotation } from '../../src/codec/blob-id.ts';

/** A private temporary directory, removed by the returned function. */
export function tempDir(prefix = 'tusk-node-test-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A node over a directly seeded store. */
export interface BareNode {
  url: string;
  store: NodeStore;
  service: NodeService;
  keys: BlsKeyPair;
  app: FastifyInstance;
  close(): Promise<void>;
}

/**
 * Starts a node holding `shards` of an `nShards` committee in `epoch`.
 * Pre: `pool` is open (owned by the caller).
 */
export async function startBareNode(o: {
  dir: string;
  nShards: number;
  shards: number[];
  epoch?: number;
  pool: CodecPool;
  maxInFlight?: number;
  maxBodyBytesInFlight?: number;
  limits?: Partial<ServiceLimits>;
  /** Further server options (timeouts, connection caps). */
  server?: Partial<NodeServerOptions>;
}): Promise<BareNode> {
  const store = NodeStore.open(join(o.dir, 'node.db'));
  const keys = generateBlsKeyPair(new Uint8Array(32).fill(7));
  const expander = new PoolExpander(o.pool);
  const service = new NodeService(store, expander, keys, o.limits);
  service.setShardCount(o.nShards);
  const epoch = o.epoch ?? 1;
  store.transaction(() => {
    store.setShards(epoch, o.shards);
    store.setCurrentEpoch(epoch);
  });
  const app = createNodeServer(service, o.nShards, {
    ...o.server,
    maxInFlight: o.maxInFlight,
    maxBodyBytesInFlight: o.maxBodyBytesInFlight,
    nodeId: () => '0x' + '11'.repeat(32),
    eventsPending: () => 0,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${addr.port}`,
    store,
    service,
    keys,
    app,
    async close() {
      service.close();
      await app.close();
      expander.close();
      store.close();
    },
  };
}

let eventSeq = 0;

/** Records a registration as the follower does for a `BlobRegistered` event. */
export function register(
  node: BareNode,
  blobId: Uint8Array,
  o: { objectId?: string; deletable?: boolean; endEpoch?: number } = {},
): string {
  const objectId = o.objectId ?? '0x' + Buffer.from(blobId).toString('hex');
  node.store.registerObject(blobId, objectId, o.deletable ?? false, o.endEpoch ?? 10, { txDigest: 'tx' + eventSeq, eventSeq: eventSeq++ });
  node.service.flushPending(blobId);
  node.service.notifyApplied();
  return objectId;
}

/** The pair held by `shard`. */
export function pairOf(blobId: Uint8Array, shard: number, n: number): number {
  return (n + shard - blobIdRotation(blobId, n)) % n;
}

/** Sends a request and returns status, parsed JSON (when JSON) and raw bytes. */
export async function call(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; json: any; bytes: Uint8Array; headers: Headers }> {
  const res = await fetch(url, init);
  const bytes = new Uint8Array(await res.arrayBuffer());
  let json: any = undefined;
  if ((res.headers.get('content-type') ?? '').includes('json')) json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  return { status: res.status, json, bytes, headers: res.headers };
}

/** PUT of a BCS body. */
export function put(url: string, body: Uint8Array, contentType: string | null = 'application/octet-stream'): ReturnType<typeof call> {
  const headers: Record<string, string> = {};
  if (contentType) headers['content-type'] = contentType;
  return call(url, { method: 'PUT', body: Buffer.from(body), headers });
}

/** The ErrorInfo reason of an AIP-193 error body. */
export function reason(json: any): string | undefined {
  return json?.error?.details?.[0]?.reason;
}
